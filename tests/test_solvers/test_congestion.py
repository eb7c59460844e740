"""Congestion-aware planning: relax and milp under queueing none and ps.

relax bound <= milp optimum <= relax plan objective on random tiny
instances, both routing modes, both queueing modes; every plan feasible for
the evaluator (SLOs with waiting included); bounds against brute force
(unsplittable: every combination of routes valued by the evaluator); the
evaluator under ps against a hand computation; DPP re-solves; load-blind
methods refused on ps instances.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import contested_instance_data, instance_from_data, line_instance_data, random_instance_data
from oracles import brute_force, valid_routes

from placement import InfeasibleError, SolverError, evaluate
from placement.build import plan_from_routes
from placement.routes import route_figures
from solvers import MethodError, solve
from solvers.congestion import excess, excess_slope, value_routes, with_queueing


def _data(kind: str, seed: int, routing: str, queueing: str) -> dict:
    data = contested_instance_data(seed, routing=routing) if kind == "contested" else random_instance_data(seed, tight=True, routing=routing)
    data["options"]["queueing"] = queueing
    if queueing == "ps":
        data["options"]["max_utilization"] = min(data["options"]["max_utilization"], 0.9)
    return data


def brute_force_ps(inst) -> float | None:
    """Unsplittable optimum under the instance's queueing: every combination, valued by the evaluator."""
    best = None
    routes = valid_routes(inst)
    for combo in itertools.product(*[routes[d.index] for d in inst.demands]):
        ev = evaluate(inst, plan_from_routes(inst, [(r, 1.0) for r, _ in combo]))
        if ev.feasible and (best is None or ev.objective < best):
            best = ev.objective
    return best


CASES = [("contested", s) for s in (1, 2, 7)] + [("random", s) for s in (0, 1, 3)]


@pytest.mark.parametrize("queueing", ["none", "ps"])
@pytest.mark.parametrize("routing", ["splittable", "unsplittable"])
@pytest.mark.parametrize("kind,seed", CASES)
def test_relax_bound_milp_relax_plan(tmp_path, kind, seed, routing, queueing):
    inst = instance_from_data(_data(kind, seed, routing, queueing), tmp_path)
    rel = solve(inst, "relax", mip_gap=1e-6)
    exact = solve(inst, "milp", mip_gap=1e-6)
    for plan in (rel, exact):
        ev = evaluate(inst, plan)
        assert ev.feasible, ev.violations
        assert not ev.mismatches, ev.mismatches
        assert plan.objective == pytest.approx(ev.objective, rel=1e-9)
    assert rel.bound <= exact.objective * (1 + 1e-7) + 1e-12
    assert exact.objective <= rel.objective * (1 + 1e-6) + 1e-12  # milp is optimal within its mip_gap
    assert exact.status == "optimal"
    if routing == "unsplittable":
        best = brute_force_ps(inst) if queueing == "ps" else brute_force(inst)
        assert exact.objective == pytest.approx(best, rel=1e-6)
        assert rel.bound <= best * (1 + 1e-9) + 1e-12
    if queueing == "none":
        # the relaxation over every route is the milp's root LP
        assert rel.stats["bound"] == pytest.approx(exact.stats["lp_bound"], rel=1e-6)


def test_waiting_changes_the_plan_and_load_blind_plans_pay_for_it(tmp_path):
    data = _data("contested", 7, "splittable", "ps")
    inst = instance_from_data(data, tmp_path)
    aware = solve(inst, "milp", mip_gap=1e-6)
    blind = solve(with_queueing(inst, "none"), "milp", mip_gap=1e-6)
    ev_blind = evaluate(inst, blind)  # the load-blind plan under ps
    assert aware.objective <= ev_blind.objective + 1e-12
    assert ev_blind.objective > blind.objective  # waiting is real


def test_evaluator_under_ps_by_hand(tmp_path):
    data = line_instance_data()
    data["options"]["queueing"] = "ps"
    inst = instance_from_data(data, tmp_path)
    plan = solve(with_queueing(inst, "none"), "milp")
    ev = evaluate(inst, plan)
    # by hand: each server's utilization rho, each service time s waits s / (1 - rho)
    n_nodes = len(inst.nodes)
    valued = value_routes(inst, [(r.to_route(), r.share) for r in plan.routes])
    for k, pr in enumerate(plan.routes):
        route = pr.to_route()
        fig = route_figures(inst, route)
        lat = fig.propagation_s
        for node, secs in fig.compute_s.items():
            rho = valued.rho[inst.node[node].index]
            lat += secs / (1 - rho)
        for (a, b), nbytes in fig.link_bytes.items():
            d = inst.network.direction_index(a, b)
            rho = valued.rho[n_nodes + d]
            lat += nbytes / inst.network.dir_bandwidth[d] / (1 - rho)
        assert ev.routes[k].latency_s == pytest.approx(lat, rel=1e-12)
    # and J = (sum flow x static cost + w_lat x sum excess(rho)) / L (the relaxation's objective)
    static = value_routes(with_queueing(inst, "none"), [(r.to_route(), r.share) for r in plan.routes])
    J = static.objective + inst.w_latency * float(excess(valued.rho).sum()) / inst.total_rate_rps
    assert ev.objective == pytest.approx(J, rel=1e-10)


def test_excess_slope_is_the_derivative():
    rho = np.array([0.0, 0.3, 0.7, 0.95])
    h = 1e-7
    assert excess_slope(rho) == pytest.approx((excess(rho + h) - excess(rho - h)) / (2 * h), rel=1e-5, abs=1e-6)


def test_relax_model_is_dpp_and_resolves_with_new_rates(tmp_path):
    from solvers.columns import storage_nodes
    from solvers.registry import prepare
    from solvers.relax import Relax
    from solvers.relax_model import RelaxModel

    inst = instance_from_data(_data("contested", 1, "splittable", "ps"), tmp_path)
    _, opts = prepare(inst, "relax", "static", None, 1e-6, None, 0, False, {})
    run = Relax(inst, opts)
    run.initial_pool()
    model = RelaxModel(inst, run.pool, storage_nodes(inst))
    assert model.problem.is_dpp()
    first = model.solve().objective
    lower = inst.rates * 0.5
    model.set_rates(lower)
    again = model.solve().objective
    fresh = RelaxModel(inst.with_rates(lower), run.pool, storage_nodes(inst)).solve().objective
    assert again == pytest.approx(fresh, rel=1e-6)
    assert again < first


def test_load_blind_methods_refused_on_ps(tmp_path):
    data = line_instance_data()
    data["options"]["queueing"] = "ps"
    inst = instance_from_data(data, tmp_path)
    with pytest.raises(MethodError, match="relax' or 'milp'"):
        solve(inst, "greedy")
    assert solve(inst, "relax").status in ("optimal", "feasible")


def test_relax_plan_reports_bound_and_gap(tmp_path):
    inst = instance_from_data(_data("contested", 7, "unsplittable", "ps"), tmp_path)
    plan = solve(inst, "relax", mip_gap=1e-9)
    assert plan.bound is not None and plan.gap is not None
    assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective, rel=1e-9, abs=1e-12)
    assert plan.status == ("optimal" if plan.gap <= 1e-9 else "feasible")


def test_slo_under_load_is_met_by_every_plan(tmp_path):
    """Tight SLOs: the zero-load SLO holds, but waiting pushes some routes past it."""
    data = _data("contested", 2, "splittable", "ps")
    inst0 = instance_from_data(data, tmp_path)
    base = solve(with_queueing(inst0, "none"), "milp")
    ev = evaluate(inst0, base)
    worst = max(r.latency_s for r in ev.routes)
    for d in data["demand"]:
        d["max_latency_s"] = worst * 0.999
    inst = instance_from_data(data, tmp_path)
    for method in ("relax", "milp"):
        try:
            plan = solve(inst, method, mip_gap=1e-6)
        except (InfeasibleError, SolverError) as exc:  # an honest failure is allowed, an SLO violation is not
            assert "feasible" in str(exc) or "does not prove that no plan exists" in str(exc)
            continue
        assert evaluate(inst, plan).feasible
