"""``weights``: the supported points of the front by weighted sums (for comparison).

Each weight vector of a simplex lattice (``points`` divisions per objective,
Das and Dennis) gives one MILP over the route pool of :mod:`.mip`:
minimise ``sum_k w_k F_k / scale_k`` (``scale_k`` the smallest value ``F_k`` can take;
every weight is raised by 1e-3 so that no plan found is weakly dominated).
Only points on the convex hull of the front can be found this way: the
unsupported points between them, which ``epsilon`` finds, are missing.
With ``price=True`` (default) each solve prices routes in beyond the pool as
``epsilon`` does (:mod:`.pricing`).
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from placement.front import Front
from placement.instance import Instance

from ..registry import Option, SolveOptions, register
from .common import OBJECTIVES_OPTION, POOL_OPTION, assemble
from .epsilon import COMPLETION_OPTION, PRICE_OPTION
from .mip import certified_plan, objective_milp, pool_note, with_certified_count

POINTS_OPTION = Option("points", "int", 6, "divisions of the weight simplex per objective (weight vectors: C(points + p - 1, p - 1))")


def simplex_lattice(p: int, divisions: int) -> np.ndarray:
    """Every weight vector of ``p`` non-negative multiples of ``1/divisions`` summing to 1."""
    rows = [np.diff([0, *c, divisions + p - 1]) - 1 for c in itertools.combinations(range(1, divisions + p), p - 1)]
    return np.array(rows, dtype=float).reshape(-1, p) / divisions


def run_weights(instance: Instance, opts: SolveOptions) -> Front:
    start = time.perf_counter()
    objectives, milp = objective_milp(instance, opts, "weights")
    found: dict = {}
    lattice = simplex_lattice(len(objectives), opts.extra["points"])
    for w in lattice:
        got = milp.weighted(w + 1e-3)
        if milp.timed_out:
            break
        if got is not None:
            found.setdefault(tuple(np.round(got.F / milp.scale, 12)), got)
    notes = [f"{len(lattice)} weight vectors; supported points only", pool_note(milp)]
    if milp.timed_out:
        notes.append("time limit reached: the front is the part found so far")
    plans = [certified_plan(instance, milp, "weights", s, opts.seed) for s in found.values()]
    options = {"objectives": ",".join(objectives), "points": opts.extra["points"], "max_routes": opts.extra["max_routes"], "pool_complete": milp.pool.complete, "price": milp.pricer is not None}
    return with_certified_count(assemble(instance, "weights", objectives, plans, status="heuristic", start=start, seed=opts.seed, options=options, notes=notes))


@register(
    "weights",
    "Supported points of the Pareto front by weighted sums on the MILP (the convex-hull part)",
    kind="pareto",
    splitting=True,
    options=(OBJECTIVES_OPTION, POINTS_OPTION, POOL_OPTION, PRICE_OPTION, COMPLETION_OPTION),
)
def weights(instance: Instance, opts: SolveOptions) -> Front:
    return run_weights(instance, opts)
