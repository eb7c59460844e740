"""Profile suites: torchvision models x profilers, MACs against the published figures, counting time."""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from bench.suite import load_suite
from placement.errors import InputError

pytest.importorskip("torchvision")


def _suite(**over) -> dict:
    data = {"name": "prof", "kind": "profile", "models": ["mobilenet_v3_small"], "methods": [{"method": "idnplan"}, {"method": "fcm"}],
            "tables": [{"name": "err", "rows": ["instance"], "value": "macs_error_pct", "digits": 3}],
            "figures": [{"name": "err", "kind": "bars", "value": "macs_error_pct"}]}
    data.update(over)
    return data


@pytest.mark.slow
@pytest.mark.torch
def test_profile_suite_counts_macs_against_published(tmp_path, cli, capsys):
    path = tmp_path / "prof.yaml"
    path.write_text(yaml.safe_dump(_suite()))
    assert len(load_suite(path).runs) == 2
    db = tmp_path / "r.sqlite"
    code, _, err = cli(capsys, "bench", "run", str(path), "--db", str(db), "-q")
    assert code == 0, err
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = {r["method"]: dict(r) for r in con.execute("SELECT * FROM runs")}
    ours = rows["idnplan"]
    assert ours["status"] == "feasible", ours["message"]
    assert ours["published_macs"] == pytest.approx(0.057e9, rel=0.01)  # torchvision's figure (0.06 GFLOPS, counting MACs)
    assert abs(ours["macs_error_pct"]) < 5 and ours["method_s"] > 0 and ours["layers"] > 5
    assert rows["fcm"]["macs"] == pytest.approx(ours["macs"], rel=0.05)
    code, out, _ = cli(capsys, "bench", "report", str(db))
    assert code == 0 and "macs_error_pct" in out and "published figure" in out


@pytest.mark.parametrize(
    "over, field, words",
    [
        ({"methods": [{"method": "milp"}]}, "methods[0].method", "unknown profiler 'milp'"),
        ({"models": ["resnet17"]}, "models[0]", "unknown torchvision model"),
        ({"models": []}, "models", "needs 'models'"),
        ({"instances": [{"factory": "tiny"}]}, "instances", "profiles 'models'"),
        ({"methods": [{"method": "fcm", "options": {"x": 1}}]}, "methods[0]", "takes no options"),
    ],
)
def test_bad_profile_suite_names_the_field(tmp_path, over, field, words):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_suite(**over)))
    with pytest.raises(InputError) as info:
        load_suite(path)
    assert field in str(info.value) and words in str(info.value), str(info.value)
