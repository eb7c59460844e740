"""``epsilon``: the exact Pareto front by epsilon-constraints on the MILP.

The first objective is minimised; every other objective ``k`` is bounded,
``F_k <= e_k``, by a row of the MILP (:mod:`.mip`). Each solve is
lexicographic: minimise the first objective, then, with it fixed at its
optimum, the sum of all scaled objectives, so every plan found is
non-dominated (AUGMECON2's augmentation, done in two stages so that no weight
can trade the first objective away).

``points=0`` (default): **complete front** for a finite problem (unsplittable
routing) by recursion over the bounded objectives (Özlen and Azizoğlu, 2009):
with objectives ``1..m`` free and ``F_m <= e``, collect the front of the
first ``m - 1`` objectives, then tighten ``e`` below the largest ``F_m`` found;
stop when infeasible. A non-dominated plan z is never cut off: if the
sub-front at ``e`` misses it, a found plan dominates z in the first ``m - 1``
objectives, so it has a larger ``F_m`` than z and the next ``e`` still admits
z. Every front point is therefore found, and each found plan is
non-dominated. With splittable routing (continuous shares, integral storage)
the front is a union of polyhedral faces, a continuum: the method then
returns exact (non-dominated) points of it on the grid below (8 values per
bounded objective unless ``points`` says otherwise).

``points=N``: the AUGMECON2 grid: ``N`` values per bounded objective between
its best and worst values in the payoff table, with redundant grid points
skipped: a solve at bounds ``e`` is reused for every tighter ``e'`` its plan
still meets, and an infeasible ``e`` rules out every tighter one.

With ``price=True`` (default) every solve prices routes in from the whole
route space by column generation and certifies its result where it can
(:mod:`.pricing`); each point's plan says so (``stats["certified"]``). The
front is ``exact`` when the recursion completed with every solve certified
(always so when the pool is complete). With ``price=False`` the method is
exact for the instance only when the route pool is complete (``max_routes``
at least every class's number of routes), else exact within the pool.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from placement.front import Front
from placement.instance import Instance

from ..registry import Option, SolveOptions, register
from .common import OBJECTIVES_OPTION, POOL_OPTION, assemble
from .mip import ObjectiveMILP, Solved, certified_plan, objective_milp, pool_note, with_certified_count

POINTS_OPTION = Option("points", "int", None, "grid points per bounded objective (AUGMECON2); default: the complete front by recursion (unsplittable), 8 (splittable)")
#: Grid of a splittable instance's (continuous) front when no ``points`` are given.
SPLITTABLE_POINTS = 8
PRICE_OPTION = Option("price", "bool", True, "price routes in beyond the pool by column generation at every solve, and certify each point against the LP bound (with reduced-cost completion under unsplittable routing)")
COMPLETION_OPTION = Option("completion", "int", 2000, "routes per class that reduced-cost completion may add before a solve is left uncertified")
STEP_OPTION = Option("step", "float", 1e-6, "how far below the last value a bound is tightened, relative to the objective's scale (its smallest possible value)")


class _Cached:
    """Lexicographic solves with AUGMECON2's bypass: reuse a solve at looser bounds whose plan meets the new ones."""

    def __init__(self, milp: ObjectiveMILP):
        self.milp = milp
        self.seen: list[tuple[np.ndarray, Solved | None]] = []

    def __call__(self, bounds: np.ndarray) -> Solved | None:
        for e, got in self.seen:
            if np.all(e >= bounds):
                if got is None:
                    return None  # looser bounds were infeasible already
                if np.all(got.F[1:] <= bounds[1:] + 1e-12 * self.milp.scale[1:]):
                    return got
        got = self.milp.lexmin(0, bounds)
        if got is None and self.milp.timed_out:
            return None
        self.seen.append((bounds.copy(), got))
        return got


def _recurse(solve: _Cached, m: int, bounds: np.ndarray, delta: np.ndarray, found: dict) -> None:
    """Every non-dominated plan of objectives ``0..m-1`` with the others bounded by ``bounds``."""
    if m == 1:
        got = solve(bounds)
        if got is not None:
            found.setdefault(tuple(np.round(got.F / solve.milp.scale, 12)), got)
        return
    e = bounds.copy()
    e[m - 1] = np.inf
    while not solve.milp.timed_out:
        before = set(found)
        sub: dict = {}
        _recurse(solve, m - 1, e, delta, sub)
        found.update({k: v for k, v in sub.items() if k not in before})
        if not sub:
            return
        e[m - 1] = max(v.F[m - 1] for v in sub.values()) - delta[m - 1]


def _grid(solve: _Cached, milp: ObjectiveMILP, points: int, found: dict) -> None:
    p = len(milp.scale)
    payoff = []
    for k in range(p):
        order = [k] + [j for j in range(p) if j != k]
        got = _lex_in_order(milp, order)
        if got is not None:
            payoff.append(got.F)
            found.setdefault(tuple(np.round(got.F / milp.scale, 12)), got)
    if not payoff:
        return
    P = np.array(payoff)
    lo, hi = P.min(axis=0), P.max(axis=0)
    axes = [np.linspace(hi[k], lo[k], points) if hi[k] > lo[k] else np.array([hi[k]]) for k in range(1, p)]
    for combo in itertools.product(*axes):
        if milp.timed_out:
            return
        bounds = np.concatenate([[np.inf], np.array(combo) + 1e-9 * milp.scale[1:]])
        got = solve(bounds)
        if got is not None:
            found.setdefault(tuple(np.round(got.F / milp.scale, 12)), got)


def _lex_in_order(milp: ObjectiveMILP, order: list[int]) -> Solved | None:
    """Payoff-table row: minimise ``order[0]``, then the scaled sum (through the lexicographic solve)."""
    milp_primary = order[0]
    return milp.lexmin(milp_primary, np.full(len(milp.scale), np.inf))


def run_epsilon(instance: Instance, opts: SolveOptions) -> Front:
    start = time.perf_counter()
    objectives, milp = objective_milp(instance, opts, "epsilon")
    solve = _Cached(milp)
    found: dict = {}
    points = opts.extra["points"]
    if points is None and instance.routing == "splittable":
        points = SPLITTABLE_POINTS  # the front is continuous: stepping through it would never end
    if points is None:
        _recurse(solve, len(objectives), np.full(len(objectives), np.inf), float(opts.extra["step"]) * milp.scale, found)
    else:
        _grid(solve, milp, points, found)
    notes = [pool_note(milp)]
    exact = points is None and milp.all_certified and not milp.timed_out and instance.routing == "unsplittable"
    if milp.timed_out:
        notes.append("time limit reached: the front is the part found so far")
    if instance.routing == "splittable":
        notes.append(f"splittable routing: the front is continuous; these are exact (non-dominated) points of it on a grid of {points} values per bounded objective")
    plans = [certified_plan(instance, milp, "epsilon", s, opts.seed) for s in found.values()]
    options = {"objectives": ",".join(objectives), "points": points, "max_routes": opts.extra["max_routes"], "pool_complete": milp.pool.complete, "price": milp.pricer is not None}
    front = assemble(instance, "epsilon", objectives, plans, status="exact" if exact else "heuristic", start=start, seed=opts.seed, options=options, notes=notes)
    return with_certified_count(front)


@register(
    "epsilon",
    "Pareto front by epsilon-constraints on the MILP (complete front when the route pool is, AUGMECON2 grid with points=N)",
    kind="pareto",
    exact=True,
    splitting=True,
    options=(OBJECTIVES_OPTION, POINTS_OPTION, POOL_OPTION, STEP_OPTION, PRICE_OPTION, COMPLETION_OPTION),
)
def epsilon(instance: Instance, opts: SolveOptions) -> Front:
    return run_epsilon(instance, opts)
