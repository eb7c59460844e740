"""``milp``: the exact method for the whole problem of DESIGN.md.

The route space is huge (every model, every end node, every split: tens of
millions of routes on a 340-node instance), so routes enter the model only
when they can help. The method is branch-and-price over the route-based
master of :mod:`solvers.master`:

1. **Column generation at the root.** Start from the cheapest routes of each
   class (and the greedy plan, when greedy finds one), solve the LP
   relaxation, and price the whole route space with the LP duals: for each
   class, candidate routes are produced best-first by reduced cost with exact
   lower bounds per (model, end node) pair (:mod:`solvers.candidates`), so
   pricing touches only the parts of the space that can hold an improving
   route. At convergence the LP value is a bound for the whole problem.
2. **Incumbent.** HiGHS solves the MILP over the generated routes.
3. **Closing the gap.**
   - *Unsplittable routing*: every route with reduced cost at most
     (incumbent - LP bound) is added (reduced-cost completion). Any plan
     better than the incumbent uses only such routes, so the MILP over this
     pool is exact for the whole problem, and its bound is valid.
   - *Splittable routing*: shares are continuous, the storage variables are
     the only integers; a branch-and-bound over storage variables solves the
     LP of every node by column generation (branch-and-price), so every bound
     is valid for the whole route space.

The plan reports the incumbent, the best bound valid for the whole problem,
and the gap between them; ``status`` is ``optimal`` when the gap is within
``mip_gap``, ``feasible`` when a limit stopped the search first.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from dataclasses import dataclass, field

import numpy as np

from placement.build import RouteChoice, build_plan
from placement.errors import InfeasibleError, SolverError, TimeLimitReached
from placement.instance import Instance
from placement.plan import Plan, PlanStatus, Termination
from placement.routes import Route

from .candidates import ROUTES_OPTION, candidate_routes, upward_targets
from .columns import Column, column_from_candidate, column_from_route
from .diagnose import explain_infeasible, explain_integral_infeasible
from .greedy import run_greedy
from .master import Master
from .origin_trees import origin_tree
from .registry import Option, SolveOptions, register

ENUMERATE_OPTION = Option("enumerate", "bool", False, "start column generation from every route of every class instead of the greedy plan (small instances)")

#: Routes per class in the initial pool, and at most added per class per pricing round.
INITIAL_ROUTES = 3
ROUTES_PER_ROUND = 6
#: At most this many routes per class enter by reduced-cost completion.
MAX_COMPLETION = 200_000
#: Reduced costs below -RC_TOL (in the master's units, L x J) price a route in.
RC_TOL = 1e-9


@dataclass
class Stats:
    columns: int = 0
    cg_rounds: int = 0
    bb_nodes: int = 0
    lp_bound: float | None = None
    build_s: float = 0.0
    solve_s: float = 0.0
    notes: list[str] = field(default_factory=list)


class BranchAndPrice:
    """One run of the ``milp`` method on one instance."""

    def __init__(self, instance: Instance, opts: SolveOptions):
        self.inst = instance
        self.opts = opts
        self.start = time.perf_counter()
        self.deadline = opts.deadline if opts.deadline is not None else (self.start + opts.time_limit_s if opts.time_limit_s else math.inf)
        self.master = Master(instance, threads=opts.threads, seed=opts.seed, verbose=opts.verbose)
        self.stats = Stats()
        self.incumbent: tuple[float, list[tuple[Route, float]]] | None = None
        self.forbidden: dict[tuple[int, str, int], int] = {}  # storage keys fixed to 0 at the current node
        self.enumerate_all = bool(opts.extra["enumerate"])
        self.scope = str(opts.extra["routes"])
        self._targets: dict[int, list[str] | None] = {}

    def targets(self, cls: int) -> list[str] | None:
        """End nodes allowed for a class: all (None), or the path towards the cloud."""
        if self.scope == "all":
            return None
        if cls not in self._targets:
            self._targets[cls] = upward_targets(self.inst, self.inst.demands[cls].origin)
        return self._targets[cls]

    # -- helpers -----------------------------------------------------------------
    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def _clock(self) -> float | None:
        """The deadline for route enumeration (None without a time limit)."""
        return self.deadline if math.isfinite(self.deadline) else None

    def _columns(self, cls: int, prices=None, stop: float = math.inf, limit: int | None = None) -> list[Column]:
        demand = self.inst.demands[cls]
        tree = origin_tree(self.inst, demand.origin)
        out = []
        if prices is not None and self.forbidden:
            prices.forbidden = self._forbidden_arrays()
        for cand in candidate_routes(self.inst, demand, prices=prices, targets=self.targets(cls), deadline=self._clock(), stop=stop).iterate(stop=stop):
            out.append(column_from_candidate(self.inst, tree, cand, self.master.storage_nodes))
            if limit is not None and len(out) >= limit:
                break
        return out

    def _forbidden_arrays(self) -> dict[tuple[int, str], np.ndarray]:
        out: dict[tuple[int, str], np.ndarray] = {}
        for (v, m, l) in self.forbidden:
            arr = out.get((v, m))
            if arr is None:
                arr = out[(v, m)] = np.zeros(self.inst.models[m].n_layers, dtype=bool)
            arr[l] = True
        return out

    def _add(self, columns: list[Column]) -> int:
        t = time.perf_counter()
        added = self.master.add_columns(columns)
        if self.forbidden and added:
            blocked = [p for p in added if any(k in self.forbidden for k in self.master.columns[p].keys)]
            self.master.set_y_bounds(blocked, 0.0)
        self.stats.build_s += time.perf_counter() - t
        return len(added)

    def _solve(self, **kw):
        t = time.perf_counter()
        sol = self.master.solve(**kw)
        self.stats.solve_s += time.perf_counter() - t
        return sol

    def _routes_of(self, y: np.ndarray) -> list[RouteChoice]:
        shares: dict[int, list[tuple[Column, float]]] = {}
        for col, val in zip(self.master.columns, y):
            if val > 1e-9:
                shares.setdefault(col.cls, []).append((col, float(val)))
        out = []
        for cls in sorted(shares):
            total = sum(v for _, v in shares[cls])
            picked = [(max(shares[cls], key=lambda cv: cv[1])[0], 1.0)] if self.inst.routing == "unsplittable" else [(c, v / total) for c, v in shares[cls]]
            out.extend(RouteChoice(c.route, s, c.cost, c.latency_s, c.energy_j) for c, s in picked)
        return out

    def _offer(self, routes: list[RouteChoice]) -> None:
        """Keep ``routes`` if they beat the incumbent, valued by the model's own route costs
        (never by a solver's reported objective)."""
        objective = sum(self.inst.demands[c.route.demand].rate_rps * c.share * c.cost for c in routes) / self.inst.total_rate_rps
        if self.incumbent is None or objective < self.incumbent[0] - 1e-12:
            self.incumbent = (objective, routes)

    # -- column generation -----------------------------------------------------------
    def column_generation(self) -> tuple[float, bool, np.ndarray | None, object]:
        """Solve the current node's LP over the whole route space.

        Returns (bound, converged, row duals, last solution); the bound is the
        LP value at convergence, else the best Lagrangian bound seen.
        """
        self.master.set_integrality(False)
        best_bound = -math.inf
        while True:
            sol = self._solve()
            if sol.status == "Infeasible":
                return math.inf, True, None, sol  # only where branching fixed storage beyond memory
            if not sol.optimal:
                raise SolverError(f"LP relaxation ended with status '{sol.status}'")
            self.stats.cg_rounds += 1
            t = time.perf_counter()
            new: list[Column] = []
            min_rc = 0.0
            try:
                for cls in range(len(self.inst.demands)):
                    prices = self.master.prices(cls, sol.row_dual)
                    cols = self._priced(cls, prices)
                    if cols:
                        min_rc += min(0.0, cols[0][1])
                        new.extend(c for c, _ in cols)
            except TimeLimitReached:
                self.stats.build_s += time.perf_counter() - t
                self._add(new)
                return best_bound, False, None, sol
            self.stats.build_s += time.perf_counter() - t
            best_bound = max(best_bound, sol.objective + min_rc / self.master.obj_scale)
            if not new:
                return sol.objective, True, sol.row_dual, sol
            self._add(new)
            if self.left() <= 0:
                return best_bound, False, None, sol

    def _priced(self, cls: int, prices) -> list[tuple[Column, float]]:
        """Up to ROUTES_PER_ROUND routes of negative reduced cost, most negative first."""
        demand = self.inst.demands[cls]
        tree = origin_tree(self.inst, demand.origin)
        if self.forbidden:
            prices.forbidden = self._forbidden_arrays()
        out = []
        for cand in candidate_routes(self.inst, demand, prices=prices, targets=self.targets(cls), deadline=self._clock(), stop=-RC_TOL).iterate(stop=-RC_TOL):
            if cand.route in self.master.route_index:
                continue  # in the pool already (e.g. blocked at this node)
            out.append((column_from_candidate(self.inst, tree, cand, self.master.storage_nodes), cand.score))
            if len(out) >= ROUTES_PER_ROUND:
                break
        return out

    # -- the method ------------------------------------------------------------------
    def initial_pool(self) -> None:
        """The greedy plan (an incumbent too) when greedy finds one, else the cheapest routes per class."""
        if self.scope == "all" and not self.enumerate_all:
            # a warm start: at most a quarter of the time limit, no diagnosis of unplaced classes
            budget = self.start + 0.25 * (self.deadline - self.start) if math.isfinite(self.deadline) else None
            try:
                plan = run_greedy(self.inst, dataclasses.replace(self.opts, deadline=budget), "greedy", explain=False)
            except (InfeasibleError, TimeLimitReached):
                plan = None
            if plan is not None:
                cols = [column_from_route(self.inst, r.to_route(), self.master.storage_nodes) for r in plan.routes]
                self._add(cols)
                self._offer([RouteChoice(c.route, r.share, c.cost, c.latency_s, c.energy_j) for c, r in zip(cols, plan.routes)])
                return
        t = time.perf_counter()
        cols: list[Column] = []
        try:
            for cls in range(len(self.inst.demands)):
                cols.extend(self._columns(cls, limit=None if self.enumerate_all else INITIAL_ROUTES))
        except TimeLimitReached:
            self.stats.notes.append("time limit reached while building the initial routes")
        self.stats.build_s += time.perf_counter() - t
        self._add(cols)

    def mip(self, time_limit: float | None) -> None:
        """Solve the MILP over the current pool; offer its solution as incumbent."""
        self.master.set_integrality(True)
        sol = self._solve(time_limit_s=time_limit, mip_gap=self.opts.mip_gap / 4)
        if sol.has_solution and sol.artificial.max(initial=0.0) < 1e-7:
            self._offer(self._routes_of(sol.y))
        self.master.set_integrality(False)
        return sol

    def run(self) -> Plan:
        self.initial_pool()
        lb, converged, duals, sol = self.column_generation()
        if sol.artificial.max(initial=0.0) > 1e-7 and converged:
            raise InfeasibleError(explain_infeasible(self.inst, self.master, sol), method="milp")
        self.stats.lp_bound = lb
        complete = False
        if converged and self.left() > 0:
            if self.inst.routing == "unsplittable":
                bound, complete = self.unsplittable_exact(lb, duals)
            else:
                bound, complete = self.branch_and_price(lb)
        else:
            self.mip(max(0.2, self.left()) if self.left() < math.inf else None)
            bound = lb
        if self.incumbent is None and complete:
            raise InfeasibleError(explain_integral_infeasible(self.inst, self.master, sol), method="milp")
        return self.plan(bound)

    def _remaining(self) -> float | None:
        return self.left() if self.left() < math.inf else None

    def unsplittable_exact(self, lb: float, duals: np.ndarray) -> tuple[float, bool]:
        """Reduced-cost completion, then the exact MILP over the completed pool.

        Returns (bound valid for the whole problem, whether the search completed).
        """
        self.mip(max(0.5, 0.25 * self.left()) if self.left() < math.inf else None)
        delta = max(0.0, self.incumbent[0] - lb) if self.incumbent else math.inf
        t = time.perf_counter()
        extra: list[Column] = []
        try:
            for cls in range(len(self.inst.demands)):
                prices = self.master.prices(cls, duals)
                extra.extend(self._columns(cls, prices=prices, stop=delta * self.master.obj_scale + RC_TOL, limit=MAX_COMPLETION))
        except TimeLimitReached:
            self.stats.build_s += time.perf_counter() - t
            self._add(extra)
            self.mip(max(0.5, self.left()))
            return lb, False
        self.stats.build_s += time.perf_counter() - t
        self._add(extra)
        self.stats.notes.append(f"reduced-cost completion: every route with reduced cost <= {delta:.3g} is in the model ({len(extra)} candidates)")
        sol = self.mip(self._remaining())
        if not sol.optimal and sol.status != "Infeasible":
            return max(lb, sol.bound if sol.bound is not None and math.isfinite(sol.bound) else lb), False
        if sol.status == "Infeasible":
            return lb, True
        return max(lb, min(self.incumbent[0], sol.bound)) if self.incumbent else max(lb, sol.bound), True

    def branch_and_price(self, root_lb: float) -> tuple[float, bool]:
        """Branch on storage variables; every node's LP by column generation.

        Returns (bound valid for the whole problem, whether the search completed).
        """
        gap = self.opts.mip_gap
        self.mip(max(0.5, 0.2 * self.left()) if self.left() < math.inf else None)
        counter = 0
        heap: list[tuple[float, int, dict]] = [(root_lb, counter, {})]

        def closes(bound: float) -> bool:
            return self.incumbent is not None and bound >= self.incumbent[0] - gap * abs(self.incumbent[0])

        while heap:
            if closes(heap[0][0]):
                break
            if self.left() <= 0:
                break
            bound, _, fix = heapq.heappop(heap)
            self.stats.bb_nodes += 1
            self._apply(fix)
            lb, converged, _, sol = self.column_generation()
            if not converged:
                heapq.heappush(heap, (max(bound, lb), counter, fix))
                break
            if not math.isfinite(lb) or sol.artificial.max(initial=0.0) > 1e-7 or closes(lb):
                continue  # infeasible or no better than the incumbent
            frac = self._fractional(sol)
            if frac is None:
                if self._offer(self._routes_of(sol.y)) is False:  # the model was refined (milp_ps): solve the node again
                    counter += 1
                    heapq.heappush(heap, (lb, counter, fix))
                continue
            for value in (1, 0):
                counter += 1
                heapq.heappush(heap, (lb, counter, {**fix, frac: value}))
            if self.stats.bb_nodes % 20 == 0:
                self._apply({})
                self.mip(max(0.5, 0.1 * self.left()) if self.left() < math.inf else None)
        self._apply({})
        if self.stats.bb_nodes:
            self.stats.notes.append(f"branch-and-price: {self.stats.bb_nodes} nodes")
        open_bound = min((b for b, _, _ in heap), default=math.inf)
        incumbent = self.incumbent[0] if self.incumbent else math.inf
        bound = min(open_bound, incumbent)
        return (bound if math.isfinite(bound) else root_lb), not heap or closes(open_bound)

    def _fractional(self, sol) -> tuple[int, str, int] | None:
        best, key = 1e-6, None
        for k, val in zip(self.master.x_keys, sol.x):
            f = min(val, 1 - val)
            if f > best:
                best, key = f, k
        return key

    def _apply(self, fix: dict) -> None:
        """Set bounds for a node: fixed storage variables, blocked routes."""
        m = self.master
        keys = m.x_keys
        m.set_x_bounds(keys, 0.0, 1.0)
        m.set_y_bounds(list(range(len(m.columns))), 1.0)
        self.forbidden = {k: 0 for k, v in fix.items() if v == 0}
        ones = [k for k, v in fix.items() if v == 1]
        if ones:
            m.set_x_bounds(ones, 1.0, 1.0)
        if self.forbidden:
            m.set_x_bounds(list(self.forbidden), 0.0, 0.0)
            blocked = [p for p, col in enumerate(m.columns) if any(k in self.forbidden for k in col.keys)]
            m.set_y_bounds(blocked, 0.0)

    # -- result ------------------------------------------------------------------------
    def plan(self, bound: float) -> Plan:
        if self.incumbent is None:
            raise TimeLimitReached(f"milp found no feasible plan within the time limit ({self.opts.time_limit_s:g} s); the instance may still be feasible (raise --time-limit)")
        objective, routes = self.incumbent
        self.stats.columns = len(self.master.columns)
        gap = max(0.0, (objective - bound) / max(abs(objective), 1e-12))
        proven = gap <= self.opts.mip_gap + 1e-12
        if self.scope != "all":
            self.stats.notes.append(f"routes={self.scope}: optimal only among routes computing towards the cloud (scope bound {bound:.10g}, scope gap {gap:.2e}), not for the whole problem")
        termination = Termination.OPTIMAL if gap <= 1e-9 else (Termination.GAP_LIMIT if proven else Termination.TIME_LIMIT)
        whole = self.scope == "all"
        plan = build_plan(
            self.inst,
            "milp",
            routes,
            (PlanStatus.OPTIMAL if proven else PlanStatus.FEASIBLE) if whole else PlanStatus.HEURISTIC,
            bound=(min(bound, objective) if proven else bound) if whole else None,
            termination=termination,
            solve_time_s=self.stats.solve_s,
            build_time_s=self.stats.build_s,
            seed=self.opts.seed,
            options={"mip_gap": self.opts.mip_gap, "time_limit_s": self.opts.time_limit_s, "routes": self.scope},
            notes=self.stats.notes,
        )
        plan.stats = {
            "columns": self.stats.columns,
            "rows": self.master.n_rows,
            "storage_variables": len(self.master.x_keys),
            "cg_rounds": self.stats.cg_rounds,
            "bb_nodes": self.stats.bb_nodes,
            "lp_bound": self.stats.lp_bound,
            "bound": bound,
            "gap": gap,
            "solver_objective": objective,
            "wall_time_s": time.perf_counter() - self.start,
        }
        return plan


@register(
    "milp",
    "Exact: branch-and-price over routes (column generation, HiGHS), certified bound and gap",
    exact=True,
    splitting=True,
    queueing=("none", "ps"),
    options=(ROUTES_OPTION, ENUMERATE_OPTION),
)
def milp(instance: Instance, opts: SolveOptions) -> Plan:
    if instance.queueing == "ps":  # waiting by outer approximation (solvers/milp_ps.py)
        from .milp_ps import CongestedBranchAndPrice

        return CongestedBranchAndPrice(instance, opts).run()
    return BranchAndPrice(instance, opts).run()
