"""Conformance: every registered method, on the same canonical tiny instances.

A new method registered in solvers.registry is picked up here automatically:
its plans must pass the evaluator, report figures (from the method's own
model) that the evaluator's independent recomputation agrees with, say
honestly how they were obtained, never beat the brute-force optimum, hold
their bound, and (for exact methods) match brute force.
"""

from __future__ import annotations

import pytest
from helpers import contested_instance_data, instance_from_data, line_instance_data
from oracles import brute_force

from placement import InfeasibleError, evaluate
from solvers import MethodError, methods, solve


def canonical(name: str) -> dict:
    if name == "line":
        return line_instance_data()
    if name == "line-single":
        data = line_instance_data()
        data["demand"] = data["demand"][:1]
        return data
    if name == "line-unsplittable":
        data = line_instance_data()
        data["options"]["routing"] = "unsplittable"
        return data
    seed = int(name.split("-")[1])
    data = contested_instance_data(seed, routing="unsplittable", max_segments=2)
    data["nodes"][0]["tier"] = "cloud"
    return data


INSTANCES = ["line", "line-single", "line-unsplittable", "contested-1", "contested-2", "contested-7"]
METHODS = [m.name for m in methods(kind="static")]


@pytest.mark.parametrize("instance_name", INSTANCES)
@pytest.mark.parametrize("method", METHODS)
def test_method_conformance(tmp_path, method, instance_name):
    inst = instance_from_data(canonical(instance_name), tmp_path)
    info = next(m for m in methods() if m.name == method)
    try:
        info.check(inst)
    except MethodError:  # declared preconditions are enforced before the run
        with pytest.raises(MethodError):
            solve(inst, method)
        return
    try:
        plan = solve(inst, method, mip_gap=1e-9)
    except InfeasibleError as exc:
        assert exc.reasons, "infeasibility must be explained"
        if info.exact and instance_name != "line" and "routes=" not in " ".join(exc.reasons):
            assert brute_force(inst) is None
        return
    ev = evaluate(inst, plan)
    assert ev.feasible, ev.violations
    assert not ev.mismatches, ev.mismatches
    assert plan.method == method and plan.instance == inst.name
    assert plan.objective == pytest.approx(ev.objective, rel=1e-12)
    if plan.status == "optimal":
        assert plan.bound is not None and plan.bound <= plan.objective + 1e-9
        assert plan.gap is not None and plan.gap <= 1e-6
    if plan.status == "heuristic":
        assert plan.gap is None
    expected = brute_force(inst)
    assert expected is not None  # the method found a feasible plan
    assert plan.objective >= expected * (1 - 1e-9) - 1e-12, "no method beats the optimum"
    if plan.bound is not None:
        assert plan.bound <= expected * (1 + 1e-9) + 1e-12, "a reported bound holds"
    if info.exact and plan.status == "optimal":
        assert plan.objective == pytest.approx(expected, rel=1e-6)
    assert plan.solve_time_s is not None and plan.solve_time_s >= 0
