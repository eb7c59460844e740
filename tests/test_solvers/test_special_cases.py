"""Exact special cases (split-dp, two-tier) against the MILP, and their own rules."""

from __future__ import annotations

import random

import pytest
from helpers import contested_instance_data, instance_from_data, random_instance_data

from placement import InfeasibleError, evaluate
from solvers import MethodError, solve


def single_class(seed: int, routing: str) -> dict:
    k = 1 + seed % 3
    if seed % 2:
        data = contested_instance_data(seed, routing=routing, max_segments=k)
    else:
        data = random_instance_data(seed, classes=1, routing=routing, max_segments=k, tight=seed % 4 == 0)
    data["demand"] = data["demand"][:1]
    return data


def objective_or_none(inst, method, **kw):
    try:
        return solve(inst, method, **kw)
    except InfeasibleError:
        return None


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("routing", ["unsplittable", "splittable"])
def test_split_dp_equals_milp_on_single_class(tmp_path, seed, routing):
    inst = instance_from_data(single_class(seed, routing), tmp_path)
    exact = objective_or_none(inst, "milp", mip_gap=1e-9)
    dp = objective_or_none(inst, "split-dp")
    if routing == "unsplittable" or (dp is not None and dp.status == "optimal"):
        assert (exact is None) == (dp is None)
        if dp is not None:
            assert dp.objective == pytest.approx(exact.objective, rel=1e-7)
    elif dp is not None:  # splittable, capacity-bound: a valid bound and a feasible plan
        assert dp.bound <= exact.objective + 1e-9 <= dp.objective + 2e-9
    if dp is not None:
        assert evaluate(inst, dp).feasible


def two_node(seed: int) -> dict:
    rng = random.Random(seed)
    n = rng.randint(1, 6)
    return {
        "name": f"two{seed}",
        "devices": {
            "dev": {"effective_macs_per_s": rng.choice([1e6, 5e6]), "memory_bytes": rng.choice([300.0, 2000.0]), "active_power_w": 0.5},
            "srv": {"effective_macs_per_s": 1e8, "memory_bytes": None, "active_power_w": 50.0},
        },
        "nodes": [{"id": "phone", "device": "dev", "tier": "device"}, {"id": "server", "device": "srv", "tier": "edge"}],
        "links": [{"u": "phone", "v": "server", "bandwidth_bytes_per_s": rng.choice([2e4, 1e5, 1e6]), "latency_s": 0.01, "energy_j_per_byte": 1e-7}],
        "models": [{
            "id": f"m{j}", "task": "t", "accuracy": 0.7 + 0.1 * j, "input_bytes": 5000.0,
            "layers": [{"name": f"l{i}", "macs": float(rng.choice([1e4, 1e5, 5e5])), "param_bytes": float(rng.choice([50, 200, 600])), "out_bytes": float(rng.choice([200, 1000, 8000]))} for i in range(n)],
        } for j in range(rng.randint(1, 2))],
        "demand": [{"origin": "phone", "task": "t", "rate_rps": rng.choice([0.5, 2.0, 8.0]), "max_latency_s": rng.choice([0.2, 1.0])}],
        "objective": {"weights": {"latency": 1.0, "inaccuracy": rng.choice([0.0, 1.0]), "energy": rng.choice([0.0, 0.01])}},
        "options": {"routing": "unsplittable", "max_segments": 2, "max_utilization": 0.8},
    }


@pytest.mark.parametrize("seed", range(30))
def test_two_tier_equals_milp_and_split_dp_on_device_server(tmp_path, seed):
    inst = instance_from_data(two_node(seed), tmp_path)
    plans = {m: objective_or_none(inst, m, mip_gap=1e-9) for m in ("milp", "split-dp", "two-tier")}
    if plans["milp"] is None:
        assert plans["split-dp"] is None and plans["two-tier"] is None
        return
    for method in ("split-dp", "two-tier"):
        assert plans[method].objective == pytest.approx(plans["milp"].objective, rel=1e-9)
    assert plans["two-tier"].status == "optimal"  # the family is the whole route space here


def test_split_dp_refuses_several_classes(line_instance):
    with pytest.raises(MethodError, match="single demand class"):
        solve(line_instance, "split-dp")


def test_two_tier_needs_two_segments_and_a_server(tmp_path, line_data):
    line_data["options"]["max_segments"] = 1
    with pytest.raises(Exception, match="max_segments"):
        solve(instance_from_data(line_data, tmp_path), "two-tier")


def test_two_tier_uses_the_given_server(line_instance):
    plan = solve(line_instance, "two-tier", server="d")
    for r in plan.routes:
        assert {s.node for s in r.segments} <= {"a", "d"}
    assert evaluate(line_instance, plan).feasible
