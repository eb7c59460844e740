"""Suites: a bad suite is refused (exit 2, naming the field) before anything runs; hashes and expansion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import ROOT

from bench.suite import load_suite
from placement.errors import InputError


def _suite(**over) -> dict:
    data = {"name": "s", "instances": [{"factory": "tiny"}], "methods": [{"method": "greedy"}], "seeds": [0, 1], "repeats": 2}
    data.update(over)
    return data


def test_expansion_and_dry_run(write_suite, cli, capsys, tmp_path):
    path = write_suite(_suite(methods=[{"method": "greedy"}, {"method": "milp", "options": {"routes": "upward"}}]))
    suite = load_suite(path)
    assert len(suite.runs) == 1 * 2 * 2 * 2
    assert len({r.key for r in suite.runs}) == len(suite.runs)
    assert [m.name for m in suite.spec.methods] == ["greedy", "milp routes=upward"]
    code, out, _ = cli(capsys, "bench", "run", str(path), "--db", str(tmp_path / "r.sqlite"), "--dry-run")
    assert code == 0 and "8 runs (0 stored" in out


@pytest.mark.parametrize(
    "over, field, words",
    [
        ({"methods": [{"method": "no-such-method"}]}, "methods[0].method", "unknown method 'no-such-method'"),
        ({"methods": [{"method": "milp", "options": {"rootes": "upward"}}]}, "methods[0].options.rootes", "has no option 'rootes'"),
        ({"methods": [{"method": "greedy", "option": {}}]}, "methods[0].option", ""),
        ({"instances": [{"file": "missing.yaml"}]}, "instances[0].file", "not found"),
        ({"instances": [{"factory": "tiny", "args": {"bogus": 1}}]}, "instances[0].args", "bogus"),
        ({"seeds": "0"}, "seeds", ""),
        ({"kind": "online"}, "traces", "needs 'traces'"),
        ({"kind": "pareto"}, "objectives", "needs 'objectives'"),
        ({"tables": [{"name": "t", "value": "speed"}]}, "tables[0].value", ""),
        ({"tables": [{"name": "t", "reference": "milp"}]}, "tables[0].reference", "not a method label"),
    ],
)
def test_bad_suite_exits_2_naming_the_field(write_suite, cli, capsys, tmp_path, over, field, words):
    path = write_suite(_suite(**over))
    db = tmp_path / "r.sqlite"
    code, _, err = cli(capsys, "bench", "run", str(path), "--db", str(db))
    assert code == 2
    assert f"{path}" in err and field in err and words in err
    assert "Traceback" not in err
    assert not db.exists()  # refused before anything ran (or was created)


def test_plugin_methods_and_their_options_are_checked(write_suite, plugin):
    ok = load_suite(write_suite(_suite(plugins=[plugin], methods=[{"method": "bench-sleep", "options": {"sleep_s": 0}}])))
    assert ok.runs[0].plugins == (plugin,)
    with pytest.raises(InputError, match="no option 'sleep'"):
        load_suite(write_suite(_suite(plugins=[plugin], methods=[{"method": "bench-sleep", "options": {"sleep": 0}}])))


def test_hash_covers_profile_contents(write_suite, tmp_path):
    """The instance hash changes when a profile the instance names changes, and only then."""
    (tmp_path / "profiles").mkdir()
    shutil.copy(ROOT / "instances" / "profiles" / "resnet18.json", tmp_path / "profiles" / "resnet18.json")
    inst = {
        "name": "one", "nodes": [{"id": "d", "device": "rpi4"}, {"id": "c", "device": "a100", "tier": "cloud"}],
        "links": [{"u": "d", "v": "c", "bandwidth_bytes_per_s": 1e7, "latency_s": 0.01}],
        "models": [{"id": "r", "task": "t", "accuracy": 0.7, "input_bytes": 602112, "profile": "profiles/resnet18.json"}],
        "demand": [{"origin": "d", "task": "t", "rate_rps": 1.0, "max_latency_s": 5.0}],
    }
    (tmp_path / "inst.json").write_text(json.dumps(inst))
    path = write_suite(_suite(instances=[{"file": "inst.json"}]))
    first = load_suite(path).instances[0]
    assert load_suite(path).instances[0].sha256 == first.sha256
    model = json.loads(first.json)["models"][0]
    assert model["profile"] is None and model["layers"]  # inlined: workers need no files
    prof_path = tmp_path / "profiles" / "resnet18.json"
    prof = json.loads(prof_path.read_text())
    prof["layers"][0]["macs"] *= 2
    prof_path.write_text(json.dumps(prof))
    assert load_suite(path).instances[0].sha256 != first.sha256


def test_generator_seeds_and_modify(write_suite):
    gen = str(Path(ROOT / "benchmarks" / "instances" / "S.yaml"))
    suite = load_suite(write_suite(_suite(instances=[{"generator": gen, "seeds": [1, 2], "label": "S", "modify": {"rate_scale": 0.5, "max_latency_s": 100.0}}])))
    labels = [i.label for i in suite.instances]
    assert labels == ["S@1", "S@2"] and {i.group for i in suite.instances} == {"S"}
    assert suite.instances[0].sha256 != suite.instances[1].sha256
    data = json.loads(suite.instances[0].json)
    assert {d["max_latency_s"] for d in data["demand"]} == {100.0}
