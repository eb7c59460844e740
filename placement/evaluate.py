"""The evaluator: one pure function from (instance, plan) to every figure.

``evaluate`` recomputes route latency and energy, the objective J, per-node
utilization and memory, per-link-direction load and the mean figures, and
lists every violated constraint with its numbers. It also compares each figure
the plan reports with its recomputation (``mismatches``), so a solver can
never report a number the evaluator would not.

All formulas come from :mod:`placement.kernel` (one cost kernel). Under
``options.queueing: ps`` route latencies, J and the SLO check include the
waiting at every node and link direction (service / (1 - utilization)).

Tolerances: a capacity holds when ``value <= limit * (1 + 1e-6) + 1e-12``
(:func:`placement.kernel.within`; solvers work to about 1e-9), shares sum to 1
within 1e-6, and reported figures match when within a relative 1e-6.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from .fileio import finite_or_null
from .graphroute import plan_route_figures, segment_layers
from .instance import Instance
from .kernel import Loads, RouteCosts, request_cost, totals, within
from .kernel import loads as kernel_loads
from .plan import Plan, ranges_of
from .routes import RouteError, RouteFigures

SHARE_TOL = 1e-6
REPORT_RTOL = 1e-6


def _close(a: float, b: float, rtol: float = REPORT_RTOL) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-12)


@dataclass
class Violation:
    """One violated constraint (or one reported figure that is wrong).

    ``kind`` is one of: instance, unknown-id, route, share, coverage,
    unsplittable, accuracy, slo, storage, memory, activation-memory, compute,
    link, mismatch.
    """

    kind: str
    where: str
    message: str
    value: float | None = None
    limit: float | None = None

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.message}"


@dataclass
class RouteEvaluation:
    """A plan route with its recomputed figures (None when the route is invalid)."""

    index: int
    demand: int
    model: str
    share: float
    segments: list[dict]
    path: list[str] | None = None
    latency_s: float | None = None
    energy_j: float | None = None
    accuracy: float | None = None
    cost: float | None = None
    max_latency_s: float | None = None
    latency_source: str | None = None
    compute_latency_s: float | None = None
    transfer_latency_s: float | None = None


@dataclass
class Evaluation:
    """Everything :func:`evaluate` finds. ``feasible`` is True when no constraint is violated."""

    instance: str
    method: str | None
    objective: float
    violations: list[Violation]
    mismatches: list[Violation]
    metrics: dict[str, float]
    routes: list[RouteEvaluation]
    nodes: dict[str, dict[str, float | None]] = field(default_factory=dict)
    links: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict:
        """Plain data for ``idnplan evaluate --json`` (non-finite numbers become null)."""
        return finite_or_null({
            "instance": self.instance,
            "method": self.method,
            "feasible": self.feasible,
            "objective": self.objective,
            "violations": [asdict(v) for v in self.violations],
            "mismatches": [asdict(v) for v in self.mismatches],
            "metrics": self.metrics,
            "routes": [asdict(r) for r in self.routes],
            "nodes": self.nodes,
            "links": self.links,
        })


def evaluate(instance: Instance, plan: Plan) -> Evaluation:
    """Recompute every figure of ``plan`` on ``instance`` and list every violation.

    Parameters
    ----------
    instance : Instance
        A loaded instance.
    plan : Plan
        The plan to check (a solver's, or one written by hand).

    Returns
    -------
    Evaluation
        Objective J, metrics (with the objective vector F), per-route figures
        (waiting-inclusive under ``options.queueing: ps``), per-node and
        per-link-direction loads and waiting factors, violations, and
        mismatches between reported and recomputed figures.
    """
    v: list[Violation] = []
    if plan.instance != instance.name:
        v.append(Violation("instance", "instance", f"the plan is for instance '{plan.instance}', not '{instance.name}'"))

    routes: list[RouteEvaluation] = []
    figures: dict[int, RouteFigures] = {}
    shares: dict[int, float] = defaultdict(float)
    active: dict[int, int] = defaultdict(int)
    for i, pr in enumerate(plan.routes):
        re_ = RouteEvaluation(i, pr.demand, pr.model, pr.share, [s.model_dump(mode="json", exclude_none=True) for s in pr.segments])
        routes.append(re_)
        where = f"routes[{i}]"
        if not 0 <= pr.demand < len(instance.demands):
            v.append(Violation("unknown-id", f"{where}.demand", f"no demand class {pr.demand} (the instance has {len(instance.demands)})"))
            continue
        if pr.model not in instance.models:
            v.append(Violation("unknown-id", f"{where}.model", f"unknown model '{pr.model}'"))
            continue
        unknown = [s.node for s in pr.segments if s.node not in instance.node]
        if unknown:
            v.append(Violation("unknown-id", f"{where}.segments", f"unknown node '{unknown[0]}'"))
            continue
        if pr.share < -SHARE_TOL or pr.share > 1 + SHARE_TOL:
            v.append(Violation("share", f"{where}.share", f"share must be in [0, 1], got {pr.share:g}", pr.share, 1.0))
        shares[pr.demand] += pr.share
        if pr.share > SHARE_TOL:
            active[pr.demand] += 1
        try:
            figures[i] = plan_route_figures(instance, pr)  # chain route, or graph route when segments give `ops`
        except RouteError as exc:
            v.append(Violation("route", where, str(exc)))

    for d in instance.demands:
        total = shares.get(d.index, 0.0)
        if d.index not in shares:
            v.append(Violation("coverage", f"demand[{d.index}]", f"demand class {d.index} ({d.label}, {d.rate_rps:g} req/s) has no route"))
        elif abs(total - 1.0) > SHARE_TOL:
            v.append(Violation("share", f"demand[{d.index}]", f"shares of demand class {d.index} ({d.label}) sum to {total:.9g}, not 1", total, 1.0))
        if instance.routing == "unsplittable" and active.get(d.index, 0) > 1:
            v.append(Violation("unsplittable", f"demand[{d.index}]", f"routing is unsplittable but demand class {d.index} ({d.label}) uses {active[d.index]} routes"))

    valid = sorted(figures)
    costs = RouteCosts.pack(instance, [figures[i] for i in valid])
    share = np.array([plan.routes[i].share for i in valid], dtype=float)
    flow = instance.rates[costs.demand] * share if valid else np.zeros(0)
    load = kernel_loads(instance, costs, flow)
    latency = costs.latency_s(load.node_factor, load.link_factor)
    compute_lat = costs.compute_latency_s(load.node_factor)
    transfer_lat = costs.transfer_latency_s(load.link_factor)  # its own sum: inf - inf is nan at overloaded servers
    cost = request_cost(instance.weights, latency, costs.accuracy, costs.energy_j)
    for k, i in enumerate(valid):
        pr, fig, re_ = plan.routes[i], figures[i], routes[i]
        dem = instance.demands[pr.demand]
        re_.path = list(fig.path)
        re_.latency_s, re_.energy_j, re_.accuracy = float(latency[k]), fig.energy_j, fig.accuracy
        re_.cost = float(cost[k])
        re_.max_latency_s = dem.max_latency_s
        re_.latency_source = fig.compute_source
        re_.compute_latency_s = float(compute_lat[k])
        re_.transfer_latency_s = float(transfer_lat[k])
        if pr.share > SHARE_TOL:
            where = f"routes[{i}]"
            if fig.accuracy < dem.min_accuracy - 1e-12:
                v.append(Violation("accuracy", where, f"model '{pr.model}' has accuracy {fig.accuracy:.4f} < min_accuracy {dem.min_accuracy:.4f} of demand {pr.demand} ({dem.label})", fig.accuracy, dem.min_accuracy))
            if not within(latency[k], dem.max_latency_s):
                waiting = " including waiting (queueing ps)" if instance.queueing == "ps" else ""
                v.append(Violation("slo", where, f"latency{waiting} {latency[k] * 1e3:.3f} ms > max_latency_s {dem.max_latency_s * 1e3:.3f} ms of demand {pr.demand} ({dem.label})", float(latency[k]), dem.max_latency_s))

    stored = _check_storage(instance, plan, figures, v)
    nodes = _node_loads(instance, valid, costs, share, load, stored, v)
    links = _link_loads(instance, load, v)

    L = instance.total_rate_rps
    tot = totals(instance.weights, flow, latency, costs.accuracy, costs.energy_j, costs.network_bytes, L)
    metrics = {
        "mean_latency_s": tot.mean_latency_s,
        "mean_inaccuracy": tot.mean_inaccuracy,
        "mean_energy_j": tot.mean_energy_j,
        "network_bytes_per_s": tot.network_bytes_per_s,
        "max_node_utilization": max((n["utilization"] for n in nodes.values()), default=0.0),
        "max_link_utilization": max((l["utilization"] for l in links.values()), default=0.0),
        "total_rate_rps": L,
    }
    mismatches = _mismatches(plan, tot.objective, metrics, routes)
    return Evaluation(instance.name, plan.method, tot.objective, v, mismatches, metrics, routes, nodes, links)


def _check_storage(instance: Instance, plan: Plan, figures: dict[int, RouteFigures], v: list[Violation]) -> dict[str, dict[str, set[int]]]:
    stored: dict[str, dict[str, set[int]]] = {}
    for node, models in plan.storage.items():
        if node not in instance.node:
            v.append(Violation("unknown-id", f"storage.{node}", f"unknown node '{node}'"))
            continue
        for model_id, ranges in models.items():
            model = instance.models.get(model_id)
            if model is None:
                v.append(Violation("unknown-id", f"storage.{node}.{model_id}", f"unknown model '{model_id}'"))
                continue
            layers = stored.setdefault(node, {}).setdefault(model_id, set())
            for a, b in ranges:
                if b >= model.n_layers:
                    v.append(Violation("storage", f"storage.{node}.{model_id}", f"range [{a}, {b}] goes past the last layer {model.n_layers - 1} of model '{model_id}'"))
                layers.update(range(a, min(b, model.n_layers - 1) + 1))
    for i in figures:
        pr = plan.routes[i]
        for seg in pr.segments:
            have = stored.get(seg.node, {}).get(pr.model, set())
            missing = sorted(set(segment_layers(instance.models[pr.model], seg)) - have)
            if missing:
                text = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in ranges_of(missing))
                v.append(Violation("storage", f"routes[{i}]", f"node '{seg.node}' computes layers {text} of model '{pr.model}' but does not store them"))
    return stored


def _node_loads(instance: Instance, valid: list[int], costs: RouteCosts, share, load: Loads, stored: dict, v: list[Violation]) -> dict[str, dict]:
    active = share > SHARE_TOL
    ram = np.array([n.ram_bytes for n in instance.nodes])
    for k in np.flatnonzero(active[costs.act_route] & (costs.act_bytes > 0) & ~within(costs.act_bytes, ram[costs.act_node])):
        node = instance.nodes[int(costs.act_node[k])]
        peak = float(costs.act_bytes[k])
        i = valid[int(costs.act_route[k])]
        v.append(Violation("activation-memory", f"routes[{i}]", f"segment at '{node.id}' needs {peak:,.0f} B of activation memory, the node has {node.ram_bytes:,.0f} B (ram_bytes)", peak, node.ram_bytes))
    out = {}
    cap_u = instance.max_utilization
    for node in instance.nodes:
        used = sum(
            float(instance.models[m].param_bytes[sorted(layers)].sum()) if layers else 0.0
            for m, layers in stored.get(node.id, {}).items()
        )
        util = float(load.node_utilization[node.index])
        out[node.id] = {
            "utilization": util,
            "waiting_factor": float(load.node_factor[node.index]),
            "memory_bytes": used,
            "memory_capacity_bytes": node.memory_bytes,
            "device": node.device.name,
        }
        if not within(used, node.memory_bytes):
            v.append(Violation("memory", f"nodes.{node.id}", f"stores {used:,.0f} B of parameters, capacity {node.memory_bytes:,.0f} B", used, node.memory_bytes))
        if not within(util, cap_u):
            v.append(Violation("compute", f"nodes.{node.id}", f"utilization {util:.4f} > max_utilization {cap_u:g}", util, cap_u))
    return out


def _link_loads(instance: Instance, load: Loads, v: list[Violation]) -> dict[str, dict]:
    out = {}
    cap_u = instance.max_utilization
    net = instance.network
    names = sorted((net.direction_name(int(d)), int(d)) for d in np.flatnonzero(load.link_bytes_per_s > 0))
    for name, d in names:
        bps = float(load.link_bytes_per_s[d])
        bw = float(net.dir_bandwidth[d])
        util = float(load.link_utilization[d])
        out[name] = {"load_bytes_per_s": bps, "bandwidth_bytes_per_s": bw, "utilization": util, "waiting_factor": float(load.link_factor[d])}
        if not within(bps, cap_u * bw):
            v.append(Violation("link", f"links.{name}", f"carries {bps:,.1f} B/s > {cap_u:g} x {bw:,.1f} B/s ({util:.1%} of bandwidth)", bps, cap_u * bw))
    return out


def _mismatches(plan: Plan, objective: float, metrics: dict, routes: list[RouteEvaluation]) -> list[Violation]:
    out = []
    if plan.objective is not None and not _close(plan.objective, objective):
        out.append(Violation("mismatch", "objective", f"plan reports {plan.objective:.12g}, recomputed {objective:.12g}", plan.objective, objective))
    if plan.metrics is not None:
        for key, value in plan.metrics.model_dump().items():
            if value is not None and key in metrics and not _close(value, metrics[key]):
                out.append(Violation("mismatch", f"metrics.{key}", f"plan reports {value:.12g}, recomputed {metrics[key]:.12g}", value, metrics[key]))
    for r, pr in zip(routes, plan.routes):
        for key in ("latency_s", "energy_j"):
            reported, actual = getattr(pr, key), getattr(r, key)
            if reported is not None and actual is not None and not _close(reported, actual):
                out.append(Violation("mismatch", f"routes[{r.index}].{key}", f"plan reports {reported:.12g}, recomputed {actual:.12g}", reported, actual))
    return out
