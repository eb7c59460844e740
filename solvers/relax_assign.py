"""Rounding steps of ``relax``: storage over each node's memory, and the unsplittable assignment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from placement.instance import Instance
from placement.kernel import SOLVER_RTOL
from placement.routes import Route

from .congestion import value_routes
from .registry import SolveOptions

if TYPE_CHECKING:  # cvxpy is imported only when relax runs
    from .relax_model import RelaxModel, RelaxSolution

#: Single-class improving moves are tried only up to this many classes (each move re-values the plan).
MAX_IMPROVE_CLASSES = 60
ALTERNATIVES = 4


def round_storage(instance: Instance, x_frac: dict[tuple[int, str, int], float], seed: int | None) -> set[tuple[int, str, int]]:
    """Integral storage from fractions: per node, keys in decreasing fraction (``seed`` None) or in a
    seeded random order weighted by the fraction (Efraimidis-Spirakis), each kept while it fits.

    A key of fraction 1 comes first in every order, so storage the relaxation
    is sure of is always kept; keys of fraction 0 are never stored.
    """
    rng = None if seed is None else np.random.default_rng(seed)
    by_node: dict[int, list[tuple[float, tuple[int, str, int]]]] = {}
    for key, x in sorted(x_frac.items()):
        if x <= 1e-9:
            continue
        prio = x if rng is None else float(rng.random()) ** (1.0 / min(x, 1.0))
        by_node.setdefault(key[0], []).append((prio, key))
    out: set[tuple[int, str, int]] = set()
    for v, items in by_node.items():
        room = float(instance.nodes[v].memory_bytes) * (1 + SOLVER_RTOL)
        for _, key in sorted(items, key=lambda pk: -pk[0]):
            need = float(instance.models[key[1]].param_bytes[key[2]])
            if need <= room:
                out.add(key)
                room -= need
    return out


def assign_unsplittable(instance: Instance, model: RelaxModel, sol: RelaxSolution, opts: SolveOptions) -> list[tuple[Route, float]] | None:
    """One route per class: classes by decreasing rate take their largest-share route that fits the
    capacity left (then the next), then single-class moves that lower J are made. None if a class fits nowhere."""
    A = model.A.tocsc()
    resid = np.full(model.n_servers, instance.max_utilization * (1 + SOLVER_RTOL))
    options: dict[int, list[int]] = {}
    allowed = np.asarray(model.allow.value)
    for c in range(len(instance.demands)):
        idx = np.flatnonzero((model.cls == c) & (allowed > 0))
        options[c] = sorted(idx.tolist(), key=lambda i: (-sol.y[i], model.cost[i]))
    chosen: dict[int, int] = {}
    for c in sorted(options, key=lambda c: -instance.demands[c].rate_rps):
        rate = instance.demands[c].rate_rps
        for i in options[c]:
            lo, hi = A.indptr[i], A.indptr[i + 1]
            rows, use = A.indices[lo:hi], rate * A.data[lo:hi]
            if np.all(use <= resid[rows]):
                resid[rows] -= use
                chosen[c] = i
                break
        else:
            return None
    routes = {c: model.columns[i].route for c, i in chosen.items()}
    if len(routes) <= MAX_IMPROVE_CLASSES:
        routes = _improve(instance, model, options, routes, opts)
    return [(routes[c], 1.0) for c in sorted(routes)]


def _improve(instance: Instance, model: RelaxModel, options: dict[int, list[int]], routes: dict[int, Route], opts: SolveOptions) -> dict[int, Route]:
    """Single-class moves among each class's best alternatives while they lower J (feasibly)."""
    current = value_routes(instance, [(routes[c], 1.0) for c in sorted(routes)])
    best = current.objective if current.feasible else np.inf
    for _ in range(2):
        moved = False
        for c in sorted(routes):
            for i in options[c][:ALTERNATIVES]:
                alt = model.columns[i].route
                if alt == routes[c] or opts.expired():
                    continue
                trial = {**routes, c: alt}
                got = value_routes(instance, [(trial[k], 1.0) for k in sorted(trial)])
                if got.feasible and got.objective < best - 1e-12:
                    routes, best, moved = trial, got.objective, True
        if not moved:
            break
    return routes
