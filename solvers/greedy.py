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
from collections import defaultdict

from placement.build import build_plan
from placement.errors import InfeasibleError, InputError
from placement.instance import Demand, Instance
from placement.plan import Plan, PlanStatus, Termination
from placement.routes import Route, route_figures

from .candidates import candidate_routes
from .registry import SolveOptions, register

_TOL = 1e-9


class Capacity:
    """What earlier routes used: compute, memory (stored layers), link loads."""

    def __init__(self, instance: Instance):
        self.instance = instance
        self.busy: dict[str, float] = defaultdict(float)
        self.stored: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.mem_used: dict[str, float] = defaultdict(float)
        self.link_load: dict[tuple[str, str], float] = defaultdict(float)

    def why_not(self, route: Route, rate: float) -> str | None:
        """None when the route fits; otherwise the first capacity it exceeds."""
        inst = self.instance
        fig = route_figures(inst, route)
        model = inst.models[route.model]
        cap_u = inst.max_utilization
        for seg in route.segments:
            node = inst.node[seg.node]
            new = set(range(seg.first, seg.last + 1)) - self.stored[(seg.node, route.model)]
            extra = float(model.param_bytes[sorted(new)].sum()) if new else 0.0
            if self.mem_used[seg.node] + extra > node.memory_bytes * (1 + _TOL):
                return f"memory of '{seg.node}': needs {self.mem_used[seg.node] + extra:,.0f} B of {node.memory_bytes:,.0f} B"
            peak = fig.peak_activation_bytes.get(seg.node, 0.0)
            if peak > node.ram_bytes * (1 + _TOL):
                return f"activation memory of '{seg.node}': needs {peak:,.0f} B of {node.ram_bytes:,.0f} B"
        for node, secs in fig.compute_s.items():
            if self.busy[node] + rate * secs > cap_u * (1 + _TOL):
                return f"compute of '{node}': utilization would reach {self.busy[node] + rate * secs:.3f} > {cap_u:g}"
        for key, nbytes in fig.link_bytes.items():
            bw = inst.network.link(*key).bandwidth_bps
            if self.link_load[key] + rate * nbytes > cap_u * bw * (1 + _TOL):
                return f"link {key[0]}->{key[1]}: load would reach {self.link_load[key] + rate * nbytes:,.0f} B/s > {cap_u:g} x {bw:,.0f} B/s"
        return None

    def commit(self, route: Route, rate: float) -> None:
        inst = self.instance
        fig = route_figures(inst, route)
        model = inst.models[route.model]
        for seg in route.segments:
            key = (seg.node, route.model)
            new = set(range(seg.first, seg.last + 1)) - self.stored[key]
            if new:
                self.mem_used[seg.node] += float(model.param_bytes[sorted(new)].sum())
                self.stored[key] |= new
        for node, secs in fig.compute_s.items():
            self.busy[node] += rate * secs
        for key, nbytes in fig.link_bytes.items():
            self.link_load[key] += rate * nbytes


def nearest_of_tier(instance: Instance, origin: str, tier: str) -> str | None:
    """The node of ``tier`` with the smallest path latency from ``origin`` (ties: by id)."""
    reach = instance.network.reachable(origin)
    found = [(reach[n.id], n.id) for n in instance.nodes if n.tier == tier and n.id in reach]
    return min(found)[1] if found else None


def _targets(instance: Instance, demand: Demand, family: str) -> tuple[list[str] | None, int | None]:
    if family == "greedy":
        return None, None
    if family == "device-only":
        return [demand.origin], 1
    tier = {"edge-only": "edge", "cloud-only": "cloud"}[family]
    node = nearest_of_tier(instance, demand.origin, tier)
    if node is None:
        if not any(n.tier == tier for n in instance.nodes):
            raise InputError(f"{family}: no node of instance '{instance.name}' has tier '{tier}'; set `tier: {tier}` on the nodes it should use")
        return [], 1
    return [node], 1


def _why_unplaceable(instance: Instance, demand: Demand, family: str, targets: list[str] | None, k: int | None, blocked: list[str]) -> str:
    label = f"demand class {demand.index} ({demand.label}, {demand.rate_rps:g} req/s)"
    models = instance.models_for(demand)
    best_acc = max(m.accuracy for m in models)
    if best_acc < demand.min_accuracy - 1e-12:
        return f"{label}: no model of task '{demand.task}' meets min_accuracy {demand.min_accuracy:.4f} (best is {best_acc:.4f})"
    if targets == []:
        return f"{label}: {family} has no node it may use from origin '{demand.origin}'"
    best = candidate_routes(instance, demand, targets=targets, max_segments=k, respect_slo=False).min_latency()
    if best is None:
        return f"{label}: {family} has no route from origin '{demand.origin}'"
    if best > demand.max_latency_s * (1 + 1e-9):
        return f"{label}: the fastest {family} route takes {best * 1e3:.3f} ms > max_latency_s {demand.max_latency_s * 1e3:.3f} ms"
    head = blocked[0] if blocked else "capacity"
    return f"{label}: every {family} route meeting its SLO and accuracy floor exceeds capacity left by larger classes (first blocked by {head})"


def run_greedy(instance: Instance, opts: SolveOptions, family: str) -> Plan:
    """Place classes one by one in decreasing order of rate (see module docstring)."""
    start = time.perf_counter()
    cap = Capacity(instance)
    chosen: list[tuple[Route, float]] = []
    failures: list[str] = []
    order = sorted(instance.demands, key=lambda d: (-d.rate_rps, d.index))
    for demand in order:
        targets, k = _targets(instance, demand, family)
        placed = False
        blocked: list[str] = []
        if targets != []:
            for cand in candidate_routes(instance, demand, targets=targets, max_segments=k):
                why = cap.why_not(cand.route, demand.rate_rps)
                if why is None:
                    cap.commit(cand.route, demand.rate_rps)
                    chosen.append((cand.route, 1.0))
                    placed = True
                    break
                if len(blocked) < 3:
                    blocked.append(why)
        if not placed:
            failures.append(_why_unplaceable(instance, demand, family, targets, k, blocked))
    if failures:
        note = f"{family} is a heuristic: failing to place {len(failures)} of {len(order)} classes does not prove that no plan exists; try 'milp'"
        raise InfeasibleError([note] + failures, method=family)
    chosen.sort(key=lambda rs: rs[0].demand)
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


@register("edge-only", "Baseline: every request computed entirely on the nearest 'edge' node")
def edge_only(instance: Instance, opts: SolveOptions) -> Plan:
    return run_greedy(instance, opts, "edge-only")


@register("cloud-only", "Baseline: every request computed entirely on the nearest 'cloud' node")
def cloud_only(instance: Instance, opts: SolveOptions) -> Plan:
    return run_greedy(instance, opts, "cloud-only")
