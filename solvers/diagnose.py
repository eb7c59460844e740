"""Why an instance has no feasible plan: per demand class, the tightest reason with numbers.

Called when the LP relaxation, solved over the whole route space by column
generation, still needs the artificial "unserved" columns: then no plan
exists, and this module says which classes cannot be served and why.
"""

from __future__ import annotations

import numpy as np

from placement.instance import Demand, Instance

from .candidates import candidate_routes


def class_reason(instance: Instance, demand: Demand) -> str | None:
    """A reason the class cannot be served even alone, or None if it could be."""
    label = f"demand class {demand.index} ({demand.label}, {demand.rate_rps:g} req/s)"
    models = instance.models_for(demand)
    best_acc = max(m.accuracy for m in models)
    if best_acc < demand.min_accuracy - 1e-12:
        return f"{label}: no model of task '{demand.task}' meets min_accuracy {demand.min_accuracy:.4f} (best is {best_acc:.4f}, model '{max(models, key=lambda m: m.accuracy).id}')"
    fitting = candidate_routes(instance, demand, respect_slo=False)
    fastest = fitting.min_latency()
    if fastest is None:
        biggest = {m.id: m.total_param_bytes for m in models if m.accuracy >= demand.min_accuracy - 1e-12}
        return f"{label}: no route fits: every split of every eligible model ({', '.join(biggest)}) needs a segment larger than its node's parameter memory or activation memory"
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
        reasons.append(f"demand classes {labels}{more} each have routes meeting their SLO and accuracy floor, but not enough capacity is left for all classes together")
        reasons.extend(saturated_resources(instance, master, sol))
    return reasons or ["the relaxation could not serve every class (no single cause found)"]


def saturated_resources(instance: Instance, master, sol) -> list[str]:
    """Resources whose capacity the best relaxed plan exhausts (they price the shortage)."""
    if sol.row_dual is None:
        return []
    out = []
    dual = sol.row_dual
    values = master.h.getSolution().row_value
    for v, row in enumerate(master.row_comp):
        if dual[row] < -1e-9:
            out.append(f"compute of node '{instance.nodes[v].id}' ({instance.nodes[v].device.name}) is saturated: utilization {values[row] * master.U:.3f} of max_utilization {master.U:g}")
    for d, row in enumerate(master.row_link):
        if dual[row] < -1e-9:
            link = instance.links[d // 2]
            a, b = (link.u, link.v) if d % 2 == 0 else (link.v, link.u)
            out.append(f"link {a}->{b} is saturated: {values[row] * master.U * link.bandwidth_bps:,.0f} B/s of {master.U:g} x {link.bandwidth_bps:,.0f} B/s")
    for v, row in master.row_mem.items():
        if dual[row] < -1e-9:
            out.append(f"parameter memory of node '{instance.nodes[v].id}' is full: {values[row] * instance.nodes[v].memory_bytes:,.0f} of {instance.nodes[v].memory_bytes:,.0f} B")
    order = np.argsort([-len(s) for s in out])  # stable, keep all
    return [out[i] for i in sorted(order)][:20]


def explain_integral_infeasible(instance: Instance, master, sol) -> list[str]:
    """The relaxation serves every class, yet no plan with whole stored layers does."""
    out = ["every class can be served if nodes could store fractions of layers, but no plan with whole stored layers exists: parameter memory is too small to hold the layers every class needs at once"]
    full = [
        f"node '{instance.nodes[v].id}' ({instance.nodes[v].memory_bytes:,.0f} B of parameter memory)"
        for v in sorted(master.row_mem)
    ]
    if full:
        out.append("nodes with limited memory that routes need: " + ", ".join(full[:10]))
    return out
