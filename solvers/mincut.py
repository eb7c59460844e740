"""``dag-mincut``: DADS-style device/server partition of each model's graph.

Per demand class (largest rate first, sharing capacity like ``greedy``), with
the server of ``two-tier`` (``--option server=NODE``, default the nearest
``edge``, else ``cloud`` node), the candidates are

- every chain cut of every eligible model (``two-tier``'s exhaustive scan,
  all-on-device and all-on-server included), and
- for each eligible model with a graph, its best graph partition: the exact
  minimum s-t cut over all down-sets of operators (:mod:`solvers.graphcut`),
  or everything on the device when that is cheaper.

They are sorted by the objective's per-request cost and the first one that
meets the SLO, the accuracy floor and the capacity left is placed. A graph
partition that is no chain cut goes into the plan as a graph route (segments
with ``ops``); one that equals a chain cut is placed as that chain route. The
plan is never worse than the best chain cut nor than all-on-device, and when
no SLO or capacity binds it is the best of all device/server partitions.

A class whose eligible models all lack a graph is an input error (the method
would silently be ``two-tier``); models without a graph beside others with
one are scanned as chains only, and a note says so.
"""

from __future__ import annotations

import time

from placement.build import RouteChoice, build_plan
from placement.errors import InfeasibleError, InputError
from placement.graphroute import GraphRoute, graph_route_figures, segment_layers
from placement.instance import Demand, Instance
from placement.kernel import SOLVER_RTOL, within
from placement.plan import Plan, PlanStatus, Termination, ranges_of
from placement.routes import Route, Segment

from .capacity import Capacity
from .columns import Column, column_from_route
from .graphcut import GraphCut, best_partition, min_cut_partition, partition_cost
from .registry import SolveOptions, register
from .twotier import SERVER_OPTION, cut_scan, server_of

__all__ = ["GraphCut", "dag_mincut", "graph_column", "min_cut_partition", "partition_cost"]


def graph_column(instance: Instance, route: GraphRoute) -> Column:
    """A graph route as a column for :class:`~solvers.capacity.Capacity`.

    Compute and link loads come from the graph figures; the column's ``route``
    lists, per node, the chain layers it must store (as ranges), which is what
    ``Capacity`` checks memory and activation memory on.
    """
    fig = graph_route_figures(instance, route.demand, route.model, route.segments)
    model = instance.models[route.model]
    links = []
    for (a, b), nbytes in fig.link_bytes.items():
        link = instance.network.link(a, b)
        links.append((2 * link.index + (0 if link.u == a else 1), nbytes))
    stored = tuple(
        Segment(seg.node, a, b) for seg in route.segments for a, b in ranges_of(segment_layers(model, seg))
    )
    compute = [(instance.node[v].index, t) for v, t in fig.compute_s.items()]
    return Column(Route(route.demand, route.model, stored), route.demand, fig.cost(instance), fig.latency_s, fig.energy_j, compute, links)


def _graph_candidates(instance: Instance, demand: Demand, server: str, notes: list[str]) -> list[GraphCut]:
    eligible = [m for m in instance.models_for(demand) if m.accuracy >= demand.min_accuracy - 1e-12]
    with_graph = [m for m in eligible if m.graph is not None]
    if eligible and not with_graph:
        names = ", ".join(f"'{m.id}'" for m in eligible)
        raise InputError(f"dag-mincut: no model eligible for demand class {demand.index} ({demand.label}) has a graph ({names}); "
                         "profile the model with `idnplan profile` (which records its graph) or give `graph:` in the instance; "
                         "`two-tier` scans chain cuts without one")
    for m in eligible:
        if m.graph is None:
            notes.append(f"demand {demand.index}: model '{m.id}' has no graph, so only its chain cuts were scanned (`idnplan profile` records a graph)")
        elif any(op.layer is None for op in m.graph.nodes):
            notes.append(f"demand {demand.index}: model '{m.id}' has graph operators without `layer`, so its graph partitions cannot be stored; only its chain cuts were scanned")
    return [best_partition(instance, m, demand, server) for m in with_graph if all(op.layer is not None for op in m.graph.nodes)]


def _place_class(instance: Instance, demand: Demand, server: str, cap: Capacity, notes: list[str]) -> tuple[object, dict]:
    """Place one class on its cheapest feasible candidate; returns (route, stats entry)."""
    graph_cuts = _graph_candidates(instance, demand, server, notes)
    scan = cut_scan(instance, demand, server)
    candidates: list[RouteChoice] = list(scan)
    for cut in graph_cuts:
        if cut.chain_cut is None and within(cut.latency_s, demand.max_latency_s, SOLVER_RTOL):
            candidates.append(RouteChoice(cut.route, 1.0, cut.cost, cut.latency_s))
    candidates.sort(key=lambda c: (c.cost, c.latency_s))
    placed = None
    for choice in candidates:
        route = choice.route
        col = graph_column(instance, route) if isinstance(route, GraphRoute) else column_from_route(instance, route, set())
        if cap.fits(col, demand.rate_rps):
            cap.commit(col, demand.rate_rps)
            placed = (choice.cost, choice.latency_s, choice)
            break
    if placed is None:
        raise InfeasibleError([f"demand class {demand.index} ({demand.label}): no device/server partition between '{demand.origin}' and '{server}' meets its SLO and accuracy floor within the capacity left",
                               "(dag-mincut only considers device/server partitions: this does not prove that no plan exists)"], method="dag-mincut")
    entry: dict = {"demand": demand.index, "server": server, "chosen": "graph" if isinstance(placed[2].route, GraphRoute) else "chain",
                   "cost": placed[0], "latency_s": placed[1]}
    if scan:
        entry.update({"chain_cost": scan[0].cost, "chain_latency_s": scan[0].latency_s})
    if graph_cuts:
        best = min(graph_cuts, key=lambda c: (c.cost, c.latency_s))
        entry.update({
            "graph_model": best.model, "graph_cost": best.cost, "graph_latency_s": best.latency_s,
            "graph_sent_bytes": best.sent_bytes, "graph_device_ops": len(best.device_ops),
            "graph_is_chain_cut": best.chain_cut is not None,
        })
        if isinstance(placed[2].route, GraphRoute):
            chain = f"the best chain cut ({scan[0].latency_s * 1e3:.3f} ms)" if scan else "every chain cut (none meets the SLO and memory)"
            notes.append(f"demand {demand.index}: the graph partition of '{best.model}' ({best.latency_s * 1e3:.3f} ms, {len(best.device_ops)} operators on '{demand.origin}') beats {chain}; the plan carries it as `ops` segments")
        elif best.chain_cut is None and best.cost < placed[0]:
            notes.append(f"demand {demand.index}: the graph partition of '{best.model}' ({best.latency_s * 1e3:.3f} ms) misses the SLO, memory or capacity left; the plan keeps a chain cut")
    return placed[2], entry


@register("dag-mincut", "DADS-style: exact minimum s-t cut of each model's graph for the device/server split; plans carry the graph partition when it beats every chain cut (option server=NODE)",
          splitting=True, min_segments=2, needs_graph=True, options=(SERVER_OPTION,))
def dag_mincut(instance: Instance, opts: SolveOptions) -> Plan:
    start = time.perf_counter()
    cap = Capacity(instance)
    chosen, notes, stats = [], [], {"classes": []}
    for demand in sorted(instance.demands, key=lambda d: (-d.rate_rps, d.index)):
        server = server_of(instance, demand, opts, "dag-mincut")
        choice, entry = _place_class(instance, demand, server, cap, notes)
        chosen.append(choice)
        stats["classes"].append(entry)
    plan = build_plan(
        instance,
        "dag-mincut",
        sorted(chosen, key=lambda c: c.route.demand),
        PlanStatus.HEURISTIC,
        termination=Termination.COMPLETED,
        solve_time_s=time.perf_counter() - start,
        seed=opts.seed,
        notes=notes + ["exact among device/server partitions when no SLO or capacity binds"],
    )
    plan.stats = stats
    return plan
