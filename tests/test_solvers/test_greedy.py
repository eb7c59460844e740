"""Greedy baselines: best feasible route per class, evaluator-consistent plans, honest failures."""

from __future__ import annotations

import pytest
from helpers import instance_from_data, line_instance_data, random_instance_data

from placement import InfeasibleError, enumerate_routes, evaluate, route_figures
from placement.cli import main
from solvers import MethodError, methods, solve

BASELINES = ["greedy", "device-only", "edge-only", "cloud-only"]


@pytest.mark.parametrize("seed", range(10))
def test_greedy_takes_the_cheapest_route_when_capacity_is_ample(tmp_path, seed):
    data = random_instance_data(seed, classes=1, max_segments=1 + seed % 3)
    data["options"]["max_utilization"] = 1.0
    for node in data["nodes"]:
        node["memory_bytes"] = None
    inst = instance_from_data(data, tmp_path)
    d = inst.demands[0]
    best = None
    for r in enumerate_routes(inst, 0):
        fig = route_figures(inst, r)
        ok = fig.latency_s <= d.max_latency_s and fig.accuracy >= d.min_accuracy
        ok = ok and all(d.rate_rps * t <= 1.0 for t in fig.compute_s.values())
        ok = ok and all(d.rate_rps * b <= inst.network.link(*key).bandwidth_bytes_per_s for key, b in fig.link_bytes.items())
        ok = ok and all(p <= inst.node[n].ram_bytes for n, p in fig.peak_activation_bytes.items())
        if ok and (best is None or fig.cost(inst) < best):
            best = fig.cost(inst)
    if best is None:
        with pytest.raises(InfeasibleError):
            solve(inst, "greedy")
        return
    plan = solve(inst, "greedy")
    assert plan.objective == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("method", BASELINES)
def test_baseline_plans_pass_the_evaluator(tmp_path, seed, method):
    inst = instance_from_data(random_instance_data(seed, classes=3, tight=seed % 2 == 1), tmp_path)
    tier = {"edge-only": "edge", "cloud-only": "cloud"}.get(method)
    if tier and not any(n.tier == tier for n in inst.nodes):
        with pytest.raises(MethodError, match=f"no node of instance 'rand{seed}' has one"):
            solve(inst, method)
        return
    try:
        plan = solve(inst, method)
    except InfeasibleError as exc:
        assert "heuristic" in exc.reasons[0] and "demand class" in exc.reasons[1]
        return
    ev = evaluate(inst, plan)
    assert ev.feasible, ev.violations
    assert not ev.mismatches
    assert plan.objective == pytest.approx(ev.objective, rel=1e-12)
    assert plan.status == "heuristic" and plan.bound is None
    for r in plan.routes:
        assert r.share == 1.0
        if method != "greedy":
            assert len(r.segments) == 1
        if method == "device-only":
            assert r.segments[0].node == inst.demands[r.demand].origin


def test_family_targets(line_instance):
    assert solve(line_instance, "cloud-only").routes[0].segments[0].node == "d"
    assert solve(line_instance, "edge-only").routes[0].segments[0].node == "c"


def test_unservable_class_is_explained(tmp_path, capsys):
    data = line_instance_data()
    data["demand"][0]["min_accuracy"] = 0.95
    inst = instance_from_data(data, tmp_path)
    with pytest.raises(InfeasibleError) as exc:
        solve(inst, "greedy")
    assert "min_accuracy 0.9500 (best is 0.8000)" in exc.value.reasons[1]
    out = tmp_path / "plan.json"
    assert main(["solve", str(tmp_path / "line.yaml"), "--method", "greedy", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "min_accuracy" in err and "does not prove" in err
    assert not out.exists()


def test_slo_failure_reports_fastest_route(tmp_path):
    data = line_instance_data()
    data["demand"][1]["max_latency_s"] = 0.005
    inst = instance_from_data(data, tmp_path)
    with pytest.raises(InfeasibleError) as exc:
        solve(inst, "greedy")
    assert "fastest greedy route takes" in exc.value.reasons[1]


def test_registry_lists_capabilities():
    names = [m.name for m in methods()]
    for name in BASELINES:
        assert name in names
    greedy = next(m for m in methods() if m.name == "greedy")
    assert "splitting" in greedy.capabilities()
