"""Independent oracles for the exact methods, for tiny instances only.

- Unsplittable routing: try every combination of one route per class.
- Splittable routing: storing more never costs anything, so try every
  maximal memory-feasible storage (per node, independently), and for each
  solve the routing LP over every route the storage allows (scipy's linprog).

Both enumerate routes with the evaluator's own definitions
(:func:`placement.enumerate_routes`, :func:`placement.route_figures`) and
share no code with the solvers.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
from scipy.optimize import linprog

from placement import Instance, enumerate_routes, route_figures


def valid_routes(inst: Instance) -> dict[int, list]:
    """Per class: (route, figures) meeting SLO, accuracy floor and per-segment memory fits."""
    out = {}
    for d in inst.demands:
        keep = []
        for r in enumerate_routes(inst, d.index):
            fig = route_figures(inst, r)
            model = inst.models[r.model]
            if fig.latency_s > d.max_latency_s * (1 + 1e-9) or fig.accuracy < d.min_accuracy - 1e-12:
                continue
            if any(model.segment_param_bytes(s.first, s.last) > inst.node[s.node].memory_bytes * (1 + 1e-9) for s in r.segments):
                continue
            if any(model.segment_peak_activation(s.first, s.last) > inst.node[s.node].ram_bytes * (1 + 1e-9) for s in r.segments):
                continue
            keep.append((r, fig))
        out[d.index] = keep
    return out


def _keys(route) -> set[tuple[str, str, int]]:
    return {(s.node, route.model, l) for s in route.segments for l in range(s.first, s.last + 1)}


def _fits(inst: Instance, keys: set) -> bool:
    used: dict[str, float] = defaultdict(float)
    for node, model, layer in keys:
        used[node] += float(inst.models[model].param_bytes[layer])
    return all(b <= inst.node[n].memory_bytes * (1 + 1e-9) for n, b in used.items())


def brute_force(inst: Instance) -> float | None:
    """The optimal objective J, or None when no plan exists."""
    routes = valid_routes(inst)
    if any(not routes[d.index] for d in inst.demands):
        return None
    if inst.routing == "unsplittable":
        return _unsplittable(inst, routes)
    return _splittable(inst, routes)


def _unsplittable(inst: Instance, routes: dict) -> float | None:
    best = None
    L = inst.total_rate_rps
    classes = [d.index for d in inst.demands]
    for combo in itertools.product(*(routes[c] for c in classes)):
        if not combo_fits(inst, classes, combo):
            continue
        value = sum(inst.demands[c].rate_rps * fig.cost(inst) for c, (_, fig) in zip(classes, combo)) / L
        if best is None or value < best:
            best = value
    return best


def combo_fits(inst: Instance, classes: list[int], combo) -> bool:
    """Whether one route per class (``combo`` of (route, figures), in ``classes`` order)
    fits parameter memory, compute utilization and link load together."""
    if not _fits(inst, set().union(*(_keys(r) for r, _ in combo))):
        return False
    busy: dict[str, float] = defaultdict(float)
    load: dict[tuple, float] = defaultdict(float)
    for c, (_, fig) in zip(classes, combo):
        rate = inst.demands[c].rate_rps
        for n, t in fig.compute_s.items():
            busy[n] += rate * t
        for k, b in fig.link_bytes.items():
            load[k] += rate * b
    U = inst.max_utilization
    if any(u > U * (1 + 1e-9) for u in busy.values()):
        return False
    return all(b <= U * inst.network.link(*k).bandwidth_bytes_per_s * (1 + 1e-9) for k, b in load.items())


def _maximal_subsets(inst: Instance, node: str, keys: list) -> list[set]:
    """Maximal subsets of a node's keys whose parameters fit its memory."""
    cap = inst.node[node].memory_bytes
    sizes = [float(inst.models[m].param_bytes[l]) for _, m, l in keys]
    fitting = []
    for mask in range(1 << len(keys)):
        total = sum(sizes[i] for i in range(len(keys)) if mask >> i & 1)
        if total <= cap * (1 + 1e-9):
            fitting.append(mask)
    fset = set(fitting)
    maximal = [m for m in fitting if all((m | 1 << i) not in fset for i in range(len(keys)) if not m >> i & 1)]
    return [{keys[i] for i in range(len(keys)) if m >> i & 1} for m in maximal]


def _splittable(inst: Instance, routes: dict) -> float | None:
    all_routes = [(c, r, fig) for c, lst in routes.items() for r, fig in lst]
    finite = sorted({k[0] for _, r, _ in all_routes for k in _keys(r) if math.isfinite(inst.node[k[0]].memory_bytes)})
    per_node = []
    for node in finite:
        keys = sorted({k for _, r, _ in all_routes for k in _keys(r) if k[0] == node})
        per_node.append(_maximal_subsets(inst, node, keys))
    best = None
    for choice in itertools.product(*per_node):
        stored = set().union(*choice) if choice else set()
        allowed = [
            (c, r, fig) for c, r, fig in all_routes
            if all(k in stored for k in _keys(r) if k[0] in finite)
        ]
        value = _routing_lp(inst, allowed)
        if value is not None and (best is None or value < best):
            best = value
    return best


def _routing_lp(inst: Instance, allowed: list) -> float | None:
    if not allowed:
        return None
    classes = [d.index for d in inst.demands]
    if {c for c, _, _ in allowed} != set(classes):
        return None
    L = inst.total_rate_rps
    n = len(allowed)
    cost = np.array([inst.demands[c].rate_rps * fig.cost(inst) / L for c, _, fig in allowed])
    a_eq = np.zeros((len(classes), n))
    for j, (c, _, _) in enumerate(allowed):
        a_eq[classes.index(c), j] = 1.0
    rows, rhs = [], []
    nodes = sorted({n_ for _, _, fig in allowed for n_ in fig.compute_s})
    for node in nodes:
        rows.append([inst.demands[c].rate_rps * fig.compute_s.get(node, 0.0) for c, _, fig in allowed])
        rhs.append(inst.max_utilization)
    dirs = sorted({k for _, _, fig in allowed for k in fig.link_bytes})
    for k in dirs:
        rows.append([inst.demands[c].rate_rps * fig.link_bytes.get(k, 0.0) for c, _, fig in allowed])
        rhs.append(inst.max_utilization * inst.network.link(*k).bandwidth_bytes_per_s)
    res = linprog(
        cost,
        A_ub=np.array(rows) if rows else None,
        b_ub=np.array(rhs) if rows else None,
        A_eq=a_eq,
        b_eq=np.ones(len(classes)),
        bounds=[(0, 1)] * n,
        method="highs",
    )
    return float(res.fun) if res.status == 0 else None
