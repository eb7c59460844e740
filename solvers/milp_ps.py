"""``milp`` under ``queueing: ps``: branch-and-price with outer approximation of the waiting.

The master of :mod:`solvers.master` is extended, from outside, by two
columns per server s (node or link direction): ``u[s]`` in [0, 1], its load
over ``max_utilization`` (the capacity row becomes ``sum of route use - u[s]
== 0``, so route columns keep their coefficients and ``u <= 1`` is the
capacity), and ``t[s] >= 0``, the epigraph of the waiting term
``excess(rho) = rho**2 / (1 - rho)`` with cost ``w_latency`` (L x J units).
Tangent cuts ``t[s] >= excess(r0) + excess'(r0) * (rho - r0)`` are added
where a solution's true waiting exceeds its outer approximation (Kelley).

Why the bound stays valid: every tangent lies below the convex ``excess``,
so with any set of cuts each LP (and each MILP) is a relaxation of the
congested problem; column generation prices routes with the LP duals of the
capacity rows, which now carry the slope of the approximation (the
marginal waiting cost of one more unit of load), so at convergence the LP
value bounds every route. SLOs are taken at zero load in the model (waiting
only lengthens a route: a relaxation) and checked on every incumbent with
the waiting at the incumbent's own loads; an incumbent that fails is not
accepted, its offending routes are banned, and from then on the reported
bound is the root bound (computed before any ban), so ``optimal`` keeps
its meaning: the gap between a plan the evaluator accepts and a valid bound.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from placement.build import RouteChoice
from placement.errors import InfeasibleError, SolverError
from placement.instance import Instance
from placement.plan import Plan

from .congestion import excess, excess_slope, server_bandwidth, value_routes
from .master import INF
from .milp import BranchAndPrice
from .registry import SolveOptions

#: Outer-approximation rounds at most per LP or MILP.
MAX_OA_ROUNDS = 40


class CongestedBranchAndPrice(BranchAndPrice):
    """Branch-and-price with tangent cuts on the waiting of every server."""

    def __init__(self, instance: Instance, opts: SolveOptions):
        super().__init__(instance, opts)
        m = self.master
        self.U = instance.max_utilization
        self.rows = np.concatenate([m.row_comp, m.row_link]).astype(np.int32)
        n = len(self.rows)
        self.n_nodes = len(instance.nodes)
        self.bw = server_bandwidth(instance)
        self.u_col = m._add_cols(np.zeros(n), np.zeros(n), np.ones(n), [[(int(r), -1.0)] for r in self.rows])
        self.t_col = m._add_cols(np.full(n, instance.w_latency), np.zeros(n), np.full(n, INF), [[] for _ in range(n)])
        m.h.changeRowsBounds(n, self.rows, np.zeros(n), np.zeros(n))
        self.cuts: list[list[tuple[float, float]]] = [[] for _ in range(n)]  # (intercept, slope) in rho
        self.banned: set = set()
        self.rejected: list = []
        self.banned_any = False
        self.root_bound: float | None = None
        self.stats.notes.append("queueing ps: waiting by outer approximation (tangent cuts), SLOs checked at the plan's loads")

    # -- the outer approximation ---------------------------------------------------
    def rho(self, y: np.ndarray) -> np.ndarray:
        """Per server, the load of the master's columns at shares ``y``."""
        rows, cols, vals = [], [], []
        for k, col in enumerate(self.master.columns):
            if y[k] <= 0:
                continue
            f = self.master.rate[col.cls] * y[k]
            for v, t in col.compute:
                rows.append(v), cols.append(0), vals.append(f * t)
            for d, b in col.links:
                rows.append(self.n_nodes + d), cols.append(0), vals.append(f * b / self.bw[self.n_nodes + d])
        out = sp.coo_matrix((vals, (rows, cols)), shape=(len(self.rows), 1)).toarray().ravel()
        return np.minimum(out, self.U)

    def refine(self, y: np.ndarray, objective: float | None) -> int:
        """Tangent cuts where the approximation misses the waiting at shares ``y``; returns how many."""
        rho = self.rho(y)
        oa = np.array([max((a + b * r for a, b in cs), default=0.0) for r, cs in zip(rho, self.cuts)])
        err = self.inst.w_latency * (excess(rho) - oa)
        scale = max(abs(objective or 0.0) * self.master.obj_scale, 1e-9)
        if err.sum() <= 1e-3 * self.opts.mip_gap * scale + 1e-12:
            return 0
        add = np.flatnonzero(err > 1e-12 * scale)
        if not len(add):
            return 0
        m = self.master
        slope = excess_slope(rho[add])
        inter = excess(rho[add]) - slope * rho[add]
        k = len(add)
        starts = np.arange(0, 2 * k, 2, dtype=np.int32)
        idx = np.empty(2 * k, dtype=np.int32)
        val = np.empty(2 * k)
        idx[0::2], idx[1::2] = self.t_col[add], self.u_col[add]
        val[0::2], val[1::2] = 1.0, -slope * self.U
        m.h.addRows(k, inter, np.full(k, INF), 2 * k, starts, idx, val)
        m.n_rows += k
        for s, a, b in zip(add, inter, slope):
            self.cuts[s].append((float(a), float(b)))
        return k

    # -- overridden steps ------------------------------------------------------------
    def column_generation(self):
        for _ in range(MAX_OA_ROUNDS):
            lb, converged, duals, sol = super().column_generation()
            if not converged or not math.isfinite(lb) or not self.refine(sol.y, sol.objective):
                break
        if self.root_bound is None and converged:
            self.root_bound = lb
        return lb, converged, duals, sol

    def mip(self, time_limit):
        sol = None
        for _ in range(MAX_OA_ROUNDS):
            self.rejected = []
            sol = super().mip(time_limit)
            changed = self.refine(sol.y, sol.objective) if sol.has_solution else 0
            if self.rejected:
                self._ban(self.rejected)
                changed += 1
            closed = self.incumbent is not None and sol.bound is not None and sol.bound >= self.incumbent[0] * (1 - self.opts.mip_gap)
            if not changed or closed or self.left() <= 0:
                break
        return sol

    def _offer(self, routes: list[RouteChoice]) -> None:
        """Value ``routes`` as the evaluator does (waiting at their own loads); keep them if feasible and better."""
        valued = value_routes(self.inst, [(c.route, c.share) for c in routes])
        if not valued.feasible:
            # closing a branch-and-price node on such a plan, or banning its routes, restricts the
            # search: from now on only the root bound is reported
            self.rejected = [routes[k].route for k in valued.slo_violations]
            self.banned_any = True
            return
        if self.incumbent is None or valued.objective < self.incumbent[0] - 1e-12:
            self.incumbent = (valued.objective, valued.choices)

    def _ban(self, routes) -> None:
        self.banned.update(routes)
        self.banned_any = True
        self.stats.notes.append(f"{len(routes)} route(s) banned: their SLO fails at an incumbent's loads; the bound reported is the root bound")
        self._apply_bans()

    def _apply_bans(self) -> None:
        pos = [self.master.route_index[r] for r in self.banned if r in self.master.route_index]
        self.master.set_y_bounds(pos, 0.0)

    def _apply(self, fix: dict) -> None:
        super()._apply(fix)
        self._apply_bans()

    def run(self) -> Plan:
        try:
            return super().run()
        except InfeasibleError as exc:
            if not self.banned_any:
                raise  # proven at the root, before any ban: SLOs at zero load already fail
            raise SolverError(
                "milp (queueing ps) found no plan whose routes meet their SLOs at their own loads; routes were banned "
                "for missing their SLO at an incumbent's loads, which makes the search incomplete, so this does not prove "
                "that no plan exists: try 'relax' (SLO-constrained routing under load). Last reasons: " + "; ".join(exc.reasons[:3])
            ) from None

    def plan(self, bound: float) -> Plan:
        if self.banned_any and self.root_bound is not None:
            bound = min(bound, self.root_bound)
        return super().plan(bound)
