"""Why an instance has no feasible plan: per demand class, the tightest reason with numbers.

Called when the LP relaxation, solved over the whole route space by column
generation, still needs the artificial "unserved" columns: then no plan
exists, and this module says which classes cannot be served and why, in
order of tightness:

1. no model of the task meets the accuracy floor (best accuracy given);
2. no route fits: every split needs a segment larger than its node's
   parameter or activation memory;
3. the fastest route misses the SLO (its latency given);
4. capacity: the class has routes, but not together with the others; the
   saturated nodes and links are listed with the load the unserved requests
   would add on their cheapest routes, against what is available.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from placement.instance import Demand, Instance
from placement.routes import route_figures

from .candidates import candidate_routes
from .columns import column_from_candidate
from .origin_trees import origin_tree
from .splitdp import best_route, fastest_latency


def class_reason(instance: Instance, demand: Demand) -> str | None:
    """A reason the class cannot be served even alone, or None if it could be."""
    label = f"demand class {demand.index} ({demand.label}, {demand.rate_rps:g} req/s)"
    models = instance.models_for(demand)
    best = max(models, key=lambda m: m.accuracy)
    if best.accuracy < demand.min_accuracy - 1e-12:
        return f"{label}: no model of task '{demand.task}' meets min_accuracy {demand.min_accuracy:.4f} (best is {best.accuracy:.4f}, model '{best.id}')"
    fastest = fastest_latency(instance, demand)
    if fastest is None:
        eligible = [m for m in models if m.accuracy >= demand.min_accuracy - 1e-12]
        largest_layer = min(float(m.param_bytes.max()) for m in eligible)
        reach = instance.network.reachable(demand.origin)
        biggest = max((instance.node[n].memory_bytes for n in reach), default=0.0)
        return (
            f"{label}: no route fits: every split of every eligible model ({', '.join(m.id for m in eligible)}) needs a segment "
            f"larger than its node's parameter or activation memory (smallest largest-layer {largest_layer:,.0f} B; "
            f"largest memory reachable {biggest:,.0f} B)"
        )
    if fastest > demand.max_latency_s * (1 + 1e-9):
        return f"{label}: the fastest route takes {fastest * 1e3:.3f} ms > max_latency_s {demand.max_latency_s * 1e3:.3f} ms"
    return None


def explain_infeasible(instance: Instance, master, sol) -> list[str]:
    """Reasons for the classes the relaxation could not serve, and the saturated resources."""
    reasons = []
    unserved = [r for r in range(len(instance.demands)) if sol.artificial[r] > 1e-7]
    capacity_bound = []
    for r in unserved:
        reason = class_reason(instance, instance.demands[r])
        if reason:
            reasons.append(reason)
        else:
            capacity_bound.append(r)
    if capacity_bound:
        d = instance.demands
        labels = ", ".join(f"{r} ({d[r].label}, {sol.artificial[r] * d[r].rate_rps:.3g} of {d[r].rate_rps:g} req/s unserved)" for r in capacity_bound[:10])
        more = f" and {len(capacity_bound) - 10} more" if len(capacity_bound) > 10 else ""
        reasons.append(f"demand classes {labels}{more} each have routes meeting their SLO and accuracy floor, but the capacity does not serve all classes together")
        reasons.extend(saturated_resources(instance, master, sol, capacity_bound))
    return reasons or ["the relaxation could not serve every class (no single cause found)"]


def _cheapest_usage(instance: Instance, r: int) -> dict[tuple[str, int], float] | None:
    """Per-request use of the class's cheapest route (ignoring capacity)."""
    demand = instance.demands[r]
    cand = next(iter(candidate_routes(instance, demand)), None)
    if cand is None:
        return None
    col = column_from_candidate(instance, origin_tree(instance, demand.origin), cand, set())
    use: dict[tuple[str, int], float] = defaultdict(float)
    for v, t in col.compute:
        use[("node", v)] += t
    for dd, b in col.links:
        use[("link", dd)] += b
    return use


def saturated_resources(instance: Instance, master, sol, unserved: list[int] | None = None) -> list[str]:
    """Resources the best relaxed plan fills to capacity, with the load the unserved requests would add.

    A node or link direction is listed when the relaxation's plan loads it to
    its capacity (``max_utilization`` x speed or bandwidth, 1e-6 relative) and
    the solver prices it (a nonzero dual: relieving it would serve more).
    """
    if sol.row_dual is None:
        return []
    dual = sol.row_dual
    values = np.array(master.h.getSolution().row_value)
    load = master.server_load(sol.y)
    node_load, link_load = load[: len(instance.nodes)], load[len(instance.nodes):]
    extra: dict[tuple[str, int], float] = defaultdict(float)
    for r in unserved or []:
        use = _cheapest_usage(instance, r)
        if use:
            missing = sol.artificial[r] * instance.demands[r].rate_rps
            for key, amount in use.items():
                extra[key] += missing * amount
    U = master.U
    out = []
    for v, row in enumerate(master.row_comp):
        if dual[row] < -1e-9 and node_load[v] >= U * (1 - 1e-6):
            node = instance.nodes[v]
            load = node_load[v]
            more = extra.get(("node", v), 0.0)
            need = f"; the unserved requests on their cheapest routes would need {more:.3f} more (utilization {load + more:.3f})" if more > 0 else ""
            out.append(f"compute of node '{node.id}' ({node.device.name}) is saturated: utilization {load:.3f} of max_utilization {U:g}{need}")
    for d, row in enumerate(master.row_link):
        link = instance.links[d // 2]
        if dual[row] < -1e-9 and link_load[d] >= U * link.bandwidth_bytes_per_s * (1 - 1e-6):
            a, b = (link.u, link.v) if d % 2 == 0 else (link.v, link.u)
            load = link_load[d]
            more = extra.get(("link", d), 0.0)
            need = f"; the unserved requests on their cheapest routes would need {more:,.0f} B/s more ({load + more:,.0f} B/s)" if more > 0 else ""
            out.append(f"link {a}->{b} is saturated: {load:,.0f} B/s of {U:g} x {link.bandwidth_bytes_per_s:,.0f} B/s{need}")
    for v, row in master.row_mem.items():
        if dual[row] < -1e-9:
            cap = instance.nodes[v].memory_bytes
            out.append(f"parameter memory of node '{instance.nodes[v].id}' is full: {values[row] * cap:,.0f} of {cap:,.0f} B")
    return out[:20] + ([f"... and {len(out) - 20} more saturated resources"] if len(out) > 20 else [])


def one_route_reasons(instance: Instance) -> list[str]:
    """Unsplittable routing: classes no single route can carry even alone, with the binding capacity."""
    out = []
    U = instance.max_utilization
    for d in instance.demands:
        if best_route(instance, d, capacity=True) is not None:
            continue
        free = best_route(instance, d, capacity=False)
        if free is None:
            continue  # no route at all: class_reason explains it
        fig = route_figures(instance, free[0])
        loads = [(d.rate_rps * t / U, f"node '{v}' at {d.rate_rps * t:.3f} utilization") for v, t in fig.compute_s.items()]
        for (a, b), nbytes in fig.link_bytes.items():
            bw = instance.network.link(a, b).bandwidth_bytes_per_s
            loads.append((d.rate_rps * nbytes / (U * bw), f"link {a}->{b} at {d.rate_rps * nbytes:,.0f} B/s of {bw:,.0f} B/s"))
        worst = max(loads)[1] if loads else "its route"
        out.append(f"demand class {d.index} ({d.label}, {d.rate_rps:g} req/s): routing is unsplittable (one route per class) and no single route can carry the class within max_utilization {U:g}, "
                   f"even alone; its best route would load {worst}; splitting it over several routes (options.routing: splittable) may fit")
    return out


def explain_integral_infeasible(instance: Instance, master, sol) -> list[str]:
    """The relaxation serves every class (fractions of layers stored, fractions of routes), yet no integral plan exists."""
    if instance.routing == "unsplittable":
        reasons = one_route_reasons(instance)
        if reasons:
            return reasons
    out = ["every class can be served if nodes could store fractions of layers" + (" and classes could split over routes" if instance.routing == "unsplittable" else "") + ", but no plan stores whole layers within parameter memory" + (" with one route per class" if instance.routing == "unsplittable" else "")]
    need: dict[int, float] = defaultdict(float)
    for (v, m, l), x in zip(master.x_keys, sol.x):
        if x > 1e-9:
            need[v] += float(instance.models[m].param_bytes[l])
    for v in sorted(need, key=lambda v: -need[v] / instance.nodes[v].memory_bytes):
        cap = instance.nodes[v].memory_bytes
        if need[v] > cap * (1 + 1e-9) and math.isfinite(cap):
            out.append(f"node '{instance.nodes[v].id}': the relaxed plan uses layers of {need[v]:,.0f} B in total, {cap:,.0f} B of parameter memory available")
    return out
