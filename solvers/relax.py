"""``relax``: the continuous relaxation (cvxpy), a bound for the whole problem, and rounding.

1. **Relaxation with route generation.** Storage fractions, route shares,
   memory, compute and link rows, and under ``queueing: ps`` the convex
   waiting term ``w_latency * sum_s rho_s**2 / (1 - rho_s)`` in DCP form
   (:mod:`solvers.relax_model`; CLARABEL by default, HiGHS when the problem
   is an LP). Routes enter by column generation: each solve gives, per
   server, the price of one unit of load (the waiting term's slope ``1 / (1 -
   rho)**2 - 1`` times ``w_latency``, plus the capacity dual) and per storage
   key the linking dual; candidate routes are enumerated best-first by
   reduced cost over the whole route space (:mod:`solvers.candidates`). The
   Lagrangian bound of every round holds for every route, in or out of the
   pool, whatever the solver's accuracy; at convergence it meets the
   relaxation's value. SLOs enter at zero load (waiting only lengthens a
   route), so the bound is valid under ``ps`` too. Column generation stops
   as soon as a full pricing pass proves the relaxation within half the gap
   tolerance of that bound (``mip_gap``; the other half is left to rounding),
   so on a large fleet a loose tolerance needs few passes. Between full
   passes, partial ones price only the classes that last had a route of
   negative reduced cost (``partial_pricing``); ``jobs`` splits each pass
   over forked processes (:mod:`solvers.relax_pricing`).
2. **Rounding.** Per node, storage keys are taken in decreasing order of
   their fraction (trial 0) or in a seeded random order weighted by it
   (further trials, Efraimidis-Spirakis sampling) while the memory holds
   (dependent rounding over the node's knapsack: a key is dropped only when
   it no longer fits). Routing is then re-optimised for that storage by the
   same column generation with the unstored layers forbidden (convex, for
   splittable routing); unsplittable routing assigns each class the route
   with the largest share that fits the capacity left, then improves by
   single-class moves. The re-optimisation prices no routes once the
   restricted problem is within the gap tolerance of the bound. Classes left unserved get storage for their cheapest
   route (repair); routes whose SLO fails at the plan's loads (waiting
   included) are banned and the routing re-optimised.

The plan reports its objective (J under the instance's queueing, as the
evaluator values it), the bound and the gap.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from typing import TYPE_CHECKING

import numpy as np

from placement.build import build_plan
from placement.errors import InfeasibleError, SolverError, TimeLimitReached
from placement.instance import Instance
from placement.plan import Plan, PlanStatus, Termination
from placement.routes import Route

from .candidates import LayerMasks, candidate_routes
from .columns import Column, column_from_candidate, storage_nodes
from .congestion import slo_budget, value_routes
from .origin_trees import origin_tree
from .registry import Option, SolveOptions, register
from .relax_assign import assign_unsplittable, round_storage
from .relax_pricing import initial_pass, price_pass

if TYPE_CHECKING:  # cvxpy is imported only when relax runs (the method declares requires=cvxpy)
    from .relax_model import RelaxModel, RelaxSolution

log = logging.getLogger(__name__)

INITIAL_ROUTES = 3
ROUTES_PER_ROUND = 6
#: After the first new route of a class, pricing takes others only while their reduced cost is at least this share of its.
PRICE_DEPTH = 0.5
#: Column generation stops when the relaxation is within this relative distance of its bound.
CG_RTOL = 1e-7
#: Cheapest routes a repair looks at per unserved class (the route space can be huge).
REPAIR_CANDIDATES = 200
#: Re-optimisations per rounding trial while routes miss their SLO at the plan's loads.
MAX_SLO_ROUNDS = 12
#: A trial ends once SLO rows leave the same class unserved this many times (new routes for it missed their SLO too).
SLO_UNSERVED_MAX = 2
#: Column generation of the bounding relaxation stops once it is within this share of the gap tolerance of its bound
#: (the rest is left to rounding).
CG_GAP_SHARE = 0.5
#: A rounding's re-optimisation prices no routes once its value is within this share of the gap tolerance of the bound
#: (the rest covers the dust the plan drops and the unsplittable assignment).
ROUND_GAP_SHARE = 0.9
#: Partial pricing passes in a row at most (then a full one, which alone gives a bound).
PARTIAL_MAX = 3
#: A partial pass is made only when fewer than this share of the classes are active (else it saves little).
PARTIAL_SHARE = 0.5

OPTIONS = (
    Option("max_rounds", "int", 60, "column generation rounds at most, per relaxation"),
    Option("roundings", "int", 3, "rounding trials: the first by storage fraction, the others seeded and randomized"),
    Option("slo_repair", "str", "rows", "routes missing their SLO at the plan's loads (queueing ps): rows = impose their SLO, waiting included, as convex rows of the re-optimisation; ban = ban them", ("rows", "ban")),
    Option("jobs", "int", 1, "processes for pricing passes (fork, classes split between them; 1: this process only)"),
    Option("partial_pricing", "bool", True, "between full pricing passes, price only the classes whose last pass found a route of negative reduced cost"),
    Option("solver", "str", "auto", "cvxpy solver (auto: CLARABEL under queueing ps, HIGHS otherwise)", ("auto", "CLARABEL", "HIGHS", "SCS")),
)


class Relax:
    """One run of the ``relax`` method on one instance."""

    def __init__(self, instance: Instance, opts: SolveOptions):
        self.inst = instance
        self.opts = opts
        self.storage_nodes = storage_nodes(instance)
        self.pool: list[Column] = []
        self.index: dict[Route, int] = {}
        solver = str(opts.extra.get("solver", "auto"))
        self.solver = None if solver == "auto" else solver
        self.max_rounds = int(opts.extra.get("max_rounds", 60))
        self.rounds = 0
        self.notes: list[str] = []
        self.converged = True
        self.solve_s = 0.0  # building and solving the relaxations
        self.pricing_s = 0.0  # route generation
        self.pool_s = 0.0  # the initial routes
        self.slo_rows = 0
        self.slo_loosened = 0  # re-optimisations after dropping SLO rows that left classes unserved
        self.unserved: set[int] = set()  # classes a re-optimisation with SLO rows could not serve
        self.slo_repair = str(opts.extra.get("slo_repair", "rows"))
        self.jobs = max(1, int(opts.extra.get("jobs", 1)))
        self.partial = bool(opts.extra.get("partial_pricing", True))
        self.cg_gap = CG_GAP_SHARE * opts.mip_gap
        self.cg_stop: float | None = None  # relative gap at which column generation stopped (None: converged or time)
        self.target: float | None = None  # relaxation value (L x J) good enough for a rounding trial (set once the bound is known)
        self.passes = {"full": 0, "partial": 0}
        self.min_cost = np.full(len(instance.demands), np.inf)  # per class: the cost of its cheapest route (inf: unknown)
        self.skipped = 0  # class pricings skipped because no route could have a negative reduced cost
        self.pricing_cpu_s = 0.0

    # -- the pool --------------------------------------------------------------------
    def add(self, columns: list[Column]) -> int:
        n = 0
        for col in columns:
            if col.route not in self.index:
                self.index[col.route] = len(self.pool)
                self.pool.append(col)
                n += 1
        return n

    def initial_pool(self) -> None:
        """The cheapest routes of each class, class by class (each candidate set is dropped after its class;
        split over ``jobs`` processes when asked)."""
        t = time.perf_counter()
        cols = initial_pass(self, self.jobs)
        self.add(cols)
        # the first route of each class is its cheapest anywhere (best-first by cost): pricing's floor
        np.minimum.at(self.min_cost, np.array([c.cls for c in cols], dtype=np.int64), np.array([c.cost for c in cols]))
        self.pool_s = time.perf_counter() - t

    def initial_routes(self, c: int) -> list[Column]:
        """The ``INITIAL_ROUTES`` cheapest routes of class ``c``."""
        d = self.inst.demands[c]
        if self.opts.expired():
            raise TimeLimitReached(f"relax: time limit reached while building the initial routes ({d.index} of {len(self.inst.demands)} classes"
                                   f" done: one pass over every class's routes takes longer than the limit)")
        tree = origin_tree(self.inst, d.origin)
        cols = []
        for cand in candidate_routes(self.inst, d).iterate():
            cols.append(column_from_candidate(self.inst, tree, cand, self.storage_nodes))
            if len(cols) >= INITIAL_ROUTES:
                break
        return cols

    # -- column generation ---------------------------------------------------------------
    def relaxation(self, forbidden: dict | None = None, stored: set | None = None, banned: frozenset = frozenset(), bounding: bool = False,
                   slo: frozenset = frozenset(), target: float | None = None):
        """Solve the relaxation over the whole route space (with storage fixed to ``stored`` when given;
        with the SLO rows of the routes in ``slo``, waiting included, under ``ps``).

        Returns (model, solution, best Lagrangian bound in L x J or -inf; only when ``bounding``,
        which is never combined with SLO rows: they restrict the problem). With ``bounding``,
        column generation also stops once a full pricing pass proves the relaxation within
        ``CG_GAP_SHARE x mip_gap`` of its bound (every class served). With ``target`` (L x J),
        it stops as soon as a solution serving every class costs at most that (no pricing then).
        Pricing passes are full or partial (:mod:`solvers.relax_pricing`); only a full pass,
        every class priced under one solution's duals, gives a bound. A partial pass is
        made over the classes that brought routes in on the last pass.
        """
        best = -math.inf
        C = len(self.inst.demands)
        active: np.ndarray | None = None  # classes for a partial pass (None: the next pass is full)
        streak = 0  # partial passes since the last full one
        model = sol = None
        for _ in range(self.max_rounds):
            if model is None:  # a new pool (or the first round): solve over the usable routes only
                model, sol = self._solve(forbidden, stored, banned, slo)
            served = sol.art.max(initial=0.0) <= 1e-6
            if target is not None and served and sol.objective <= target:
                return model, sol, best  # good enough for the caller's gap: no pricing needed
            unserved_pass = target is not None and not served
            if unserved_pass:  # a re-optimisation: look for routes for the classes left unserved only (none: the caller repairs)
                active, streak = np.flatnonzero(sol.art > 1e-6), 0
            t = time.perf_counter()
            prices = model.class_prices(sol, model.server_prices(sol))
            tol = CG_RTOL * max(1.0, abs(sol.objective)) / max(C, 1)
            full = active is None or not self.partial or streak >= PARTIAL_MAX or len(active) > PARTIAL_SHARE * C
            classes = np.arange(C) if full else active
            floor = None
            if not forbidden and not banned and np.all(prices.node_price >= 0) and np.all(prices.link_price >= 0):
                # no route of a class costs less than its cheapest, and prices are >= 0: its reduced cost is at least this
                floor = np.where(np.isfinite(self.min_cost), prices.rates * self.min_cost - prices.offsets, -np.inf)
            res = price_pass(self, classes, prices, tol, banned, forbidden, self.jobs, floor)
            self.skipped += res.skipped
            self.pricing_s += time.perf_counter() - t
            self.pricing_cpu_s += res.cpu_s
            self.passes["full" if full else "partial"] += 1
            new = res.columns
            active = np.unique(np.array([col.cls for col in new], dtype=np.int64))  # classes that brought routes in
            streak = 0 if full else streak + 1
            log.info("relax round %d: %s pass over %d classes (%d skipped), relaxation %.10g (L x J), %d new routes; solve %.1f s, pricing %.1f s (%.1f CPU s), pool %d",
                     self.rounds, "full" if full else "partial", len(classes), res.skipped, sol.objective, len(new), self.solve_s, self.pricing_s, self.pricing_cpu_s, len(self.pool))
            if bounding and full and res.complete:
                best = max(best, model.lagrangian(sol, prices.offsets, res.min_rc))
                gap = sol.objective - best
                rel = gap / max(abs(sol.objective), 1e-300)
                converged = gap <= CG_RTOL * max(1.0, abs(sol.objective))
                log.info("relax round %d: Lagrangian bound %.10g, relative gap %.3e", self.rounds, best, rel)
                if converged or (served and gap <= self.cg_gap * abs(sol.objective)):
                    if not converged:
                        self.cg_stop = rel
                    self.add(new)  # not in this relaxation, but there for the rounding's re-optimisation
                    return model, sol, best
            if not res.complete or (new and self.opts.expired()):
                self.converged = False  # classes left unpriced, or routes found but not used
                return model, sol, best
            if not new:
                if full or unserved_pass:
                    return model, sol, best  # (no route for the unserved classes: the caller repairs storage or loosens SLO rows)
                if self.opts.expired():
                    self.converged = False  # no full pass proved it
                    return model, sol, best
                active = None  # nothing new among the active classes: a full pass next, on the same solution
                continue
            self.add(new)
            model = None
        self.converged = False
        return model, sol, best

    def _solve(self, forbidden: dict | None, stored: set | None, banned: frozenset, slo: frozenset) -> tuple[RelaxModel, RelaxSolution]:
        """Build and solve the relaxation over the pool's usable routes (not banned; only stored layers when ``stored`` is given)."""
        from .relax_model import RelaxModel

        t = time.perf_counter()
        usable = [i for i, c in enumerate(self.pool) if c.route not in banned and (stored is None or all(k in stored for k in c.keys))]
        pos = {i: j for j, i in enumerate(usable)}
        slo_idx = np.array([pos[self.index[r]] for r in slo if self.index[r] in pos], dtype=np.int64)
        model = RelaxModel(self.inst, [self.pool[i] for i in usable], self.storage_nodes, self.solver, slo_routes=slo_idx, fixed_rates=True, stored=stored)
        built = time.perf_counter()
        sol = model.solve(self.opts.verbose)
        self.solve_s += time.perf_counter() - t
        self.rounds += 1
        stats = model.problem.solver_stats
        log.info("relax round %d: %d of %d routes usable, %d SLO rows; model built in %.1f s, solved in %.1f s (solver %.1f s, %s iterations), status %s",
                 self.rounds, len(usable), len(self.pool), len(slo_idx), built - t, time.perf_counter() - built,
                 stats.solve_time or 0.0, stats.num_iters, sol.status)
        return model, sol

    def price_class(self, demand, prices, tol: float, banned=frozenset()) -> tuple[float, list[Column]]:
        """The least reduced cost of any route of ``demand`` (at most 0), and up to ROUTES_PER_ROUND new routes of negative reduced cost.

        Candidates come best first, so the first one gives the least reduced
        cost (the Lagrangian bound needs only that). Further routes are taken
        while their reduced cost is at least PRICE_DEPTH times the first new
        route's: proving that no other negative route exists would expand every
        (model, end node) pair whose bound is below zero, which on a large,
        congested fleet costs ten times the rest of pricing.
        """
        tree = origin_tree(self.inst, demand.origin)
        rc, first, cols = 0.0, None, []
        for cand in candidate_routes(self.inst, demand, prices=prices, stop=0.0).iterate(stop=0.0):
            rc = min(rc, cand.score)
            if cand.score >= -tol or (first is not None and cand.score > PRICE_DEPTH * first):
                break
            if cand.route not in self.index and cand.route not in banned:
                cols.append(column_from_candidate(self.inst, tree, cand, self.storage_nodes))
                first = cand.score if first is None else first
                if len(cols) >= ROUTES_PER_ROUND:
                    break
        return rc, cols

    # -- rounding ----------------------------------------------------------------------
    def forbidden_of(self, stored: set) -> LayerMasks:
        """Per (storage node, model): layers not stored there (routes may not compute them)."""
        nodes = np.array(sorted(self.storage_nodes), dtype=np.int64)
        masks = {m: np.ones((len(self.inst.nodes), model.n_layers), dtype=bool) for m, model in self.inst.models.items()}
        for v, m, l in stored:
            masks[m][v, l] = False
        tables = {m: (nodes, np.concatenate([np.zeros((len(nodes), 1)), np.cumsum(mask[nodes], axis=1)], axis=1)) for m, mask in masks.items()}
        return LayerMasks({(int(v), m): masks[m][v] for v in nodes for m in self.inst.models}, tables)

    def routes_of(self, model: RelaxModel, sol: RelaxSolution) -> list[tuple[Route, float]] | None:
        if sol.art.max(initial=0.0) > 1e-6:
            return None
        if self.inst.routing == "unsplittable":
            return assign_unsplittable(self.inst, model, sol, self.opts)
        out = []
        allowed = np.asarray(model.allow.value)
        for c in range(len(self.inst.demands)):
            idx = np.flatnonzero((model.cls == c) & (sol.y > 1e-6) & (allowed > 0))  # interior-point dust dropped
            total = float(sol.y[idx].sum())
            if total <= 0:
                return None
            out.extend((model.columns[i].route, float(sol.y[i] / total)) for i in idx)
        return out

    def trial(self, x_frac: dict, seed: int | None):
        """One rounding: storage, re-optimised routing, repairs. Returns the valued plan or None.

        Under ``ps`` a route's latency depends on the loads: a route found
        missing its SLO at the plan's loads gets its SLO as a convex row of the
        re-optimisation (:class:`~solvers.relax_model.RelaxModel` ``slo_routes``),
        so its share and the loads on its servers are chosen together. Only a
        route that misses its SLO although its row is imposed (solver accuracy),
        or whose slack at zero load is below the row's margin, is banned.
        """
        stored = round_storage(self.inst, x_frac, seed)
        banned: set = set()
        slo: set = set()
        dropped: set = set()  # routes whose SLO row was dropped once (found missing again: banned)
        last_unserved: set = set()
        slo_unserved: dict[int, int] = {}  # per class: re-optimisations its SLO rows left it unserved
        for _ in range(MAX_SLO_ROUNDS):
            if self.opts.expired():
                return None
            model, sol, _ = self.relaxation(self.forbidden_of(stored), stored, frozenset(banned), slo=frozenset(slo), target=self.target)
            routes = self.routes_of(model, sol)
            if routes is None:
                unserved = {int(c) for c in np.flatnonzero(sol.art > 1e-6)}
                if slo:
                    for c in unserved:
                        slo_unserved[c] = slo_unserved.get(c, 0) + 1
                    if any(slo_unserved[c] >= SLO_UNSERVED_MAX for c in unserved):
                        self.unserved.update(unserved)
                        return None  # with their SLO rows these classes stay unserved whatever routes they get: waiting binds
                if slo and self._loosen(model, sol, unserved, slo, banned, dropped):
                    continue  # rows that kept classes from being served were dropped or turned into bans
                self.unserved.update(unserved)
                if (slo and unserved == last_unserved) or not self._repair(model, sol, stored, banned):
                    return None  # new storage did not help these classes: their SLOs with waiting bind
                last_unserved = unserved
                continue
            valued = value_routes(self.inst, routes)
            log.info("relax rounding (seed %s): plan J %.10g, feasible %s, %d SLO misses, %d SLO rows", seed, valued.objective, valued.feasible, len(valued.slo_violations), len(slo))
            if valued.feasible:
                self.slo_rows = max(self.slo_rows, len(slo))
                return valued
            if valued.overloaded and not valued.slo_violations:
                return None
            missing = {routes[k][0] for k in valued.slo_violations}
            fresh = missing - slo
            if self.inst.queueing != "ps" or not fresh or self.slo_repair == "ban":
                banned.update(missing)
                slo.difference_update(missing)
                continue
            for r in fresh:
                if r in dropped or slo_budget(self.inst, [self.pool[self.index[r]]])[0] <= 0:
                    banned.add(r)
                else:
                    slo.add(r)
        return None

    def _loosen(self, model: RelaxModel, sol: RelaxSolution, unserved: set, slo: set, banned: set, dropped: set) -> bool:
        """SLO rows that leave classes unserved: turn them into bans or drop them; False when none is changed.

        A row holds whether or not its route carries flow, so it can forbid
        the loads every other route of the class needs (e.g. on the class's
        own uplink). The rows of an unserved class's routes become bans (the
        route may not carry flow; the class is served by others), and rows
        that bind (positive dual) on routes that carry no flow are dropped
        (a dropped route found missing its SLO again is banned, so this ends).
        """
        changed = False
        for r in list(slo):
            if self.pool[self.index[r]].cls in unserved:
                slo.discard(r)
                banned.add(r)
                changed = True
        for r, nu in zip(model.slo_idx, sol.nu):
            route = model.columns[int(r)].route
            if route in slo and nu > 1e-9 and sol.y[int(r)] <= 1e-6:
                slo.discard(route)
                dropped.add(route)
                changed = True
        if changed:
            self.slo_loosened += 1
        return changed

    def _repair(self, model: RelaxModel, sol: RelaxSolution, stored: set, banned: set) -> bool:
        """Give each unserved class storage for its cheapest route that fits; False when none does."""
        used: dict[int, float] = {}
        keep = {k for i in np.flatnonzero(sol.y > 1e-9) for k in model.columns[i].keys}
        for v, m, l in keep:
            used[v] = used.get(v, 0.0) + float(self.inst.models[m].param_bytes[l])
        stored.intersection_update(keep)
        ok = True
        for c in np.flatnonzero(sol.art > 1e-6):
            d = self.inst.demands[int(c)]
            tree = origin_tree(self.inst, d.origin)
            for cand in itertools.islice(candidate_routes(self.inst, d).iterate(), REPAIR_CANDIDATES):
                if cand.route in banned or self.opts.expired():
                    continue
                col = column_from_candidate(self.inst, tree, cand, self.storage_nodes)
                if set(col.keys) <= stored:
                    continue  # usable already: the relaxation could not serve the class with it (capacity or SLO rows)
                need: dict[int, float] = {}
                for v, m, l in set(col.keys) - stored:
                    need[v] = need.get(v, 0.0) + float(self.inst.models[m].param_bytes[l])
                if all(used.get(v, 0.0) + b <= self.inst.nodes[v].memory_bytes for v, b in need.items()):
                    stored.update(col.keys)
                    for v, b in need.items():
                        used[v] = used.get(v, 0.0) + b
                    self.add([col])
                    break
            else:
                ok = False
        return ok

    # -- the method --------------------------------------------------------------------
    def run(self) -> Plan:
        start = time.perf_counter()
        self.initial_pool()
        alone = np.flatnonzero(~np.isfinite(self.min_cost))
        if len(alone):  # pricing uses the same filters: these classes can never be served
            raise InfeasibleError([f"demand class {c} ({self.inst.demands[c].label}) has no route meeting its SLO ({self.inst.demands[c].max_latency_s * 1e3:.1f} ms)"
                                   f" and accuracy floor within its nodes' memory, even alone in the network" for c in alone], method="relax")
        model, sol, bound = self.relaxation(bounding=True)
        if sol.art.max(initial=0.0) > 1e-6 and self.converged:
            raise InfeasibleError([f"demand class {c} ({self.inst.demands[c].label}) cannot be served even fractionally: every route meeting its SLO and accuracy floor would exceed a memory, compute or link capacity" for c in np.flatnonzero(sol.art > 1e-6)], method="relax")
        L = self.inst.total_rate_rps
        lb = bound / L
        relax_value = sol.objective / L
        x_frac = {k: float(v) for k, v in zip(model.keys, sol.x)}
        if lb > 0:
            self.target = L * lb * (1 + ROUND_GAP_SHARE * self.opts.mip_gap)  # a plan there is within the gap tolerance
        best = None
        for t in range(int(self.opts.extra.get("roundings", 3))):
            if t and (self.opts.expired() or (best is not None and best.objective - lb <= self.opts.mip_gap * abs(best.objective))):
                break
            got = self.trial(x_frac, None if t == 0 else self.opts.seed + t)
            if got is not None and (best is None or got.objective < best.objective - 1e-12):
                best = got
        if best is None:
            why = ""
            if self.unserved:
                names = ", ".join(f"{c} ({self.inst.demands[c].label}, SLO {self.inst.demands[c].max_latency_s * 1e3:.1f} ms)" for c in sorted(self.unserved)[:5])
                why = (f"; with waiting counted, {len(self.unserved)} class(es) could not be served within their SLO at any load the"
                       f" re-optimisation found: {names}{', ...' if len(self.unserved) > 5 else ''}")
            raise SolverError(f"relax: no rounding of the relaxation gave a feasible plan{why} (try milp, more roundings=, or looser SLOs)")
        gap = max(0.0, (best.objective - lb) / max(abs(best.objective), 1e-12))
        proven = gap <= self.opts.mip_gap + 1e-12
        term = Termination.OPTIMAL if gap <= 1e-9 else (Termination.GAP_LIMIT if proven else (Termination.COMPLETED if self.converged else Termination.ITERATION_LIMIT))
        how = "converged" if self.converged and self.cg_stop is None else "column generation stopped early: Lagrangian bound"
        if self.cg_stop is not None:
            how += f" of a full pricing pass, relaxation within {self.cg_stop:.2e} of it"
        self.notes.append(f"relaxation {relax_value:.10g}, bound {lb:.10g} ({how}), {len(self.pool)} routes generated,"
                          f" {self.passes['full']} full and {self.passes['partial']} partial pricing passes ({self.skipped} class pricings skipped: no route could price below 0)")
        plan = build_plan(
            self.inst, "relax", best.choices,
            PlanStatus.OPTIMAL if proven else PlanStatus.FEASIBLE,
            bound=min(lb, best.objective) if proven else lb,
            termination=term,
            solve_time_s=self.solve_s,
            seed=self.opts.seed,
            options={"queueing": self.inst.queueing, **{k: v for k, v in self.opts.extra.items()}},
            notes=self.notes,
        )
        plan.stats = {"relaxation": relax_value, "bound": lb, "gap": gap, "routes": len(self.pool), "rounds": self.rounds, "slo_rows": self.slo_rows, "slo_loosened": self.slo_loosened,
                      "initial_routes_s": self.pool_s, "relaxation_s": self.solve_s, "pricing_s": self.pricing_s, "pricing_cpu_s": self.pricing_cpu_s,
                      "full_passes": self.passes["full"], "partial_passes": self.passes["partial"], "cg_stop_gap": self.cg_stop, "pricings_skipped": self.skipped, "wall_time_s": time.perf_counter() - start}
        return plan


@register(
    "relax",
    "Convex relaxation (cvxpy) with route generation, a bound for the whole problem, and dependent rounding; models queueing ps",
    splitting=True,
    queueing=("none", "ps"),
    options=OPTIONS,
    requires=("cvxpy",),
)
def relax(instance: Instance, opts: SolveOptions) -> Plan:
    return Relax(instance, opts).run()
