"""Column generation for the objective MILP: routes priced in beyond the pool, with a certificate per solve.

The pool of :mod:`.pool` is complete only on tiny instances; elsewhere a
front computed over it is exact only *within* it. :class:`Pricer` removes
that restriction, solve by solve, by **price-and-branch with reduced-cost
completion**:

1. *Column generation on the LP relaxation.* The MILP's objective is
   ``sum_k w_k F_k`` (scaled) with epsilon rows ``F_k <= e_k`` whose duals
   ``mu_k <= 0``. A route's reduced cost is then
   ``sum_k (w_k - mu_k) F_k(route)`` minus its compute, link, storage and
   convexity duals. Its latency, inaccuracy and energy terms are per-request
   figures weighted like the instance's J (the enumeration runs on a copy of
   the instance with those weights), and the ``network`` term (bytes over
   every link direction crossed) is a per-byte price on every link direction,
   added to the link duals of :class:`solvers.candidates.Prices`. Routes are
   enumerated best-first by reduced cost (:func:`solvers.candidates.candidate_routes`),
   so at convergence no route of the whole route space has a negative reduced
   cost and the LP value is a bound for the whole problem. A restricted LP that
   is infeasible (the pool cannot meet the epsilon rows) is first made
   feasible by phase 1 (minimise the unserved share, pricing with its duals);
   if even the full LP is infeasible, so is the MILP (certified).
2. *MILP over the priced pool* (HiGHS). Its plan is **certified** optimal for
   the whole problem when its objective equals the LP bound (relative
   tolerance ``CERT_RTOL``).
3. *Reduced-cost completion* (unsplittable routing, as in ``milp``): with
   ``delta`` = MILP objective - LP bound, every route of reduced cost at most
   ``delta`` is added (any better plan uses only such routes: a plan's
   objective is the LP bound plus the reduced costs of its routes, each taken
   whole), and the MILP solved again: its plan is then certified. When the
   pool MILP has no plan but the LP has, ``delta`` is unbounded: every route
   is added. A class with more than ``completion`` such routes leaves the
   solve uncertified (reported, never hidden). With splittable routing a
   route can be used in a tiny share, so completion proves nothing there and
   only step 2 certifies.

Branch-and-price proper (``milp``'s :class:`solvers.milp.BranchAndPrice`) is
built around the instance's J and its own incumbent logic; the objective rows
would have to enter its pricing and branching, so it is not used here.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from placement.errors import SolverError, TimeLimitReached

from ..candidates import Prices, candidate_routes
from ..columns import Column, column_from_candidate
from ..origin_trees import origin_tree

#: Reduced costs below -RC_TOL (objective units: OBJ_SCALE per unit of a scaled objective) price a route in.
RC_TOL = 1e-7
#: Routes added per class per pricing round at most.
ROUTES_PER_ROUND = 6
#: A pool MILP objective within this relative distance of the LP bound is certified optimal.
CERT_RTOL = 1e-6
#: Default of the ``completion`` option: routes per class that reduced-cost completion may add.
COMPLETION = 2000


@dataclass
class Outcome:
    """One MILP solve with pricing: its column values (None: no plan) and what is proven about it."""

    y: np.ndarray | None
    certified: bool
    lp_bound: float | None = None
    objective: float | None = None
    priced: int = 0


class Pricer:
    """Prices routes into an :class:`~.mip.ObjectiveMILP` (see the module docstring)."""

    def __init__(self, milp, completion: int = COMPLETION):
        self.milp = milp
        self.master = milp.master
        self.inst = milp.instance
        self.completion = int(completion)
        self.unsplittable = self.inst.routing == "unsplittable"
        self.rounds = 0
        self.priced = 0
        self.uncertified = 0
        self.completions = 0  # solves certified by reduced-cost completion

    # -- the solve -------------------------------------------------------------------
    def solve(self, w: np.ndarray) -> Outcome:
        """Minimise ``w . Cg`` (model units) over the whole route space, subject to the current rows."""
        before = self.priced
        try:
            lb, duals = self._lp(w)
            if lb is None:
                return Outcome(None, True, priced=self.priced - before)  # the LP, hence the MILP, has no plan
            y, z = self._mip(w)
            if y is not None and z - lb <= CERT_RTOL * max(abs(z), 1.0):
                return Outcome(y, True, lb, z, self.priced - before)
            certified = False
            if self.unsplittable and not self.milp.timed_out:
                delta = math.inf if y is None else z - lb
                if self._complete(w, duals, delta):
                    y, z = self._mip(w)
                    certified = not self.milp.timed_out
                    self.completions += certified
            if not certified:
                self.uncertified += 1
            return Outcome(y, certified, lb, z, self.priced - before)
        except TimeLimitReached:
            self.milp.timed_out = True
            self.uncertified += 1
            return Outcome(None, False, priced=self.priced - before)

    def _lp(self, w: np.ndarray) -> tuple[float | None, np.ndarray | None]:
        """LP relaxation over the whole route space: (bound, row duals), or (None, None) when infeasible."""
        self.master.set_integrality(False)
        try:
            while True:
                self.milp.set_costs(w)
                sol = self.master.solve(time_limit_s=self._left())
                if sol.status == "Infeasible":
                    if not self._phase1():
                        return None, None
                    continue
                if not sol.optimal:
                    raise self._stopped(sol.status)
                if not self._add(self._price(w, sol.row_dual, -RC_TOL, ROUTES_PER_ROUND)):
                    return float(sol.objective), sol.row_dual
        finally:
            self.master.set_integrality(True)

    def _phase1(self) -> bool:
        """Minimise the unserved share with routes priced in; whether the LP over the whole route space is feasible."""
        m = self.master
        art = np.asarray(m.art_col, dtype=np.int32)
        n = len(art)
        m.h.changeColsBounds(n, art, np.zeros(n), np.full(n, np.inf))
        m.h.changeColsCost(n, art, np.ones(n))
        zero = np.zeros(len(self.milp.scale))
        try:
            while True:
                self.milp.set_costs(zero)
                sol = m.solve(time_limit_s=self._left())
                if sol.status == "Infeasible":
                    return False  # a relaxation of the LP (every class may go unserved): no plan at all
                if not sol.optimal:
                    raise self._stopped(sol.status)
                if not self._add(self._price(zero, sol.row_dual, -RC_TOL, ROUTES_PER_ROUND)):
                    return float(sol.artificial.sum()) <= 1e-9
        finally:
            m.h.changeColsBounds(n, art, np.zeros(n), np.zeros(n))
            m.h.changeColsCost(n, art, np.zeros(n))

    def _mip(self, w: np.ndarray) -> tuple[np.ndarray | None, float | None]:
        self.milp.set_costs(w)
        sol = self.master.solve(time_limit_s=self._left(), mip_gap=min(self.milp.opts.mip_gap, 1e-6))
        self.milp.solves += 1
        if not sol.optimal and sol.status != "Infeasible":
            self.milp.timed_out = True
        if not sol.has_solution:
            return None, None
        return sol.y, float(sol.y @ (self.milp.Cg @ w))

    def _complete(self, w: np.ndarray, duals: np.ndarray, delta: float) -> bool:
        """Add every route of reduced cost <= ``delta``; False when a class has more than ``completion``."""
        cols = self._price(w, duals, delta + RC_TOL, self.completion + 1, per_class_cap=True)
        if cols is None:
            return False
        self._add(cols)
        return True

    # -- pricing ---------------------------------------------------------------------
    def _price(self, w: np.ndarray, duals: np.ndarray, stop: float, limit: int, per_class_cap: bool = False) -> list[Column] | None:
        """Routes of reduced cost < ``stop`` not yet in the model, at most ``limit`` per class.

        With ``per_class_cap``, None when some class reaches ``limit``.
        """
        m = self.master
        weighted = self.weighted_instance(w, duals)
        out: list[Column] = []
        self.rounds += 1
        for cls, demand in enumerate(self.inst.demands):
            prices = self.class_prices(cls, w, duals)
            tree = origin_tree(self.inst, demand.origin)
            found = 0
            for cand in candidate_routes(weighted, demand, prices=prices, deadline=self.milp.opts.deadline).iterate(stop=stop):
                if cand.route in m.route_index:
                    continue
                out.append(column_from_candidate(self.inst, tree, cand, m.storage_nodes))
                found += 1
                if found >= limit:
                    if per_class_cap:
                        return None
                    break
        return out

    def objective_prices(self, w: np.ndarray, duals: np.ndarray) -> np.ndarray:
        """Price per unit of each route's F contribution (``OBJECTIVES`` order): ``w_k - mu_k`` (scaled), 0 for objectives not in the model."""
        a = np.zeros(4)
        a[self.milp.obj_idx] = w + np.maximum(0.0, -duals[self.milp.rows]) / self.milp.scale
        return a

    def weighted_instance(self, w: np.ndarray, duals: np.ndarray):
        """The instance with J's weights set to the latency, inaccuracy and energy prices (the enumeration's cost)."""
        a = self.objective_prices(w, duals)
        weighted = copy.copy(self.inst)
        weighted.w_latency, weighted.w_inaccuracy, weighted.w_energy = (float(x) for x in a[:3])
        return weighted

    def class_prices(self, cls: int, w: np.ndarray, duals: np.ndarray) -> Prices:
        """Dual prices of one class for :meth:`weighted_instance`: the per-request cost scaled by rate / L,
        the master's resource and convexity duals, and the ``network`` price added to every link direction's."""
        a = self.objective_prices(w, duals)
        base = self.master.prices(cls, duals)
        r = self.inst.demands[cls].rate_rps
        return Prices(r / self.inst.total_rate_rps, base.offset, base.node, base.link + r * a[3], base.storage, {})

    def _add(self, cols: list[Column]) -> int:
        added = self.milp.add_columns(cols)
        self.priced += added
        return added

    # -- limits ----------------------------------------------------------------------
    def _left(self) -> float | None:
        left = self.milp.opts.left()
        if not np.isfinite(left):
            return None
        if left <= 0:
            raise TimeLimitReached("time limit reached")
        return max(left, 0.01)

    def _stopped(self, status: str) -> Exception:
        if self.milp.opts.left() <= 0 or status == "Time limit reached":
            return TimeLimitReached(f"LP relaxation stopped: {status}")
        return SolverError(f"LP relaxation ended with status '{status}'")


__all__ = ["COMPLETION", "Outcome", "Pricer"]
