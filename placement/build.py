"""Turning a method's decision into a :class:`~placement.plan.Plan`.

A method reports the figures of its *own* model: for every chosen route its
per-request cost (the J term) and, where its model has them, latency and
energy; the plan's objective is the rate-weighted mean of those costs. The
evaluator recomputes every one of them independently, so a conformance test
comparing the two can fail. The plan's ``metrics`` (means, network load,
utilizations) are computed from the routes by the cost kernel
(:mod:`placement.kernel`) and labelled as such in the docs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graphroute import GraphRoute, graph_route_figures, storage_of
from .instance import Instance
from .kernel import RouteCosts, loads, totals
from .plan import Plan, PlanMetrics, PlanRoute, PlanSegment, PlanStatus, Termination
from .routes import Route, RouteFigures, route_figures


@dataclass(frozen=True)
class RouteChoice:
    """A route a method chose, with its share and the figures of the method's own model.

    ``cost`` is the per-request term of J (``w_latency * latency + w_inaccuracy
    * (1 - accuracy) + w_energy * energy``) as the method computed it;
    ``latency_s`` and ``energy_j`` are reported when the method's model has them.
    """

    route: Route | GraphRoute
    share: float
    cost: float
    latency_s: float | None = None
    energy_j: float | None = None


def build_plan(
    instance: Instance,
    method: str,
    chosen: list[RouteChoice],
    status: PlanStatus = PlanStatus.HEURISTIC,
    *,
    bound: float | None = None,
    termination: Termination | None = Termination.COMPLETED,
    solve_time_s: float | None = None,
    build_time_s: float | None = None,
    seed: int | None = None,
    options: dict | None = None,
    storage: dict[str, dict[str, list[tuple[int, int]]]] | None = None,
    notes: list[str] | None = None,
) -> Plan:
    """Assemble a plan from the routes a method chose, with the method's own figures.

    ``storage`` defaults to exactly the layers the routes compute. The
    objective is ``sum(rate x share x cost) / total rate`` of the method's
    costs; the gap is ``(objective - bound) / max(|objective|, 1e-12)`` when a
    bound is given.
    """
    kept = [c for c in chosen if c.share > 0]
    plan_routes = [
        PlanRoute(
            demand=c.route.demand,
            model=c.route.model,
            share=float(c.share),
            segments=[PlanSegment(node=g.node, ops=list(g.ops)) if isinstance(c.route, GraphRoute) else PlanSegment(node=g.node, layers=(g.first, g.last)) for g in c.route.segments],
            latency_s=None if c.latency_s is None else float(c.latency_s),
            energy_j=None if c.energy_j is None else float(c.energy_j),
        )
        for c in kept
    ]
    flow = np.array([instance.demands[c.route.demand].rate_rps * c.share for c in kept], dtype=float)
    objective = float(flow @ np.array([c.cost for c in kept], dtype=float)) / instance.total_rate_rps
    figures = [usage(instance, c.route) for c in kept]
    for pr, fig in zip(plan_routes, figures):
        pr.latency_source = "measured compute, modelled transfers" if fig.compute_source == "measured" else "estimated"
    plan = Plan(
        instance=instance.name,
        method=method,
        status=status,
        objective=objective,
        storage=storage if storage is not None else storage_of(instance, [c.route for c in kept]),
        routes=plan_routes,
        solve_time_s=solve_time_s,
        build_time_s=build_time_s,
        termination=termination,
        seed=seed,
        options=options or {},
        notes=notes or [],
        metrics=_metrics(instance, figures, flow),
    )
    if bound is not None:
        plan.bound = float(bound)
        plan.gap = max(0.0, (objective - bound) / max(abs(objective), 1e-12))
    return plan


def usage(instance: Instance, route: Route | GraphRoute) -> RouteFigures:
    """What one request on a chain or graph route uses (:func:`route_figures`, :func:`graph_route_figures`)."""
    if isinstance(route, GraphRoute):
        return graph_route_figures(instance, route.demand, route.model, route.segments)
    return route_figures(instance, route)


def _metrics(instance: Instance, figures, flow: np.ndarray) -> PlanMetrics:
    """Means, network load and peak utilizations of the routes, by the cost kernel."""
    costs = RouteCosts.pack(instance, figures)
    load = loads(instance, costs, flow)
    latency = costs.latency_s(load.node_factor, load.link_factor)
    tot = totals(instance.weights, flow, latency, costs.accuracy, costs.energy_j, costs.network_bytes, instance.total_rate_rps)
    return PlanMetrics(
        mean_latency_s=tot.mean_latency_s,
        mean_inaccuracy=tot.mean_inaccuracy,
        mean_energy_j=tot.mean_energy_j,
        network_bytes_per_s=tot.network_bytes_per_s,
        max_node_utilization=float(load.node_utilization.max(initial=0.0)),
        max_link_utilization=float(load.link_utilization.max(initial=0.0)),
        total_rate_rps=instance.total_rate_rps,
    )


def plan_from_routes(instance: Instance, routes: list[tuple[Route | GraphRoute, float]], method: str = "hand") -> Plan:
    """A heuristic-status plan from ``(route, share)`` pairs, for plans written by hand.

    There is no method model here: each route's figures are those of
    :func:`route_figures` (so the evaluator cannot disagree with them).
    Methods use :func:`build_plan` with their own figures instead.
    """
    chosen = []
    for route, share in routes:
        fig = usage(instance, route)
        chosen.append(RouteChoice(route, share, fig.cost(instance), fig.latency_s, fig.energy_j))
    return build_plan(instance, method, chosen, PlanStatus.HEURISTIC)
