"""Greedy baselines: ``greedy``, ``device-only``, ``edge-only`` and ``cloud-only``.

All four share one engine: demand classes are taken in decreasing order of
rate (ties by index); each gets the cheapest route of its family (by the
objective's per-request term) that meets its accuracy floor and SLO and fits
the capacity left by the classes placed before it (memory, activation memory,
compute utilization, link load). The families:

- ``greedy``: any route with up to ``max_segments`` segments;
- ``device-only``: the whole model at the origin;
- ``edge-only``: the whole model at the nearest node of tier ``edge``;
- ``cloud-only``: the whole model at the nearest node of tier ``cloud``.

These are heuristics: failing to place a class does not prove that no plan
exists, and the error says so.
"""

from __future__ import annotations

import time

from placement.build import RouteChoice, build_plan
from placement.errors import InfeasibleError
from placement.instance import Demand, Instance
from placement.plan import Plan, PlanStatus, Termination

from .candidates import candidate_routes
from .capacity import Capacity
from .columns import column_from_candidate
from .origin_trees import origin_tree
from .registry import SolveOptions, register
from .splitdp import fastest_latency


def _targets(instance: Instance, demand: Demand, family: str) -> tuple[list[str] | None, int | None]:
    if family == "greedy":
        return None, None
    if family == "device-only":
        return [demand.origin], 1
    tier = {"edge-only": "edge", "cloud-only": "cloud"}[family]
    node = instance.nearest_of_tier(demand.origin, tier)
    if node is None:  # nodes of the tier exist (checked before the run) but none is reachable
        return [], 1
    return [node], 1


def _why_unplaceable(instance: Instance, demand: Demand, family: str, targets: list[str] | None, k: int | None, deadline: float | None = None) -> str:
    label = f"demand class {demand.index} ({demand.label}, {demand.rate_rps:g} req/s)"
    models = instance.models_for(demand)
    best_acc = max(m.accuracy for m in models)
    if best_acc < demand.min_accuracy - 1e-12:
        return f"{label}: no model of task '{demand.task}' meets min_accuracy {demand.min_accuracy:.4f} (best is {best_acc:.4f})"
    if targets == []:
        return f"{label}: {family} has no node it may use from origin '{demand.origin}'"
    if targets is None:  # every route: the split DP, linear in the tree
        best = fastest_latency(instance, demand, targets, k)
    else:  # a baseline's few end nodes: enumerate them
        best = candidate_routes(instance, demand, targets=targets, max_segments=k, respect_slo=False, deadline=deadline).min_latency()
    if best is None:
        return f"{label}: {family} has no route from origin '{demand.origin}'"
    if best > demand.max_latency_s * (1 + 1e-9):
        return f"{label}: the fastest {family} route takes {best * 1e3:.3f} ms > max_latency_s {demand.max_latency_s * 1e3:.3f} ms"
    return f"{label}: every {family} route meeting its SLO and accuracy floor exceeds the compute, link or memory capacity left by the classes placed before it"


def run_greedy(instance: Instance, opts: SolveOptions, family: str, explain: bool = True) -> Plan:
    """Place classes one by one in decreasing order of rate (see module docstring).

    Every phase stops at ``opts.deadline`` (:class:`TimeLimitReached`). With
    ``explain`` False (a warm start), unplaceable classes are not diagnosed.
    """
    start = time.perf_counter()
    cap = Capacity(instance)
    chosen: list[RouteChoice] = []
    failures: list[str] = []
    order = sorted(instance.demands, key=lambda d: (-d.rate_rps, d.index))
    for demand in order:
        targets, k = _targets(instance, demand, family)
        cand = None
        if targets != []:
            residual = cap.residual(demand.rate_rps)
            cand = next(iter(candidate_routes(instance, demand, targets=targets, max_segments=k, residual=residual, deadline=opts.deadline)), None)
        if cand is None:
            failures.append(_why_unplaceable(instance, demand, family, targets, k, opts.deadline) if explain else f"demand class {demand.index}: not placed")
            if not explain:
                break
            continue
        tree = origin_tree(instance, demand.origin)
        cap.commit(column_from_candidate(instance, tree, cand, set()), demand.rate_rps)
        chosen.append(RouteChoice(cand.route, 1.0, cand.cost, cand.latency_s, cand.energy_j))
    if failures:
        note = f"{family} is a heuristic: failing to place {len(failures)} of {len(order)} classes does not prove that no plan exists; try 'milp'"
        raise InfeasibleError([note] + failures, method=family)
    chosen.sort(key=lambda c: c.route.demand)
    return build_plan(
        instance,
        family,
        chosen,
        PlanStatus.HEURISTIC,
        termination=Termination.COMPLETED,
        solve_time_s=time.perf_counter() - start,
        seed=opts.seed,
    )


@register("greedy", "Greedy: classes by decreasing rate, each on its cheapest feasible route (splits allowed)", splitting=True)
def greedy(instance: Instance, opts: SolveOptions) -> Plan:
    return run_greedy(instance, opts, "greedy")


@register("device-only", "Baseline: every request computed entirely on its origin node")
def device_only(instance: Instance, opts: SolveOptions) -> Plan:
    return run_greedy(instance, opts, "device-only")


@register("edge-only", "Baseline: every request computed entirely on the nearest 'edge' node", requires_tiers=("edge",))
def edge_only(instance: Instance, opts: SolveOptions) -> Plan:
    return run_greedy(instance, opts, "edge-only")


@register("cloud-only", "Baseline: every request computed entirely on the nearest 'cloud' node", requires_tiers=("cloud",))
def cloud_only(instance: Instance, opts: SolveOptions) -> Plan:
    return run_greedy(instance, opts, "cloud-only")
