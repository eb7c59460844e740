"""The MILP of a route pool with one row per objective (for epsilon-constraints and weighted sums).

It is :class:`solvers.master.Master` (convexity, compute, link and memory rows,
storage variables linked to the routes that compute there; integral storage,
and integral route choice under unsplittable routing) over every route of a
:class:`~.pool.RoutePool`, plus one row per objective whose activity is that
objective of the plan (``F_k = sum of share x the route's contribution``,
scaled by a lower bound of ``F_k``, the size of the values on the front, so
that the solver's tolerances stay far below the spacing of front points). The rows'
upper bounds are the epsilon-constraints; the objective is replaced per
solve. The master's artificial "unserved" columns are fixed at 0, so a
constrained problem with no plan is reported infeasible.

With ``price=True`` (and an incomplete pool) every solve prices routes in
from the whole route space and says whether its result is certified for the
whole problem (:mod:`.pricing`); without, a result is exact for the instance
only when the pool is complete.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from placement.instance import Instance

from ..master import INF, Master
from ..registry import SolveOptions
from .common import objectives_and_pool, plan_of
from .pool import RoutePool, contributions, objective_indices
from .pricing import COMPLETION, Pricer

#: Objective multiplier: keeps HiGHS's absolute MIP gap (1e-6) far below the spacing of F values.
OBJ_SCALE = 1e3


@dataclass
class Solved:
    """One optimal plan of the MILP: route shares (by position in :attr:`ObjectiveMILP.columns`) and its objective vector.

    ``certified``: proven optimal (lexicographically) over the whole route
    space, not only over the routes in the model.
    """

    shares: dict[int, float]
    F: np.ndarray
    certified: bool = False


class ObjectiveMILP:
    """Minimise one objective or a weighted sum over a route pool, subject to upper bounds on the objectives."""

    def __init__(self, instance: Instance, pool: RoutePool, objectives: list[str], opts: SolveOptions, *, price: bool = False, completion: int = COMPLETION):
        self.instance = instance
        self.pool = pool
        self.opts = opts
        self.obj_idx = objective_indices(objectives)
        self.Cg = pool.C[:, self.obj_idx]
        self.columns = list(pool.columns)  # the pool's routes, then those priced in
        p = self.Cg.shape[1]
        lower, upper = np.zeros(p), np.zeros(p)
        for c in range(len(instance.demands)):
            r = pool.routes_of(c)
            if len(r):
                lower += self.Cg[r.start : r.stop].min(axis=0)
                upper += self.Cg[r.start : r.stop].max(axis=0)
        # Scale of each objective row: its smallest possible value (the size of the
        # values on the front), so that HiGHS's feasibility tolerance (1e-7 of a row)
        # stays far below the spacing of front points; 1e-3 of the largest where that is ~0.
        self.scale = np.where(lower > 1e-3 * upper, lower, np.where(upper > 0, 1e-3 * upper, 1.0))
        self.master = Master(instance, threads=opts.threads, seed=opts.seed, verbose=opts.verbose)
        # HiGHS 1.x's presolve after a MIP restart (strengthenInequalities) was seen to run
        # for minutes past the time limit on tightly bounded problems: no restarts
        self.master.highs_options = {"mip_allow_restart": False}
        self.master.obj_scale = 1.0  # objective values in this model's own units
        self.pos = pos = {col.route: g for g, col in enumerate(pool.columns)}
        self.rows = self.master.add_route_rows(lambda col: self.Cg[pos[col.route]] / self.scale, np.full(p, -INF), np.full(p, INF))
        self.master.add_columns(pool.columns)
        assert len(self.master.columns) == pool.n_routes
        art = np.asarray(self.master.art_col, dtype=np.int32)
        self.master.h.changeColsBounds(len(art), art, np.zeros(len(art)), np.zeros(len(art)))
        self.master.set_integrality(True)
        self.bounds = np.full(p, np.inf)
        self.solves = 0
        self.timed_out = False
        self.pricer = Pricer(self, completion) if price and not pool.complete else None
        #: Whether every solve so far is proven for the whole route space (infeasibility included).
        self.all_certified = pool.complete or self.pricer is not None
        self.certified = False

    def add_columns(self, cols: list) -> int:
        """Append routes not yet in the model (their F contributions from the cost kernel); returns how many."""
        new, seen = [], set()
        for col in cols:
            if col.route not in self.pos and col.route not in seen:
                seen.add(col.route)
                new.append(col)
        if not new:
            return 0
        C, _ = contributions(self.instance, new)
        for col in new:
            self.pos[col.route] = len(self.columns)
            self.columns.append(col)
        self.Cg = np.vstack([self.Cg, C[:, self.obj_idx]])
        self.master.add_columns(new)
        assert len(self.master.columns) == len(self.columns)
        return len(new)

    def set_costs(self, w: np.ndarray) -> None:
        """Objective ``w . Cg`` per route column (model units)."""
        cost = self.Cg @ w
        self.master.set_route_costs(lambda col: cost[self.pos[col.route]])

    def _set_bounds(self, bounds: np.ndarray) -> None:
        ub = np.where(np.isfinite(bounds), bounds / self.scale, INF)
        self.master.set_row_bounds(self.rows, np.full(len(ub), -INF), ub)

    def _run(self, weights: np.ndarray) -> np.ndarray | None:
        """Column values minimising ``weights . F / scale``; None when infeasible (or out of time).

        Sets :attr:`certified` (this solve proven for the whole route space)
        and updates :attr:`all_certified`.
        """
        w = OBJ_SCALE * np.asarray(weights, dtype=float) / self.scale
        left = self.opts.left()
        if left <= 0:
            self.timed_out = True
            self.certified = self.all_certified = False
            return None
        if self.pricer is not None:
            got = self.pricer.solve(w)
            self.certified = got.certified and not self.timed_out
            self.all_certified &= self.certified
            return got.y
        self.certified = self.pool.complete
        self.set_costs(w)
        sol = self.master.solve(time_limit_s=None if not np.isfinite(left) else max(left, 0.01), mip_gap=min(self.opts.mip_gap, 1e-6))
        self.solves += 1
        if not sol.has_solution:
            if sol.status != "Infeasible":
                self.timed_out = True
                self.certified = self.all_certified = False
            return None
        if not sol.optimal:
            self.timed_out = True
            self.certified = self.all_certified = False
        return sol.y

    def lexmin(self, primary: int, bounds: np.ndarray) -> Solved | None:
        """Minimise objective ``primary`` subject to ``F <= bounds``; among its minimisers, the least sum of scaled objectives.

        The second stage makes the point non-dominated (no weakly dominated plans).
        """
        self._set_bounds(bounds)
        y = self._run(np.eye(len(self.scale))[primary])
        if y is None:
            return None
        first = self.certified
        best = float(y @ self.Cg[: len(y), primary])
        tight = bounds.copy()
        tight[primary] = min(tight[primary], best + 1e-7 * self.scale[primary])
        self._set_bounds(tight)
        y2 = self._run(np.ones(len(self.scale)))
        self._set_bounds(bounds)
        return self._solved(y if y2 is None else y2, first and self.certified and y2 is not None)

    def weighted(self, weights: np.ndarray) -> Solved | None:
        """Minimise ``sum_k weights[k] x F_k / scale_k`` with no epsilon-constraint."""
        self._set_bounds(np.full(len(self.scale), np.inf))
        y = self._run(weights)
        return None if y is None else self._solved(y, self.certified)

    def _solved(self, y: np.ndarray, certified: bool) -> Solved:
        shares = {int(g): float(v) for g, v in enumerate(y) if v > 1e-9}
        return Solved(shares, y @ self.Cg[: len(y)], certified)


def objective_milp(instance: Instance, opts: SolveOptions, method: str) -> tuple[list[str], ObjectiveMILP]:
    """The objectives and the objective MILP of ``epsilon`` and ``weights`` (options ``price`` and ``completion``)."""
    objectives, pool = objectives_and_pool(instance, opts, method)
    return objectives, ObjectiveMILP(instance, pool, objectives, opts, price=bool(opts.extra["price"]), completion=int(opts.extra["completion"]))


def pool_note(milp: ObjectiveMILP) -> str:
    """How the MILP's routes were obtained, for a front's notes."""
    pool = milp.pool
    text = f"{milp.solves} MILP solves over a pool of {pool.n_routes} routes ({'every route of every class' if pool.complete else 'the best routes by J, each objective and their balanced sum'})"
    if milp.pricer is not None:
        p = milp.pricer
        return text + f"; column generation priced in {p.priced} more routes ({p.rounds} pricing rounds); {p.completions} solves certified by reduced-cost completion, {p.uncertified} left uncertified"
    return text if pool.complete else text + "; exact within the pool only"


def certified_plan(instance: Instance, milp: ObjectiveMILP, method: str, solved: Solved, seed: int | None):
    """The plan of a solve, saying in ``stats`` and ``notes`` whether it is certified for the whole route space."""
    plan = plan_of(instance, milp, method, solved.shares, seed=seed)
    plan.stats = {**plan.stats, "certified": bool(solved.certified)}
    how = "column generation: MILP objective = LP bound, or reduced-cost completion" if milp.pricer is not None else "the route pool is complete"
    plan.notes = [*plan.notes, f"certified non-dominated over the whole route space ({how})" if solved.certified else "not certified: optimal over the routes in the model only"]
    return plan


def with_certified_count(front):
    """The front with a note counting its certified points."""
    n = sum(bool(p.plan.stats.get("certified")) for p in front.points)
    return front.model_copy(update={"notes": [*front.notes, f"{n} of {len(front.points)} points certified for the whole route space"]})


__all__ = ["ObjectiveMILP", "Solved", "certified_plan", "pool_note", "with_certified_count"]
