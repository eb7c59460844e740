"""``nsga2`` and ``nsga3``: evolutionary Pareto search (pymoo) over route choices.

**Encoding.** One integer per demand class: which route of the class's pool
(:mod:`.pool`) serves it, with share 1. Storage follows from the routes: a
node stores exactly the layers its routes compute. The plans are therefore
unsplittable (also valid under splittable routing). SLO, accuracy floor and
per-segment memory hold for every pool route by construction.

**Evaluation.** F of a plan is the sum of its routes' rows of the pool's
contribution matrix (built from the cost kernel's per-route figures), and
node utilization, link load and per-node stored bytes are sums of sparse
per-route usage: a whole population is one sparse product.

**Repair** (pymoo's repair operator, run on every new individual): while a
node's compute, a link direction's bandwidth or a node's memory is over its
limit, up to 8 of the classes using the most overloaded resource (in a seeded
random order) are tried on every other route of their pools, and the move
that lowers the total overload most is made (ties: the smallest sum of
scaled objectives). What repair cannot fix within its budget stays as a
constraint violation, which NSGA's constrained domination ranks below every
feasible plan.

**Result.** An archive keeps the non-dominated part of every feasible plan
evaluated during the run (updated each generation); it is the front.

**Initial population** (:meth:`Encoding.repaired_seeds`). First each
objective's lexicographic per-class optimum (that objective, then the sum of
the scaled others) and the plan of their sum; one that overloads is repaired
towards its own objective (every class using the most overloaded resource
is tried; the move of least objective increase per unit of overload removed
is made), then improved class by class while it stays feasible: the end
points of the pool's front under capacities. Then, up to half the
population, each class's best route by weighted sums over a simplex lattice
of weights, the objectives scaled by the span between those end points
(F is a sum over classes, so these are the pool's supported points when no
capacity binds, spread along the front), each repaired towards its own
weights; then random choices. Runs are reproducible for a given seed.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import sparse

from placement.front import Front, non_dominated
from placement.instance import Instance
from placement.kernel import SOLVER_RTOL

from ..registry import Option, SolveOptions, register
from .common import OBJECTIVES_OPTION, POOL_OPTION, assemble, objectives_and_pool, plan_of
from .pool import RoutePool, objective_indices
from .weights import simplex_lattice

POP_OPTION = Option("pop", "int", 60, "population size")
GENS_OPTION = Option("gens", "int", 80, "generations")
#: Classes tried per repair move of the lattice seeds (the end points try every class, then :meth:`Encoding.improve_one`).
LATTICE_TRIES = 8
POOL_NSGA = Option("max_routes", "int", 60, POOL_OPTION.doc)


class Encoding:
    """Sparse per-route usage of a pool, and F, loads and repair for integer route choices."""

    def __init__(self, instance: Instance, pool: RoutePool, objectives: list[str], seed: int):
        self.pool = pool
        self.n_cls = len(instance.demands)
        self.start = pool.start[:-1]
        self.size = np.diff(pool.start)
        self.Cg = pool.C[:, objective_indices(objectives)]
        ub = np.zeros(self.Cg.shape[1])
        for c in range(self.n_cls):
            ub += self.Cg[pool.routes_of(c)].max(axis=0)
        self.ub = np.where(ub > 0, ub, 1.0)
        self.norm = self.Cg / self.ub
        costs, rate = pool.costs, instance.rates[pool.cls]
        G = pool.n_routes
        U = instance.max_utilization
        bw = instance.network.dir_bandwidth
        # usage as a fraction of each resource's limit: feasible when the column sums are <= 1
        self.node = sparse.csr_matrix((rate[costs.node_route] * costs.node_seconds / U, (costs.node_route, costs.node_index)), shape=(G, costs.n_nodes))
        self.link = sparse.csr_matrix((rate[costs.link_route] * costs.link_bytes / (U * bw[costs.link_dir]), (costs.link_route, costs.link_dir)), shape=(G, costs.n_dirs))
        keys = sorted({k for col in pool.columns for k in col.keys})
        kid = {k: i for i, k in enumerate(keys)}
        rows = [g for g, col in enumerate(pool.columns) for _ in col.keys]
        cols = [kid[k] for col in pool.columns for k in col.keys]
        self.keys = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(G, len(keys)))
        frac = [float(instance.models[m].param_bytes[l]) / instance.nodes[v].memory_bytes for v, m, l in keys]
        self.key_node = sparse.csr_matrix((frac, (np.arange(len(keys)), [v for v, _, _ in keys])), shape=(len(keys), costs.n_nodes))
        self.node_T = self.node.T.tocsr()
        self.link_T = self.link.T.tocsr()
        self.mem_T = (self.keys @ self.key_node).T.tocsr()  # (nodes, routes): a route's own stored fraction
        self.rng = np.random.default_rng(seed)

    def routes(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.int64) + self.start[None, :]

    def selection(self, X: np.ndarray) -> sparse.csr_matrix:
        g = self.routes(X)
        n = len(g)
        return sparse.csr_matrix((np.ones(g.size), g.ravel(), np.arange(0, g.size + 1, self.n_cls)), shape=(n, self.pool.n_routes))

    def F(self, X: np.ndarray) -> np.ndarray:
        return self.Cg[self.routes(X)].sum(axis=1)

    def usage(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(node, link, memory) load as fractions of their limits, one row per individual."""
        S = self.selection(X)
        stored = (S @ self.keys).sign()
        return (S @ self.node).toarray(), (S @ self.link).toarray(), (stored @ self.key_node).toarray()

    def violation(self, X: np.ndarray) -> np.ndarray:
        """Largest overload (fraction of a limit beyond 1, with the solvers' tolerance) per individual; <= 0 when feasible."""
        n, l, m = self.usage(X)
        worst = np.maximum(np.maximum(n.max(axis=1, initial=0.0), l.max(axis=1, initial=0.0)), m.max(axis=1, initial=0.0))
        return worst - (1.0 + SOLVER_RTOL)

    def _route_lists(self) -> None:
        """Per route: the (index, value) lists of its node, link and storage usage (for repair)."""
        def rows(M):
            M = M.tocsr()
            return [(M.indices[M.indptr[g] : M.indptr[g + 1]], M.data[M.indptr[g] : M.indptr[g + 1]]) for g in range(M.shape[0])]

        self._node_rows, self._link_rows = rows(self.node), rows(self.link)
        K = self.keys.tocsr()
        self._key_rows = [K.indices[K.indptr[g] : K.indptr[g + 1]] for g in range(K.shape[0])]
        kn = self.key_node.tocoo()
        self._key_frac = np.zeros(self.keys.shape[1])
        self._key_at = np.zeros(self.keys.shape[1], dtype=np.int64)
        self._key_frac[kn.row] = kn.data
        self._key_at[kn.row] = kn.col

    def _state(self, g: np.ndarray):
        """Node, link and stored-key usage of the routes ``g`` (one per class)."""
        return (np.asarray(self.node[g].sum(axis=0)).ravel(), np.asarray(self.link[g].sum(axis=0)).ravel(), np.asarray(self.keys[g].sum(axis=0)).ravel())

    def _apply(self, node, link, count, g: int, sign: float) -> None:
        i, v = self._node_rows[g]
        node[i] += sign * v
        i, v = self._link_rows[g]
        link[i] += sign * v
        count[self._key_rows[g]] += sign

    def _excess(self, node, link, count) -> float:
        mem = np.bincount(self._key_at, weights=np.where(count > 0.5, self._key_frac, 0.0), minlength=len(node))
        tol = 1.0 + SOLVER_RTOL
        return float(np.maximum(node - tol, 0).sum() + np.maximum(link - tol, 0).sum() + np.maximum(mem - tol, 0).sum())

    def _users(self, g: np.ndarray, node, link, count) -> np.ndarray:
        """Classes whose route uses the most overloaded resource (compute, link direction or memory)."""
        mem = np.bincount(self._key_at, weights=np.where(count > 0.5, self._key_frac, 0.0), minlength=len(node))
        loads = [node, link, mem]
        kind = int(np.argmax([a.max(initial=0.0) for a in loads]))
        res = int(np.argmax(loads[kind]))
        if kind == 0:
            uses = [res in self._node_rows[int(r)][0] for r in g]
        elif kind == 1:
            uses = [res in self._link_rows[int(r)][0] for r in g]
        else:
            uses = [bool(np.any(self._key_at[self._key_rows[int(r)]] == res)) for r in g]
        return np.flatnonzero(uses)

    def repair_one(self, x: np.ndarray, budget: int, tries: int = 8, focus: np.ndarray | None = None) -> np.ndarray:
        """Move classes using the most overloaded resource to other routes of their pools while the total overload drops.

        The move made lowers the total overload most (ties: the smallest sum of
        scaled objectives); with ``focus`` (a weight per objective), it is the
        move of least increase in ``focus . scaled objectives`` per unit of
        overload removed, so that a seed at one end of the front stays near it.
        """
        if not hasattr(self, "_node_rows"):
            self._route_lists()
        x = x.copy()
        g = self.routes(x[None, :])[0]
        node, link, count = self._state(g)
        excess = self._excess(node, link, count)
        for _ in range(budget):
            if excess <= 0:
                break
            best = None
            for c in self.rng.permutation(self._users(g, node, link, count))[:tries]:
                old = int(g[c])
                self._apply(node, link, count, old, -1.0)
                for alt in self.pool.routes_of(int(c)):
                    if alt == old:
                        continue
                    self._apply(node, link, count, alt, 1.0)
                    e = self._excess(node, link, count)
                    self._apply(node, link, count, alt, -1.0)
                    if focus is None:
                        key = (e, float(self.norm[alt].sum()))
                    else:
                        key = (float((self.norm[alt] - self.norm[old]) @ focus) / max(excess - e, 1e-300), e)
                    if e < excess - 1e-12 and (best is None or key < best[0]):
                        best = (key, int(c), alt)
                self._apply(node, link, count, old, 1.0)
                if focus is None and best is not None and best[0][0] <= 0:
                    break
            if best is None:
                break
            key, c, alt = best
            excess = key[0] if focus is None else key[1]
            self._apply(node, link, count, int(g[c]), -1.0)
            self._apply(node, link, count, alt, 1.0)
            g[c] = alt
            x[c] = alt - int(self.start[c])
        return x

    def improve_one(self, x: np.ndarray, focus: np.ndarray, passes: int = 3) -> np.ndarray:
        """Moves of one class at a time to a route of lower ``focus . scaled objectives`` that keeps
        a feasible plan feasible (each class's best such route; ``passes`` sweeps at most)."""
        if not hasattr(self, "_node_rows"):
            self._route_lists()
        x = x.copy()
        g = self.routes(x[None, :])[0]
        node, link, count = self._state(g)
        if self._excess(node, link, count) > 0:
            return x
        score = self.norm @ focus
        for _ in range(passes):
            moved = False
            for c in range(self.n_cls):
                old = int(g[c])
                r = self.pool.routes_of(c)
                better = r.start + np.flatnonzero(score[r.start : r.stop] < score[old] - 1e-12 * abs(score[old]))
                self._apply(node, link, count, old, -1.0)
                for alt in better[np.argsort(score[better], kind="stable")].tolist():
                    self._apply(node, link, count, alt, 1.0)
                    if self._excess(node, link, count) <= 0:
                        g[c], x[c], old, moved = alt, alt - int(self.start[c]), alt, True
                        break
                    self._apply(node, link, count, alt, -1.0)
                else:
                    self._apply(node, link, count, old, 1.0)
            if not moved:
                break
        return x

    def seeds(self, count: int = 0, *, focus: bool = False, span: np.ndarray | None = None):
        """Per objective and for their sum: each class's best route; then, up to ``count`` rows in all,
        each class's best route by weighted sums of the objectives (a simplex lattice of weights).

        F is a sum over classes, so a weighted sum is minimised class by class:
        without capacities these rows are the supported points of the pool's
        front, spread along it. Per objective the row is lexicographic (that
        objective, then the sum of the others as tie-break): the end points of
        the front when nothing overloads. With ``focus``, also returns each
        row's weights on the scaled objectives (:attr:`norm`), for :meth:`repair_one`.
        The lattice's weights apply to each objective divided by its range
        ``span`` (default: the sum over classes of each class's worst minus best).
        """
        p = self.Cg.shape[1]
        rows, weights = [], []
        for k in range(p):
            rows.append([int(np.argmin(self.norm[self.pool.routes_of(c), k] + 1e-6 * self.norm[self.pool.routes_of(c)].sum(axis=1))) for c in range(self.n_cls)])
            weights.append(np.eye(p)[k] + 1e-6)
        rows.append([int(np.argmin(self.norm[self.pool.routes_of(c)].sum(axis=1))) for c in range(self.n_cls)])
        weights.append(np.ones(p))
        divisions = 0
        while math.comb(divisions + p, p - 1) <= count - len(rows):
            divisions += 1
        if divisions >= 2:
            if span is None:
                lo = sum(self.Cg[self.pool.routes_of(c)].min(axis=0) for c in range(self.n_cls))
                hi = sum(self.Cg[self.pool.routes_of(c)].max(axis=0) for c in range(self.n_cls))
                span = hi - lo
            span = np.maximum(span, 1e-300)
            lattice = simplex_lattice(p, divisions) + 1e-6
            scores = (self.Cg / span) @ lattice.T  # (routes, weight vectors)
            for j in range(scores.shape[1]):
                rows.append([int(np.argmin(scores[self.pool.routes_of(c), j])) for c in range(self.n_cls)])
                weights.append(lattice[j] * self.ub / span)  # the same weights on norm = Cg / ub
        unique: dict[tuple, np.ndarray] = {}
        for r, w in zip(rows, weights):
            unique.setdefault(tuple(r), w)  # first occurrence kept, in order
        X = np.array(list(unique), dtype=np.int64).reshape(len(unique), self.n_cls)
        return (X, np.array(list(unique.values())).reshape(len(unique), p)) if focus else X

    def repaired_seeds(self, count: int) -> np.ndarray:
        """:meth:`seeds`, each overloaded one repaired towards its own weights (least objective
        increase per unit of overload removed), then improved by :meth:`improve_one`: first the
        lexicographic end points of the pool's front under capacities; the lattice's weights
        then apply to the objectives scaled by the span between those end points (ideal to
        nadir), so that its supported points spread along the front. Duplicates dropped."""
        done: dict[tuple, np.ndarray] = {}

        def fix(X: np.ndarray, W: np.ndarray, tries: int) -> np.ndarray:
            for i in range(len(X)):
                key = tuple(X[i].tolist())
                if key not in done:
                    x = X[i]
                    if self.violation(x[None, :])[0] > 0:
                        x = self.repair_one(x, budget=2 * self.n_cls + 5, tries=tries, focus=W[i])
                        if tries >= self.n_cls:
                            x = self.improve_one(x, W[i])
                    done[key] = x
                X[i] = done[key]
            return X

        ends = fix(*self.seeds(0, focus=True), self.n_cls)  # each objective's end point, and the sum's plan
        F = self.F(ends)
        span = F.max(axis=0) - F.min(axis=0) if (self.violation(ends) <= 0).all() else None
        if span is not None and not (span > 0).all():
            span = None
        X = fix(*self.seeds(count, focus=True, span=span), LATTICE_TRIES)
        return np.array(list(dict.fromkeys(tuple(r) for r in X.tolist())), dtype=np.int64).reshape(-1, self.n_cls)


def run_nsga(instance: Instance, opts: SolveOptions, which: str) -> Front:
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.core.mutation import Mutation
    from pymoo.core.problem import Problem
    from pymoo.core.repair import Repair
    from pymoo.operators.crossover.ux import UX
    from pymoo.optimize import minimize
    from pymoo.termination import get_termination
    from pymoo.util.ref_dirs import get_reference_directions

    start = time.perf_counter()
    objectives, pool = objectives_and_pool(instance, opts, which)
    enc = Encoding(instance, pool, objectives, opts.seed)
    # the non-dominated part of every feasible plan evaluated (kept incrementally), and how many there were
    archive: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
    feasible: set[bytes] = set()
    repaired: dict[bytes, np.ndarray] = {}
    pop_size, gens = int(opts.extra["pop"]), int(opts.extra["gens"])
    xu = (enc.size - 1).astype(np.int64)

    class RouteChoice(Problem):
        def __init__(self):
            super().__init__(n_var=enc.n_cls, n_obj=len(objectives), n_ieq_constr=1, xl=np.zeros(enc.n_cls), xu=xu, vtype=int)

        def _evaluate(self, X, out, *args, **kwargs):
            X = np.asarray(np.round(X), dtype=np.int64)
            F, cv = enc.F(X), enc.violation(X)
            new = {}
            for x, f, v in zip(X, F, cv):
                key = x.tobytes()
                if v <= 0 and key not in feasible:
                    feasible.add(key)
                    new[key] = (x, f)
            if new:
                merged = {**archive, **new}
                keep = non_dominated(np.array([f for _, f in merged.values()]))
                archive.clear()
                archive.update((k, v) for k, v, ok in zip(merged, merged.values(), keep) if ok)
            out["F"], out["G"] = F, cv[:, None]

    class RepairRoutes(Repair):
        def _do(self, problem, X, **kwargs):
            X = np.clip(np.asarray(np.round(X), dtype=np.int64), 0, xu)
            bad = np.flatnonzero(enc.violation(X) > 0)
            for i in bad:
                key = X[i].tobytes()
                if key not in repaired:  # small spaces see the same children again and again
                    repaired[key] = enc.repair_one(X[i], budget=2 * enc.n_cls + 5)
                X[i] = repaired[key]
            return X

    class ResetMutation(Mutation):
        def _do(self, problem, X, random_state=None, **kwargs):
            X = np.asarray(X, dtype=np.int64).copy()
            hit = random_state.random(X.shape) < max(1.0 / enc.n_cls, 0.05)
            draws = np.floor(random_state.random(X.shape) * (xu + 1)[None, :]).astype(np.int64)
            X[hit] = draws[hit]
            return X

    rng = np.random.default_rng(opts.seed)
    seeds = enc.repaired_seeds(max(pop_size // 2, len(objectives) + 1))
    init = np.vstack([seeds, np.floor(rng.random((max(pop_size - len(seeds), 0), enc.n_cls)) * (xu + 1)).astype(np.int64)])[:pop_size]
    common = dict(pop_size=pop_size, sampling=init, crossover=UX(), mutation=ResetMutation(), repair=RepairRoutes(), eliminate_duplicates=True)
    if which == "nsga3":
        n_part = {2: 12, 3: 6, 4: 4}.get(len(objectives), 3)
        algo = NSGA3(ref_dirs=get_reference_directions("das-dennis", len(objectives), n_partitions=n_part), **common)
    else:
        algo = NSGA2(**common)
    algo.mating.n_max_iterations = 10  # a small space cannot fill a population with new plans: stop trying early
    termination = get_termination("n_gen", gens)
    if opts.time_limit_s is not None:
        from pymoo.termination.collection import TerminationCollection

        termination = TerminationCollection(termination, get_termination("time", max(opts.left(), 0.01)))
    minimize(RouteChoice(), algo, termination, seed=opts.seed, verbose=opts.verbose)
    xs = [x for x, _ in archive.values()]
    F = np.array([f for _, f in archive.values()]).reshape(len(xs), len(objectives))
    keep = np.flatnonzero(non_dominated(F)) if len(xs) else []
    notes = [f"pool of {pool.n_routes} routes ({'complete' if pool.complete else 'best by each objective'}); {len(feasible)} feasible plans evaluated, {len(keep)} non-dominated"]
    plans = [plan_of(instance, pool, which, {int(g): 1.0 for g in enc.routes(xs[i][None, :])[0]}, seed=opts.seed) for i in keep]
    options = {"objectives": ",".join(objectives), "pop": pop_size, "gens": gens, "max_routes": opts.extra["max_routes"], "pool_complete": pool.complete}
    return assemble(instance, which, objectives, plans, status="heuristic", start=start, seed=opts.seed, options=options, notes=notes)


_OPTIONS = (OBJECTIVES_OPTION, POP_OPTION, GENS_OPTION, POOL_NSGA)


@register("nsga2", "Pareto front by NSGA-II (pymoo): one route per class, repair to feasibility, seeded", kind="pareto", options=_OPTIONS, requires=("pymoo",))
def nsga2(instance: Instance, opts: SolveOptions) -> Front:
    return run_nsga(instance, opts, "nsga2")


@register("nsga3", "Pareto front by NSGA-III (pymoo, reference directions): as nsga2", kind="pareto", options=_OPTIONS, requires=("pymoo",))
def nsga3(instance: Instance, opts: SolveOptions) -> Front:
    return run_nsga(instance, opts, "nsga3")
