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

import numpy as np

from placement.build import build_plan
from placement.errors import InfeasibleError, InputError
from placement.instance import Demand, Instance
from placement.plan import Plan, PlanStatus, Termination
from placement.routes import Route

from .candidates import Residual, candidate_routes, origin_tree
from .columns import Column, column_from_candidate
from .registry import SolveOptions, register


class Capacity:
    """What earlier routes used: compute, link loads, stored layers and their memory."""

    def __init__(self, instance: Instance):
        self.instance = instance
        self.U = instance.max_utilization
        n = len(instance.nodes)
        self.busy = np.zeros(n)
        self.mem_used = np.zeros(n)
        self.memory = np.array([node.memory_bytes for node in instance.nodes])
        self.link_load = np.zeros(2 * len(instance.links))
        self.bandwidth = np.repeat([link.bandwidth_bytes_per_s for link in instance.links], 2)
        self.stored: dict[tuple[int, str], np.ndarray] = {}

    def residual(self, rate: float) -> Residual:
        return Residual(
            rate=rate,
            compute=self.U - self.busy,
            link=self.U * self.bandwidth - self.link_load,
            memory=self.memory - self.mem_used,
            stored=self.stored,
        )

    def fits(self, col: Column, rate: float) -> bool:
        """Whether one more route (as a column) fits the capacity left."""
        model = self.instance.models[col.route.model]
        tol = 1 + 1e-9
        for v, t in col.compute:
            if self.busy[v] + rate * t > self.U * tol:
                return False
        load = {}
        for d, nbytes in col.links:
            load[d] = load.get(d, 0.0) + rate * nbytes
        for d, extra in load.items():
            if self.link_load[d] + extra > self.U * self.bandwidth[d] * tol:
                return False
        for seg in col.route.segments:
            node = self.instance.node[seg.node]
            have = self.stored.get((node.index, model.id))
            layers = model.param_bytes[seg.first : seg.last + 1]
            new = layers if have is None else layers[~have[seg.first : seg.last + 1]]
            if self.mem_used[node.index] + float(new.sum()) > self.memory[node.index] * tol:
                return False
            if model.segment_peak_activation(seg.first, seg.last) > node.ram_bytes * tol:
                return False
        return True

    def commit(self, col: Column, rate: float) -> None:
        model = self.instance.models[col.route.model]
        for v, t in col.compute:
            self.busy[v] += rate * t
        for d, nbytes in col.links:
            self.link_load[d] += rate * nbytes
        for seg in col.route.segments:
            v = self.instance.node[seg.node].index
            have = self.stored.setdefault((v, model.id), np.zeros(model.n_layers, dtype=bool))
            new = ~have[seg.first : seg.last + 1]
            self.mem_used[v] += float(model.param_bytes[seg.first : seg.last + 1][new].sum())
            have[seg.first : seg.last + 1] = True


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


def _why_unplaceable(instance: Instance, demand: Demand, family: str, targets: list[str] | None, k: int | None) -> str:
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
    return f"{label}: every {family} route meeting its SLO and accuracy floor exceeds the compute, link or memory capacity left by the classes placed before it"


def run_greedy(instance: Instance, opts: SolveOptions, family: str) -> Plan:
    """Place classes one by one in decreasing order of rate (see module docstring)."""
    start = time.perf_counter()
    cap = Capacity(instance)
    chosen: list[tuple[Route, float]] = []
    failures: list[str] = []
    order = sorted(instance.demands, key=lambda d: (-d.rate_rps, d.index))
    for demand in order:
        targets, k = _targets(instance, demand, family)
        cand = None
        if targets != []:
            residual = cap.residual(demand.rate_rps)
            cand = next(iter(candidate_routes(instance, demand, targets=targets, max_segments=k, residual=residual)), None)
        if cand is None:
            failures.append(_why_unplaceable(instance, demand, family, targets, k))
            continue
        tree = origin_tree(instance, demand.origin)
        cap.commit(column_from_candidate(instance, tree, cand, set()), demand.rate_rps)
        chosen.append((cand.route, 1.0))
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
