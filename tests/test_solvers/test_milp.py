"""The exact MILP against brute force, special cases and the evaluator."""

from __future__ import annotations

import pytest
from helpers import instance_from_data, line_instance_data, random_instance_data
from oracles import brute_force

from placement import InfeasibleError, evaluate
from solvers import solve


def tiny(seed: int, routing: str, tight: bool = True):
    k = 1 + seed % 3
    return random_instance_data(
        seed, nodes=3 + seed % 2, models=1 + seed % 2, layers=3 if k < 3 else 2,
        classes=1 + seed % 3, max_segments=k, routing=routing, tight=tight,
    )


def check_against_oracle(inst):
    expected = brute_force(inst)
    if expected is None:
        with pytest.raises(InfeasibleError):
            solve(inst, "milp", mip_gap=1e-9)
        return None
    plan = solve(inst, "milp", mip_gap=1e-9)
    ev = evaluate(inst, plan)
    assert ev.feasible, ev.violations
    assert not ev.mismatches
    assert plan.objective == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert plan.status == "optimal"
    assert plan.bound <= plan.objective + 1e-12
    return plan


@pytest.mark.parametrize("seed", range(40))
def test_unsplittable_matches_brute_force(tmp_path, seed):
    check_against_oracle(instance_from_data(tiny(seed, "unsplittable"), tmp_path))


@pytest.mark.parametrize("seed", range(40))
def test_splittable_matches_brute_force(tmp_path, seed):
    check_against_oracle(instance_from_data(tiny(seed, "splittable"), tmp_path))


def test_infeasible_line_is_explained(tmp_path):
    data = line_instance_data()
    data["demand"][0]["min_accuracy"] = 0.95
    with pytest.raises(InfeasibleError) as exc:
        solve(instance_from_data(data, tmp_path), "milp")
    assert "min_accuracy 0.9500 (best is 0.8000" in exc.value.reasons[0]


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("routing", ["unsplittable", "splittable"])
def test_contested_instances_match_brute_force(tmp_path, seed, routing):
    """Binding compute, link and memory limits (see helpers.contested_instance_data)."""
    from helpers import contested_instance_data

    inst = instance_from_data(contested_instance_data(seed, routing=routing, max_segments=1 + seed % 3), tmp_path)
    plan = check_against_oracle(inst)
    if plan is not None:
        assert plan.stats["solver_objective"] == pytest.approx(plan.objective, rel=1e-6)


def test_time_limit_returns_incumbent_and_gap(tmp_path):
    import time

    from helpers import INSTANCES

    from placement import load_instance
    from placement.errors import TimeLimitReached

    inst = load_instance(INSTANCES / "idn-100.yaml")
    start = time.perf_counter()
    with pytest.raises(TimeLimitReached, match="no feasible plan within the time limit"):
        solve(inst, "milp", time_limit_s=0.02)  # every phase checks the clock: no plan, promptly
    assert time.perf_counter() - start < 2.0
    plan = solve(inst, "milp", time_limit_s=10)
    assert plan.status in ("feasible", "optimal")
    assert plan.gap is not None and plan.bound is not None and plan.bound <= plan.objective + 1e-12
    if plan.status == "feasible":
        assert plan.termination == "time_limit"
    assert evaluate(inst, plan).feasible


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("routing", ["unsplittable", "splittable"])
def test_pyomo_formulation_agrees(tmp_path, seed, routing):
    """The plain Pyomo path formulation (every route a variable) gives the same optimum."""
    from helpers import contested_instance_data

    inst = instance_from_data(contested_instance_data(seed, routing=routing, max_segments=1 + seed % 3), tmp_path)
    try:
        a = solve(inst, "milp", mip_gap=1e-9)
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            solve(inst, "milp-pyomo", mip_gap=1e-9)
        return
    b = solve(inst, "milp-pyomo", mip_gap=1e-9)
    assert b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-6)
    assert evaluate(inst, b).feasible


@pytest.mark.parametrize("latency", [0.0, 1e-15, 1e-9])
@pytest.mark.parametrize("method", ["milp", "greedy"])
def test_degenerate_link_latencies_solve(tmp_path, latency, method):
    """Zero or negligible link latencies (co-located nodes) once made the path rule loop."""
    import time

    data = line_instance_data()
    data["links"][1]["latency_s"] = latency
    inst = instance_from_data(data, tmp_path)
    start = time.perf_counter()
    plan = solve(inst, method, time_limit_s=20)
    assert time.perf_counter() - start < 20
    ev = evaluate(inst, plan)
    assert ev.feasible and not ev.mismatches
