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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from placement.instance import Instance

from ..master import INF, Master
from ..registry import SolveOptions
from .pool import RoutePool, objective_indices

#: Objective multiplier: keeps HiGHS's absolute MIP gap (1e-6) far below the spacing of F values.
OBJ_SCALE = 1e3


@dataclass
class Solved:
    """One optimal plan of the pool MILP: route shares and its objective vector (model units)."""

    shares: dict[int, float]
    F: np.ndarray


class ObjectiveMILP:
    """Minimise one objective or a weighted sum over a route pool, subject to upper bounds on the objectives."""

    def __init__(self, instance: Instance, pool: RoutePool, objectives: list[str], opts: SolveOptions):
        self.instance = instance
        self.pool = pool
        self.opts = opts
        self.Cg = pool.C[:, objective_indices(objectives)]
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

    def _set_bounds(self, bounds: np.ndarray) -> None:
        ub = np.where(np.isfinite(bounds), bounds / self.scale, INF)
        self.master.set_row_bounds(self.rows, np.full(len(ub), -INF), ub)

    def _run(self, weights: np.ndarray) -> np.ndarray | None:
        """Column values minimising ``weights . F / scale``; None when infeasible (or out of time)."""
        w = OBJ_SCALE * np.asarray(weights, dtype=float) / self.scale
        cost = self.Cg @ w
        self.master.set_route_costs(lambda col: cost[self.pos[col.route]])
        left = self.opts.left()
        if left <= 0:
            self.timed_out = True
            return None
        sol = self.master.solve(time_limit_s=None if not np.isfinite(left) else max(left, 0.01), mip_gap=min(self.opts.mip_gap, 1e-6))
        self.solves += 1
        if not sol.has_solution:
            if sol.status != "Infeasible":
                self.timed_out = True
            return None
        if not sol.optimal:
            self.timed_out = True
        return sol.y

    def lexmin(self, primary: int, bounds: np.ndarray) -> Solved | None:
        """Minimise objective ``primary`` subject to ``F <= bounds``; among its minimisers, the least sum of scaled objectives.

        The second stage makes the point non-dominated (no weakly dominated plans).
        """
        self._set_bounds(bounds)
        y = self._run(np.eye(len(self.scale))[primary])
        if y is None:
            return None
        best = float(y @ self.Cg[:, primary])
        tight = bounds.copy()
        tight[primary] = min(tight[primary], best + 1e-7 * self.scale[primary])
        self._set_bounds(tight)
        y2 = self._run(np.ones(len(self.scale)))
        self._set_bounds(bounds)
        return self._solved(y if y2 is None else y2)

    def weighted(self, weights: np.ndarray) -> Solved | None:
        """Minimise ``sum_k weights[k] x F_k / scale_k`` with no epsilon-constraint."""
        self._set_bounds(np.full(len(self.scale), np.inf))
        y = self._run(weights)
        return None if y is None else self._solved(y)

    def _solved(self, y: np.ndarray) -> Solved:
        shares = {int(g): float(v) for g, v in enumerate(y) if v > 1e-9}
        return Solved(shares, y @ self.Cg)


__all__ = ["ObjectiveMILP", "Solved"]
