"""Readable text for plans, evaluations and catalogs (units in every header)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .evaluate import Evaluation
from .instance import Instance
from .plan import Plan


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A plain aligned text table; ``align`` has one 'l' or 'r' per column."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" * len(headers)
    out = []
    for k, row in enumerate(cells):
        parts = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align)]
        out.append("  ".join(parts).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def fmt_ms(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    return f"{seconds * 1e3:.3f}"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    if not math.isfinite(n):
        return "unbounded"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f} B"


def fmt_num(x: float | None, digits: int = 6) -> str:
    return "-" if x is None else f"{x:.{digits}g}"


def segment_label(seg) -> str:
    """A plan segment as text: ``node[a-b]`` for chain layers, ``node{N ops: first..last}`` for graph operators.

    ``seg`` is a :class:`~placement.plan.PlanSegment` or its JSON dict.
    """
    get = seg.get if isinstance(seg, dict) else lambda k: getattr(seg, k)
    ops = get("ops")
    if ops is not None:
        span = ops[0] if len(ops) == 1 else f"{ops[0]}..{ops[-1]}"
        return f"{get('node')}{{{len(ops)} op{'s' if len(ops) != 1 else ''}: {span}}}"
    a, b = get("layers")
    return f"{get('node')}[{a}-{b}]"


def plan_header(plan: Plan) -> str:
    gap = "-" if plan.gap is None else f"{plan.gap:.4%}"
    lines = [
        f"instance {plan.instance}  method {plan.method}  status {plan.status}"
        + (f"  termination {plan.termination}" if plan.termination else ""),
        f"objective J {fmt_num(plan.objective, 10)}  bound {fmt_num(plan.bound, 10)}  gap {gap}"
        + (f"  build {plan.build_time_s:.3f} s" if plan.build_time_s is not None else "")
        + (f"  solve {plan.solve_time_s:.3f} s" if plan.solve_time_s is not None else "")
        + (f"  total {plan.wall_time_s:.3f} s" if plan.wall_time_s is not None else ""),
    ]
    return "\n".join(lines)


def routes_table(instance: Instance, plan: Plan) -> str:
    rows = []
    for r in plan.routes:
        dem = instance.demands[r.demand] if 0 <= r.demand < len(instance.demands) else None
        segs = " -> ".join(segment_label(s) for s in r.segments)
        rows.append([
            r.demand,
            dem.origin if dem else "?",
            dem.task if dem else "?",
            f"{dem.rate_rps:g}" if dem else "?",
            r.model,
            f"{r.share:.3f}",
            segs,
            fmt_ms(r.latency_s),
            fmt_ms(dem.max_latency_s) if dem else "-",
            fmt_num(r.energy_j, 4),
        ])
    return table(
        ["demand", "origin", "task", "rate_rps", "model", "share", "segments node[layers] or node{ops}", "latency_ms*", "slo_ms", "energy_j*"],
        rows,
        "rllrlrlrrr",
    )


def storage_table(instance: Instance, plan: Plan) -> str:
    rows = []
    for node, models in plan.storage.items():
        for model, ranges in models.items():
            m = instance.models.get(model)
            nbytes = None
            if m is not None:
                nbytes = sum(m.segment_param_bytes(a, min(b, m.n_layers - 1)) for a, b in ranges)
            rows.append([node, model, ", ".join(f"{a}-{b}" for a, b in ranges), fmt_bytes(nbytes)])
    return table(["node", "model", "layers", "param_bytes"], rows, "lllr")


def metrics_text(metrics: dict) -> str:
    return (
        f"mean latency {fmt_ms(metrics.get('mean_latency_s'))} ms*  "
        f"mean inaccuracy {metrics.get('mean_inaccuracy', 0):.4f}  "
        f"mean energy {fmt_num(metrics.get('mean_energy_j'), 4)} J*  "
        f"network {fmt_bytes(metrics.get('network_bytes_per_s'))}/s  "
        f"max node util {metrics.get('max_node_utilization', 0):.3f}  "
        f"max link util {metrics.get('max_link_utilization') or 0:.3f}"
    )


ESTIMATE_NOTE = "* estimated: layer figures from profiles or the device catalog, transfers from the link model"


def plan_text(instance: Instance, plan: Plan) -> str:
    """The whole plan as text: header, routes, storage and metrics."""
    parts = [plan_header(plan), "", routes_table(instance, plan), "", storage_table(instance, plan)]
    if plan.metrics is not None:
        parts += ["", metrics_text(plan.metrics.model_dump())]
    parts.append(ESTIMATE_NOTE)
    return "\n".join(parts)


def evaluation_text(ev: Evaluation) -> str:
    """An evaluation as text: recomputed routes, loads, violations, mismatches."""
    rows = []
    for r in ev.routes:
        segs = " -> ".join(segment_label(s) for s in r.segments)
        rows.append([r.index, r.demand, r.model, f"{r.share:.3f}", segs, fmt_ms(r.latency_s), fmt_ms(r.max_latency_s), fmt_num(r.energy_j, 4), fmt_num(r.cost, 6)])
    parts = [
        f"instance {ev.instance}  plan by {ev.method}  objective J {ev.objective:.10g}  "
        + ("FEASIBLE" if ev.feasible else f"INFEASIBLE ({len(ev.violations)} violations)"),
        "",
        table(["route", "demand", "model", "share", "segments", "latency_ms*", "slo_ms", "energy_j*", "cost"], rows, "rrlrlrrrr"),
        "",
        metrics_text(ev.metrics),
    ]
    busy = sorted(ev.nodes.items(), key=lambda kv: -kv[1]["utilization"])[:10]
    parts += ["", table(
        ["node", "device", "utilization", "waiting_factor", "memory_used", "memory_capacity"],
        [[k, n["device"], f"{n['utilization']:.4f}", fmt_num(n["waiting_factor"], 4), fmt_bytes(n["memory_bytes"]), fmt_bytes(n["memory_capacity_bytes"])] for k, n in busy],
        "llrrrr",
    )]
    if ev.links:
        top = sorted(ev.links.items(), key=lambda kv: -kv[1]["utilization"])[:10]
        parts += ["", table(
            ["link direction", "load_bytes_per_s", "bandwidth_bytes_per_s", "utilization", "waiting_factor"],
            [[k, f"{l['load_bytes_per_s']:,.1f}", f"{l['bandwidth_bytes_per_s']:,.0f}", f"{l['utilization']:.4f}", fmt_num(l["waiting_factor"], 4)] for k, l in top],
            "lrrrr",
        )]
    if ev.violations:
        parts += ["", "violations:"] + [f"  {v}" for v in ev.violations]
    if ev.mismatches:
        parts += ["", "reported figures that do not match the recomputation:"] + [f"  {v}" for v in ev.mismatches]
    parts.append(ESTIMATE_NOTE)
    return "\n".join(parts)
