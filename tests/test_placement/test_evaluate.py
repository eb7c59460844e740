"""The evaluator: the objective against a hand computation, and every kind of violation."""

from __future__ import annotations

import copy
import json

import pytest
from helpers import write_yaml

from placement import evaluate, load_instance
from placement.cli import main
from placement.plan import Plan, read_plan, write_plan

# Route figures of the line instance, computed by hand in test_routes.py
LAT = {"r1": 0.6, "r2": 0.286, "r3": 0.3966}
ENERGY = {"r1": 0.6, "r2": 0.1533, "r3": 0.1543}
COST = {k: LAT[k] + (1 - 0.8) + 0.5 * ENERGY[k] for k in LAT}
J = (2 * (0.5 * COST["r2"] + 0.5 * COST["r3"]) + 1 * COST["r1"]) / 3


def base_plan() -> dict:
    return {
        "instance": "line",
        "method": "hand",
        "status": "heuristic",
        "storage": {"a": {"m": [[0, 2]]}, "b": {"m": [[0, 0]]}, "c": {"m": [[1, 2]]}, "d": {"m": [[2, 2]]}},
        "routes": [
            {"demand": 0, "model": "m", "share": 0.5, "segments": [{"node": "a", "layers": [0, 0]}, {"node": "c", "layers": [1, 2]}]},
            {"demand": 0, "model": "m", "share": 0.5, "segments": [{"node": "b", "layers": [0, 0]}, {"node": "c", "layers": [1, 1]}, {"node": "d", "layers": [2, 2]}]},
            {"demand": 1, "model": "m", "share": 1.0, "segments": [{"node": "a", "layers": [0, 2]}]},
        ],
    }


def run(instance, plan_data):
    return evaluate(instance, Plan.model_validate(plan_data))


def kinds(ev):
    return sorted({v.kind for v in ev.violations})


def test_objective_matches_hand_computation(line_instance):
    ev = run(line_instance, base_plan())
    assert ev.feasible, ev.violations
    assert J == pytest.approx(0.7788, rel=1e-12)
    assert ev.objective == pytest.approx(J, rel=1e-9)
    m = ev.metrics
    assert m["mean_latency_s"] == pytest.approx((2 * 0.5 * (0.286 + 0.3966) + 0.6) / 3, rel=1e-9)
    assert m["mean_inaccuracy"] == pytest.approx(0.2, rel=1e-9)
    assert m["mean_energy_j"] == pytest.approx((2 * 0.5 * (0.1533 + 0.1543) + 0.6) / 3, rel=1e-9)
    # node a: demand 1 computes 0.6 s per request at 1 rps, demand 0 0.1 s at 2 x 0.5 rps
    assert ev.nodes["a"]["utilization"] == pytest.approx(0.7, rel=1e-9)
    assert ev.nodes["c"]["utilization"] == pytest.approx(1.0 * 0.005 + 1.0 * 0.002, rel=1e-9)
    assert ev.nodes["a"]["memory_bytes"] == 60
    # a->b carries the cut of route 1 (1000 B) and the input of route 2 (2000 B), 1 rps each
    assert ev.links["a->b"]["load_bytes_per_s"] == pytest.approx(3000.0)
    assert ev.links["b->a"]["load_bytes_per_s"] == pytest.approx(200.0)
    total = 1000 + 1000 + 100 + 100 + 2000 + 1000 + 500 + 100 * 3
    assert m["network_bytes_per_s"] == pytest.approx(total)


def mutate_instance(line_data, tmp_path, fn):
    data = copy.deepcopy(line_data)
    fn(data)
    return load_instance(write_yaml(tmp_path / "mut.yaml", data))


@pytest.mark.parametrize(
    "change, kind, numbers",
    [
        (lambda d: d["nodes"][0].update(memory_bytes=50), "memory", (60, 50)),
        (lambda d: d["demand"][1].update(rate_rps=2.0), "compute", (1.3, 0.8)),
        (lambda d: d["links"][0].update(bandwidth_bytes_per_s=2000.0), "link", (None, 1600.0)),
        (lambda d: d["demand"][1].update(max_latency_s=0.5), "slo", (0.6, 0.5)),
        (lambda d: d["models"][0]["layers"][0].update(peak_activation_bytes=2.0e6), "activation-memory", (2.0e6, 1.0e6)),
    ],
)
def test_capacity_and_slo_violations_carry_numbers(line_data, tmp_path, change, kind, numbers):
    inst = mutate_instance(line_data, tmp_path, change)
    ev = run(inst, base_plan())
    assert kind in kinds(ev)
    viol = next(v for v in ev.violations if v.kind == kind)
    value, limit = numbers
    if value is not None:
        assert viol.value == pytest.approx(value)
    assert viol.limit == pytest.approx(limit)


def test_accuracy_floor(line_instance):
    plan = base_plan()
    plan["routes"][0] = {"demand": 0, "model": "small", "share": 0.5, "segments": [{"node": "a", "layers": [0, 0]}]}
    plan["storage"]["a"]["small"] = [[0, 0]]
    ev = run(line_instance, plan)
    assert kinds(ev) == ["accuracy"]
    assert ev.violations[0].value == 0.5 and ev.violations[0].limit == 0.6


def test_storage_missing_for_computed_layer(line_instance):
    plan = base_plan()
    plan["storage"]["c"]["m"] = [[2, 2]]
    ev = run(line_instance, plan)
    assert kinds(ev) == ["storage"]
    assert "layers 1" in ev.violations[0].message and "'c'" in ev.violations[0].message


def test_shares_not_summing_to_one_and_uncovered_class(line_instance):
    plan = base_plan()
    plan["routes"][1]["share"] = 0.4
    del plan["routes"][2]
    ev = run(line_instance, plan)
    assert kinds(ev) == ["coverage", "share"]
    share = next(v for v in ev.violations if v.kind == "share")
    assert share.value == pytest.approx(0.9)


def test_unknown_ids(line_instance):
    plan = base_plan()
    plan["routes"].append({"demand": 7, "model": "m", "share": 1.0, "segments": [{"node": "a", "layers": [0, 2]}]})
    plan["routes"].append({"demand": 1, "model": "nope", "share": 0.0, "segments": [{"node": "a", "layers": [0, 2]}]})
    plan["storage"]["zz"] = {"m": [[0, 2]]}
    ev = run(line_instance, plan)
    assert kinds(ev) == ["unknown-id"]
    assert len(ev.violations) == 3


def test_unsplittable_allows_one_route(line_data, tmp_path):
    inst = mutate_instance(line_data, tmp_path, lambda d: d["options"].update(routing="unsplittable"))
    ev = run(inst, base_plan())
    assert kinds(ev) == ["unsplittable"]


def test_invalid_route_is_reported_not_raised(line_instance):
    plan = base_plan()
    plan["routes"][0]["segments"] = [{"node": "c", "layers": [0, 0]}, {"node": "a", "layers": [1, 2]}]
    ev = run(line_instance, plan)
    assert "route" in kinds(ev)


def test_reported_figures_are_checked(line_instance):
    plan = base_plan()
    plan["objective"] = J * 1.01
    plan["routes"][2]["latency_s"] = 0.5
    ev = run(line_instance, plan)
    assert ev.feasible
    assert [m.where for m in ev.mismatches] == ["objective", "routes[2].latency_s"]


def test_cli_evaluate_json_and_exit_codes(line_path, tmp_path, capsys):
    good = tmp_path / "good.json"
    write_plan(Plan.model_validate(base_plan()), good)
    assert read_plan(good).routes[0].share == 0.5
    assert main(["evaluate", str(line_path), str(good), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["objective"] == pytest.approx(J, rel=1e-9)
    assert out["violations"] == [] and out["feasible"] is True
    assert {"objective", "violations", "metrics", "routes"} <= set(out)
    assert out["routes"][0]["latency_s"] == pytest.approx(0.286, rel=1e-12)

    bad = base_plan()
    bad["storage"].pop("d")
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert main(["evaluate", str(line_path), str(tmp_path / "bad.json"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [v["kind"] for v in out["violations"]] == ["storage"]

    (tmp_path / "broken.json").write_text('{"instance": "line", "routes": [}')
    assert main(["evaluate", str(line_path), str(tmp_path / "broken.json")]) == 2
    assert "malformed JSON" in capsys.readouterr().err

    (tmp_path / "noroutes.json").write_text('{"instance": "line", "method": "x", "status": "heuristic", "storage": {}}')
    assert main(["evaluate", str(line_path), str(tmp_path / "noroutes.json")]) == 2
    assert "routes: required field is missing" in capsys.readouterr().err

    assert main(["evaluate", str(line_path), str(good)]) == 0
    text = capsys.readouterr().out
    assert "FEASIBLE" in text and "latency_ms" in text
