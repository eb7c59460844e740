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
value bounds every route.

SLOs are taken at zero load in the model (waiting only lengthens a route: a
relaxation) and checked on every incumbent with the waiting at the
incumbent's own loads. A route found missing its SLO gets an SLO row with an
indicator ``z`` (binary in every MILP, branched on in branch-and-price):

    y[r] <= z[r],
    sum_s a[s, r] * (t[s] + rho[s]) + M[r] * z[r] <= budget[r] + M[r],

where ``budget[r]`` is the SLO less the route's latency at zero load (less a
1e-6 relative margin) and ``t[s] + rho[s]`` is the outer approximation of
the waiting per unit of service ``rho / (1 - rho) = excess(rho) + rho``
(``t`` lies above the tangents of ``excess``, below it at its optimum); ``M[r]
= sum_s a[s, r] * U / (1 - U) - budget[r]`` makes the row void when ``z = 0``.
So a route carries flow only if its SLO holds under the approximation, and a
route carrying none constrains nothing: the rows exclude no feasible plan.
Tangent cuts are added at the loads of every rejected incumbent on the
servers of its offending routes, so the approximation tightens until the
evaluator accepts the plan (Kelley). Every LP and MILP stays a relaxation,
every bound stays valid, and ``infeasible`` remains a proof. Only a route
whose SLO fails at zero load within the margin is banned (exactly: it can
never meet it).
"""

from __future__ import annotations

import math

import highspy
import numpy as np

from placement.build import RouteChoice
from placement.errors import InfeasibleError, SolverError
from placement.instance import Instance
from placement.plan import Plan

from .congestion import excess, excess_slope, server_bandwidth, slo_budget, value_routes
from .master import INF
from .milp import BranchAndPrice
from .registry import SolveOptions

#: Outer-approximation rounds at most per LP or MILP.
MAX_OA_ROUNDS = 40
#: An LP's approximation is refined until its misses add up to less than this share of the gap tolerance
#: (each refinement costs a pricing pass over every class; the bound is valid at any accuracy).
OA_GAP_SHARE = 0.05
#: Routes of a refused incumbent whose latency at its loads is within this share of their SLO get SLO rows too.
SLO_NEAR = 0.05


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
        self.slo_z: dict = {}  # route -> HiGHS column of its SLO indicator
        self.slo_seen: set = set()  # routes whose SLO row was considered (added, void, or banned)
        self.fix: dict = {}  # the branch-and-price node's fixings
        self.refined = False  # set when a rejected incumbent added SLO rows or cuts
        self.banned_any = False
        self.root_bound: float | None = None
        self.stats.notes.append("queueing ps: waiting by outer approximation (tangent cuts), SLOs checked at the plan's loads")

    # -- the outer approximation ---------------------------------------------------
    def rho(self, y: np.ndarray) -> np.ndarray:
        """Per server, the utilization of the master's columns at shares ``y`` (at most ``U``)."""
        return np.minimum(self.master.server_load(y) / self.bw, self.U)

    def refine(self, y: np.ndarray, objective: float | None) -> int:
        """Tangent cuts where the approximation misses the waiting at shares ``y``; returns how many."""
        rho = self.rho(y)
        oa = np.array([max((a + b * r for a, b in cs), default=0.0) for r, cs in zip(rho, self.cuts)])
        err = self.inst.w_latency * (excess(rho) - oa)
        scale = max(abs(objective or 0.0) * self.master.obj_scale, 1e-9)
        if err.sum() <= OA_GAP_SHARE * self.opts.mip_gap * scale + 1e-12:
            return 0
        add = np.flatnonzero(err > 1e-12 * scale)
        if not len(add):
            return 0
        self._add_cuts(add, rho[add])
        return len(add)

    def _add_cuts(self, add: np.ndarray, at: np.ndarray) -> None:
        """Tangents of ``excess`` at loads ``at`` on servers ``add``."""
        m = self.master
        slope = excess_slope(at)
        inter = excess(at) - slope * at
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

    # -- SLO rows ----------------------------------------------------------------------
    def _use(self, p: int) -> dict[int, float]:
        """Service per request (seconds) of pool column ``p`` at each server."""
        col = self.master.columns[p]
        use: dict[int, float] = {}
        for v, t in col.compute:
            use[v] = use.get(v, 0.0) + t
        for d, b in col.links:
            s = self.n_nodes + d
            use[s] = use.get(s, 0.0) + b / self.bw[s]
        return {s: a for s, a in use.items() if a > 0}

    def _slo_row(self, p: int) -> bool:
        """Add the SLO row of pool column ``p`` with its indicator (or ban it when its SLO fails at zero load);
        False when neither was needed (its SLO holds at every admissible load)."""
        m = self.master
        col = m.columns[p]
        self.slo_seen.add(col.route)
        budget = float(slo_budget(self.inst, [col])[0])
        if budget <= 0:  # misses its SLO at zero load (within the margin): never usable, an exact ban
            self.banned.add(col.route)
            self._apply_bans()
            return True
        use = self._use(p)
        big = sum(use.values()) * self.U / (1.0 - self.U) - budget
        if big <= 0:
            return False  # the SLO holds at every admissible load
        z = int(m._add_cols(np.zeros(1), np.zeros(1), np.ones(1), [[]])[0])
        servers = np.fromiter(use, dtype=np.int64)
        a = np.array([use[s] for s in servers])
        idx = np.concatenate([[m.col_of_y[p], z], [z], self.t_col[servers], self.u_col[servers]]).astype(np.int32)
        val = np.concatenate([[1.0, -1.0], [big], a, a * self.U])
        m.h.addRows(2, np.full(2, -INF), np.array([0.0, budget + big]), len(idx), np.array([0, 2], dtype=np.int32), idx, val)
        m.n_rows += 2
        self.slo_z[col.route] = z
        return True

    def _z_bounds(self) -> None:
        """Indicators free in [0, 1], or fixed where the branch-and-price node fixed them."""
        if not self.slo_z:
            return
        fixed = {k[1]: v for k, v in self.fix.items() if isinstance(k, tuple) and k and k[0] == "slo"}
        cols = np.fromiter(self.slo_z.values(), dtype=np.int32)
        lo = np.array([float(fixed.get(r, 0.0)) for r in self.slo_z])
        hi = np.array([float(fixed.get(r, 1.0)) for r in self.slo_z])
        self.master.h.changeColsBounds(len(cols), cols, lo, hi)

    def _z_integrality(self, integral: bool) -> None:
        if self.slo_z:
            cols = np.fromiter(self.slo_z.values(), dtype=np.int32)
            kind = highspy.HighsVarType.kInteger if integral else highspy.HighsVarType.kContinuous
            self.master.h.changeColsIntegrality(len(cols), cols, np.array([kind] * len(cols)))

    # -- overridden steps ------------------------------------------------------------
    def _solve(self, **kw):
        """As the base (whose master re-solves a troubled LP cold by primal simplex), but an LP that
        HiGHS still calls optimal without a feasible solution (seen with the SLO rows' big-M
        coefficients) is an error, never a plan."""
        sol = super()._solve(**kw)
        if sol.optimal and not sol.has_solution:
            raise SolverError(f"milp (queueing ps): HiGHS reported '{sol.status}' without a feasible solution (numerical trouble)")
        return sol

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
            self.refined = False
            self._z_integrality(True)
            try:
                sol = super().mip(time_limit)
            finally:
                self._z_integrality(False)
            changed = self.refine(sol.y, sol.objective) if sol.has_solution else 0
            changed += self.refined
            closed = self.incumbent is not None and sol.bound is not None and sol.bound >= self.incumbent[0] * (1 - self.opts.mip_gap)
            if not changed or closed or self.left() <= 0:
                break
        return sol

    def _offer(self, routes: list[RouteChoice]) -> bool | None:
        """Value ``routes`` as the evaluator does (waiting at their own loads); keep them if feasible and better.

        A plan whose routes miss their SLO is refused: each such route gets
        its SLO row (if it has none) and tangent cuts at the plan's loads on
        its servers. Returns False when the model was refined so (the caller
        solves again), None otherwise.
        """
        valued = value_routes(self.inst, [(c.route, c.share) for c in routes])
        if not valued.feasible:
            changed = False
            for c in valued.choices:  # the routes near their SLO too: fewer MILP re-solves
                if c.share > 0 and c.route not in self.slo_seen and \
                        c.latency_s > (1 - SLO_NEAR) * self.inst.demands[c.route.demand].max_latency_s:
                    changed |= self._slo_row(self.master.route_index[c.route])
            for k in valued.slo_violations:
                p = self.master.route_index[routes[k].route]
                servers = np.fromiter(self._use(p), dtype=np.int64)
                at = np.minimum(valued.rho[servers], self.U)
                new = [j for j, (s, r0) in enumerate(zip(servers, at)) if all(abs(b - excess_slope(r0)) > 1e-12 * max(1.0, b) for _, b in self.cuts[s])]
                if new:
                    self._add_cuts(servers[new], at[new])
                    changed = True
            if not changed and valued.slo_violations:
                # the approximation is tight there and the row holds, yet the evaluator refuses (tolerances):
                # banning restricts the search, so from now on only the root bound is reported
                self._ban([routes[k].route for k in valued.slo_violations])
                changed = True
            self.refined |= changed
            return False if changed else None
        if self.incumbent is None or valued.objective < self.incumbent[0] - 1e-12:
            self.incumbent = (valued.objective, valued.choices)
        return None

    def _ban(self, routes) -> None:
        self.banned.update(routes)
        self.banned_any = True
        self.stats.notes.append(f"{len(routes)} route(s) banned: their SLO fails at an incumbent's loads although imposed; the bound reported is the root bound")
        self._apply_bans()

    def _fractional(self, sol):
        """A storage variable to branch on, else the indicator of a route that carries flow while its SLO row is relaxed."""
        key = super()._fractional(sol)
        if key is not None or not self.slo_z:
            return key
        values = np.asarray(self.master.h.getSolution().col_value)
        best, out = 1e-9, None
        for route, z in self.slo_z.items():
            if ("slo", route) in self.fix:
                continue
            y = sol.y[self.master.route_index[route]]
            if y > best and values[z] < 1 - 1e-6:
                best, out = y, ("slo", route)
        return out

    def _apply_bans(self) -> None:
        pos = [self.master.route_index[r] for r in self.banned if r in self.master.route_index]
        self.master.set_y_bounds(pos, 0.0)

    def _apply(self, fix: dict) -> None:
        super()._apply({k: v for k, v in fix.items() if not (k and k[0] == "slo")})
        self.fix = fix
        self._z_bounds()
        self._apply_bans()

    def run(self) -> Plan:
        try:
            return super().run()
        except InfeasibleError as exc:
            if not self.banned_any:
                if not self.slo_z:
                    raise  # SLOs at zero load, capacities and memory already fail
                raise InfeasibleError([f"with waiting counted: {len(self.slo_z)} route(s) found missing their SLO at a plan's loads may carry "
                                       "flow only while their SLO holds with waiting (SLO rows), and no plan then serves every class "
                                       "(the unserved classes and saturated servers of the relaxation follow)", *exc.reasons], method="milp") from None
            raise SolverError(
                "milp (queueing ps) found no plan whose routes meet their SLOs at their own loads; routes were banned "
                "for missing their SLO at an incumbent's loads, which makes the search incomplete, so this does not prove "
                "that no plan exists: try 'relax' (SLO-constrained routing under load). Last reasons: " + "; ".join(exc.reasons[:3])
            ) from None

    def plan(self, bound: float) -> Plan:
        if self.banned_any and self.root_bound is not None:
            bound = min(bound, self.root_bound)
        plan = super().plan(bound)
        plan.stats["slo_rows"] = len(self.slo_z)
        plan.stats["tangent_cuts"] = sum(len(c) for c in self.cuts)
        return plan
