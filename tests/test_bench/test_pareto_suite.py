"""Pareto suites: instances x objectives x pareto methods run into the database, fronts stored, tables, the front figure."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
import yaml
from helpers import random_instance_data
from pareto_oracles import enumerated_front

from bench.suite import load_suite
from placement import Instance
from placement.errors import InputError

pytest.importorskip("pymoo")


@pytest.fixture
def pareto_files(tmp_path):
    data = random_instance_data(1, routing="unsplittable", tight=True)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


def _suite(**over) -> dict:
    data = {
        "name": "par", "kind": "pareto", "instances": [{"file": "tiny.yaml"}],
        "objectives": ["latency,energy", ["latency", "inaccuracy", "network"]],
        "methods": [{"method": "epsilon"}, {"method": "weights", "options": {"points": 4}},
                    {"method": "nsga2", "options": {"pop": 16, "gens": 8}}],
        "seeds": [0],
        "tables": [{"name": "hv", "rows": ["instance", "objectives"], "value": "common_hypervolume", "better": "higher",
                    "reference": "epsilon", "digits": 6},
                   {"name": "points", "rows": ["instance", "objectives"], "value": "front_points", "digits": 0}],
        "figures": [{"name": "front", "kind": "front"}, {"name": "nsga", "kind": "front", "methods": ["nsga2*"]}],
    }
    data.update(over)
    return data


def test_pareto_suite_runs_stores_fronts_reports_and_plots(pareto_files, cli, capsys, tmp_path):
    path = pareto_files / "par.yaml"
    path.write_text(yaml.safe_dump(_suite()))
    suite = load_suite(path)
    assert len(suite.runs) == 1 * 2 * 3 and len({r.key for r in suite.runs}) == 6
    assert {r.objectives for r in suite.runs} == {"latency,energy", "latency,inaccuracy,network"}
    db = tmp_path / "r.sqlite"
    code, _, err = cli(capsys, "bench", "run", str(path), "--db", str(db), "-q")
    assert code == 0, err
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM runs")]
    assert len(rows) == 6, rows
    by = {(r["method_label"], r["objectives"]): r for r in rows}
    eps = by[("epsilon", "latency,energy")]
    assert eps["status"] == "optimal", eps["message"]  # an exact front
    assert by[("nsga2 gens=8 pop=16", "latency,energy")]["status"] == "heuristic"
    # the stored front is the exact one: equal to the enumerated front of the instance
    front = json.loads((tmp_path / "r.sqlite.files" / "fronts" / f"{eps['front_sha256']}.json").read_text())
    assert front["method"] == "epsilon" and len(front["points"]) == eps["front_points"] > 1
    inst = Instance.from_spec(_spec(suite), None, "tiny")
    exact = enumerated_front(inst, ["latency", "energy"])
    got = np.array(sorted([p["objectives"]["latency"], p["objectives"]["energy"]] for p in front["points"]))
    np.testing.assert_allclose(got, exact, rtol=1e-7, atol=1e-12)
    assert eps["hypervolume"] > 0 and len(json.loads(eps["reference_point"])) == 2
    # common hypervolume: epsilon (the exact front) is the best of its row, every ratio <= 1
    code, out, err = cli(capsys, "bench", "report", str(db), "--table", "hv", "--format", "csv")
    assert code == 0, err
    cells = [line.split(",") for line in out.strip().splitlines()[1:]]
    for c in cells:
        if c[3] == "epsilon":
            assert c[8] == "1", c  # best
    code, out, err = cli(capsys, "bench", "report", str(db), "--table", "hv")
    assert code == 0 and "common_hypervolume" in out and "epsilon / epsilon" not in out and "/ epsilon" in out
    # the front figures
    pytest.importorskip("matplotlib")
    code, out, err = cli(capsys, "bench", "plot", str(db), "--out-dir", str(tmp_path / "fig"))
    assert code == 0, err
    assert (tmp_path / "fig" / "front.png").stat().st_size > 1000 and (tmp_path / "fig" / "nsga.png").is_file()


def _spec(suite):
    from placement.schema import InstanceSpec

    return InstanceSpec.model_validate_json(suite.instances[0].json)


@pytest.mark.parametrize(
    "over, field, words",
    [
        ({"objectives": []}, "objectives", "needs 'objectives'"),
        ({"objectives": ["latency,speed"]}, "objectives[0]", "two or more distinct objectives"),
        ({"objectives": ["latency"]}, "objectives[0]", "two or more"),
        ({"methods": [{"method": "milp"}]}, "methods[0].method", "is a static method"),
        ({"methods": [{"method": "epsilon", "options": {"objectives": "latency,energy"}}]}, "methods[0].options.objectives", "'objectives' field"),
        ({"methods": [{"method": "nsga2", "options": {"popsize": 3}}]}, "methods[0].options.popsize", "has no option"),
    ],
)
def test_bad_pareto_suite_names_the_field(pareto_files, over, field, words):
    path = pareto_files / "bad.yaml"
    path.write_text(yaml.safe_dump(_suite(**over)))
    with pytest.raises(InputError) as info:
        load_suite(path)
    text = str(info.value)
    assert field in text and words in text, text


def test_objectives_belong_to_pareto_suites(write_suite):
    path = write_suite({"name": "s", "instances": [{"factory": "tiny"}], "methods": [{"method": "greedy"}], "objectives": ["latency,energy"]})
    with pytest.raises(InputError, match="apply to pareto suites only"):
        load_suite(path)
