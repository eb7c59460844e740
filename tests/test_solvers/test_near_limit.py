"""Exactness where integer decisions bite: demand close to the largest feasible load.

Each tiny random instance is scaled to 70-99 % of the largest multiple of its
rates for which a plan exists (found by bisection with the brute-force
oracle), then ``milp`` must match the oracle, be feasible by the evaluator,
and report its own objective (recomputed by the evaluator).
"""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, contested_instance_data, instance_from_data
from oracles import brute_force

from placement import evaluate, load_instance
from solvers import solve


def largest_feasible_scale(inst, hi: float = 64.0, steps: int = 14) -> float | None:
    rates = inst.rates
    if brute_force(inst) is None:
        return None
    lo = 1.0
    while brute_force(inst.with_rates(rates * hi)) is not None and hi < 1e4:
        lo, hi = hi, hi * 4
    for _ in range(steps):
        mid = (lo * hi) ** 0.5
        if brute_force(inst.with_rates(rates * mid)) is None:
            hi = mid
        else:
            lo = mid
    return lo


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("routing", ["unsplittable", "splittable"])
def test_milp_exact_near_the_feasibility_limit(tmp_path, seed, routing):
    inst = instance_from_data(contested_instance_data(seed, routing=routing, max_segments=1 + seed % 2), tmp_path)
    scale = largest_feasible_scale(inst)
    if scale is None:
        pytest.skip("infeasible at nominal load")
    for frac in (0.7, 0.9, 0.99):
        near = inst.with_rates(inst.rates * scale * frac)
        expected = brute_force(near)
        assert expected is not None
        plan = solve(near, "milp", mip_gap=1e-9)
        ev = evaluate(near, plan)
        assert ev.feasible, ev.violations
        assert not ev.mismatches, ev.mismatches
        assert plan.objective == pytest.approx(expected, rel=1e-6, abs=1e-9), (frac, plan.objective, expected)
        assert plan.bound <= expected * (1 + 1e-6) + 1e-12


def test_issue_reproducer_unsplittable_near_limit():
    """milp once returned 0.2373319 labelled optimal (HiGHS's warm MIP misreported its objective)."""
    inst = load_instance(ROOT / "tests" / "data" / "near_limit_unsplittable.json")
    plan = solve(inst, "milp")
    assert plan.objective == pytest.approx(0.2331359909, rel=1e-8)
    assert plan.status == "optimal"
    assert plan.bound <= plan.objective + 1e-12
    models = {r.demand: r.model for r in plan.routes}
    assert models == {0: "m0", 1: "m1"}
    assert json.loads((ROOT / "tests" / "data" / "near_limit_unsplittable.json").read_text())["options"]["routing"] == "unsplittable"
