"""``split-dp``: the exact dynamic program for one demand class.

For one class every route is a chain of computing nodes in the shortest-path
tree rooted at its origin, so the best route is a shortest path in a small
state space, solved per model by a dynamic program over (tree node, layer,
segments used):

- ``P[k][v][j]``: cheapest way to have the tensor entering layer ``j`` at node
  ``v`` after ``k`` segments, the last one computed strictly above ``v`` (for
  ``k = 0``: the input, starting at the origin). Moving one hop down the tree
  adds that link's transfer cost; a hop whose bandwidth cannot carry the class
  is closed.
- ``A[k+1][v][j']``: cheapest way to have computed layers ``0..j'-1`` with the
  last segment ``[j, j')`` at ``v``:
  ``c_v[j'] + min over feasible j of (P[k][v][j] - c_v[j])``, where ``c_v`` is
  the cumulative compute cost at ``v``. The feasible starts form a window
  (compute utilization, parameter memory and activation memory all grow with
  the segment), so the inner minimum is a range-minimum query (sparse table).
- A route ends at ``v`` after ``A[k][v][n]`` plus the result's way back.

The cost is O(K x N x n log n) for K segments, N tree nodes and n layers. With
one class, each node and link direction serves only this route, so the limits
are exact per segment and per hop: the result is the optimum for unsplittable
routing. For splittable routing it is optimal when the best route ignoring
capacities also fits them (then no split can beat it); otherwise the plan
reports that capacity-free route's cost as a bound and ``milp`` can split.

Latency SLOs: with ``w_energy = 0`` the cost orders routes as their latency
does, so the SLO check per end state is exact. Otherwise, when the cheapest
route misses the SLO, the method falls back to enumerating routes best-first.
"""

from __future__ import annotations

import math
import time

import numpy as np

from placement.build import RouteChoice, build_plan
from placement.errors import InfeasibleError
from placement.instance import Demand, Instance, Model
from placement.kernel import SOLVER_RTOL, compute_j, request_cost, transfer_j, transfer_s, within
from placement.plan import Plan, PlanStatus, Termination
from placement.routes import Route, Segment, route_figures

from .candidates import Residual, candidate_routes
from .origin_trees import OriginTree, origin_tree
from .registry import SolveOptions, register

_REL = 1 + SOLVER_RTOL


def _sparse_table(values: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Range-min tables over axis 1: level k holds (min, argmin) of windows of length 2^k."""
    idx = np.broadcast_to(np.arange(values.shape[1]), values.shape).copy()
    levels = [(values, idx)]
    width = 1
    while 2 * width <= values.shape[1]:
        v, i = levels[-1]
        a, b = v[:, :-width], v[:, width:]
        take_b = b < a
        levels.append((np.where(take_b, b, a), np.where(take_b, i[:, width:], i[:, :-width])))
        width *= 2
    return levels


def _range_min(levels, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and argmin of rows over columns lo..hi inclusive (inf / -1 where lo > hi)."""
    rows = np.broadcast_to(np.arange(lo.shape[0])[:, None], lo.shape)
    length = hi - lo + 1
    valid = length > 0
    k = np.where(valid, np.floor(np.log2(np.maximum(length, 1))).astype(np.int64), 0)
    best = np.full(lo.shape, np.inf)
    arg = np.full(lo.shape, -1, dtype=np.int64)
    for level in np.unique(k[valid]):
        sel = valid & (k == level)
        v, i = levels[level]
        r = rows[sel]
        a_pos, b_pos = lo[sel], hi[sel] - (1 << level) + 1
        va, vb = v[r, a_pos], v[r, b_pos]
        take_b = vb < va
        best[sel] = np.where(take_b, vb, va)
        arg[sel] = np.where(take_b, i[r, b_pos], i[r, a_pos])
    return best, arg


class ModelDP:
    """The dynamic program of one model for one class (see module docstring)."""

    def __init__(self, inst: Instance, tree: OriginTree, model: Model, demand: Demand, capacity: bool, weights: tuple[float, float, float] | None = None):
        self.inst, self.tree, self.model, self.demand = inst, tree, model, demand
        rate = demand.rate_rps if capacity else 0.0
        U = inst.max_utilization
        wl, _, we = inst.weights if weights is None else weights
        devs = tree.devices
        cum_lat = np.stack([model.cum_latency(d) for d in devs])  # (D, n+1)
        no_acc = (wl, 0.0, we)  # the DP's costs leave out the model's constant inaccuracy term
        self.cum_cost = request_cost(no_acc, cum_lat, 1.0, compute_j(cum_lat, tree.power[:, None]))[tree.dev]  # (N, n+1)
        self.cum_lat = cum_lat[tree.dev]
        inv, lat, epb = tree.hop_inv, tree.hop_lat, tree.hop_epb  # both directions alike
        self.send = np.concatenate([[model.input_bytes], model.out_bytes[:-1]])  # tensor entering layer j < n
        # cost and latency of moving each tensor over the hop into each node; closed hops are inf
        self.hop_lat = transfer_s(self.send[None, :], inv[:, None], lat[:, None])
        self.hop_cost = request_cost(no_acc, self.hop_lat, 1.0, transfer_j(self.send[None, :], epb[:, None]))
        if capacity:
            cap = U * tree.hop_bw
            closed = ~within(rate * self.send[None, :], cap[:, None], SOLVER_RTOL)
            self.hop_cost = np.where(closed, np.inf, self.hop_cost)
        # the result's way back: cost, latency and whether every hop can carry it
        r = float(model.out_bytes[-1])
        hop_back_lat = transfer_s(r, inv, lat)
        hop_back_cost = request_cost(no_acc, hop_back_lat, 1.0, transfer_j(r, epb))
        self.ret_cost = _down_sums(tree, hop_back_cost)
        self.ret_lat = _down_sums(tree, hop_back_lat)
        if capacity:
            ok = within(rate * r, U * tree.hop_bw, SOLVER_RTOL)
            self.ret_cost = np.where(_down_all(tree, ok), self.ret_cost, np.inf)
        # first feasible start of a segment ending before layer j' at each node
        self.lo = self._windows(rate, U, capacity)

    def _windows(self, rate: float, U: float, capacity: bool) -> np.ndarray:
        tree, model = self.tree, self.model
        n = model.n_layers
        ends = np.arange(n + 1)
        lo = np.zeros((len(tree.nodes), n + 1), dtype=np.int64)
        params = model.cum_param_bytes
        for i in range(len(tree.nodes)):
            need = [np.zeros(n + 1, dtype=np.int64)]
            if capacity and rate > 0:
                c = self.cum_lat[i]
                need.append(np.searchsorted(c, c - U / rate * _REL, side="left"))
            mem = tree.mem[i]
            if math.isfinite(mem):
                need.append(np.searchsorted(params, params - mem * _REL, side="left"))
            ram = tree.ram[i]
            if math.isfinite(ram):
                bad = model.peak_activation_bytes > ram * _REL  # layers that can never run here
                last_bad = np.maximum.accumulate(np.where(bad, np.arange(n), -1))
                need.append(np.concatenate([[0], last_bad + 1]))
            lo[i] = np.minimum(np.max(need, axis=0), ends)
        return lo

    def run(self, k_max: int) -> list[tuple[float, float, int, int, list]]:
        """Best cost per (end node, segments): list of (cost, latency, node, k, backtrack)."""
        tree = self.tree
        N, n1 = len(tree.nodes), self.model.n_layers + 1
        n = n1 - 1
        levels = _levels(tree)
        # P for k = 0: the input moving down the tree, nothing computed yet
        P = np.full((N, n1), np.inf)
        P[0, 0] = 0.0
        ends = []
        A_prev = None
        back_P, back_A = [], []
        for k in range(k_max):
            if k > 0:
                P, from_a = self._move(A_prev, levels)
            else:
                P, from_a = self._move(None, levels, start=P)
            # compute step: segment [j, j') at each node
            score = P - self.cum_cost
            table = _sparse_table(score)
            jp = np.broadcast_to(np.arange(n1), (N, n1))
            best, arg = _range_min(table, self.lo, jp - 1)
            A = self.cum_cost + best
            A[:, 0] = np.inf
            back_P.append((P, from_a))
            back_A.append(arg)
            total = A[:, n] + self.ret_cost
            for v in np.flatnonzero(np.isfinite(total)):
                ends.append((float(total[v]), int(v), k + 1))
            A_prev = A
        self._back_P, self._back_A = back_P, back_A
        return sorted(ends)

    def _move(self, A: np.ndarray | None, levels, start: np.ndarray | None = None):
        """Tensors moving down the tree: from the node that computed them or passing through."""
        tree = self.tree
        N, n1 = self.cum_cost.shape
        P = np.full((N, n1), np.inf) if start is None else start.copy()
        from_a = np.zeros((N, n1), dtype=bool)
        hop = np.concatenate([self.hop_cost, np.full((N, 1), np.inf)], axis=1)  # no tensor enters layer n
        for level in levels[1:]:
            par = tree.parent[level]
            via_p = P[par]
            if A is not None:
                via_a = A[par]
                use_a = via_a < via_p
                src = np.where(use_a, via_a, via_p)
                from_a[level] = use_a
            else:
                src = via_p
            P[level] = src + hop[level]
        return P, from_a

    def route(self, v: int, k: int) -> Route:
        """Backtrack the route ending at tree node ``v`` after ``k`` segments."""
        tree = self.tree
        segs = []
        j_end = self.model.n_layers
        for kk in range(k, 0, -1):
            j = int(self._back_A[kk - 1][v, j_end])
            segs.append(Segment(tree.nodes[v], j, j_end - 1))
            _, from_a = self._back_P[kk - 1]
            # walk up while the tensor was passing through; stop at the node that computed it
            u = v
            while u != 0:
                par = int(tree.parent[u])
                if kk > 1 and from_a[u, j]:
                    u = par
                    break
                u = par
            v, j_end = u, j
        return Route(self.demand.index, self.model.id, tuple(reversed(segs)))


def _levels(tree: OriginTree) -> list[np.ndarray]:
    out = []
    for d in range(int(tree.depth.max(initial=0)) + 1):
        out.append(np.flatnonzero(tree.depth == d))
    return out


def _down_sums(tree: OriginTree, per_hop: np.ndarray) -> np.ndarray:
    out = per_hop.astype(float).copy()
    out[0] = 0.0
    for level in _levels(tree)[2:]:
        out[level] += out[tree.parent[level]]
    return out


def _down_all(tree: OriginTree, ok: np.ndarray) -> np.ndarray:
    out = ok.copy()
    for level in _levels(tree)[2:]:
        out[level] &= out[tree.parent[level]]
    return out


def fastest_latency(inst: Instance, demand: Demand, targets: list[str] | None = None, max_segments: int | None = None) -> float | None:
    """Latency of the fastest route of a class meeting its accuracy floor and the
    per-segment memory fits (capacities and SLO ignored), ending at one of
    ``targets`` (default: anywhere); None if there is none. The DP with weights (1, 0, 0)."""
    tree = origin_tree(inst, demand.origin)
    k_max = max_segments or inst.max_segments
    allowed = None if targets is None else {tree.index[t] for t in targets if t in tree.index}
    best = None
    for model in inst.models_for(demand):
        if model.accuracy < demand.min_accuracy - 1e-12:
            continue
        dp = ModelDP(inst, tree, model, demand, capacity=False, weights=(1.0, 0.0, 0.0))
        for cost, v, _ in dp.run(min(k_max, model.n_layers)):
            if allowed is None or v in allowed:
                best = cost if best is None else min(best, cost)
                break
    return best


def best_route(inst: Instance, demand: Demand, *, capacity: bool = True, max_segments: int | None = None) -> tuple[Route, float] | None:
    """The cheapest route of one class meeting its SLO and accuracy floor (and the
    capacity limits for that class alone), by the dynamic program; None if none exists."""
    tree = origin_tree(inst, demand.origin)
    k_max = max_segments or inst.max_segments
    slo = demand.max_latency_s * _REL
    best: tuple[float, Route] | None = None
    latency_orders = inst.w_energy == 0 and inst.w_latency > 0
    for model in inst.models_for(demand):
        if model.accuracy < demand.min_accuracy - 1e-12:
            continue
        dp = ModelDP(inst, tree, model, demand, capacity)
        const = request_cost(inst.weights, 0.0, model.accuracy, 0.0)
        for cost, v, k in dp.run(min(k_max, model.n_layers)):
            total = cost + const
            if best is not None and total >= best[0]:
                break
            route = dp.route(v, k)
            if latency_orders:
                if cost / inst.w_latency <= slo:
                    best = (total, route)
                break  # cost orders routes as latency does: later ends are slower still
            if route_figures(inst, route).latency_s <= slo:
                best = (total, route)
                break
            found = _fallback(inst, demand, model, capacity, k_max)
            if found is not None and (best is None or found[1] < best[0]):
                best = (found[1], found[0])
            break
    return None if best is None else (best[1], best[0])


def _fallback(inst: Instance, demand: Demand, model: Model, capacity: bool, k_max: int) -> tuple[Route, float] | None:
    """Exact search when cost and latency disagree: routes of ``model`` best-first."""
    residual = None
    if capacity:
        n_nodes, n_dirs = len(inst.nodes), 2 * len(inst.links)
        residual = Residual(demand.rate_rps, np.full(n_nodes, inst.max_utilization), inst.max_utilization * inst.network.dir_bandwidth[:n_dirs], np.array([n.memory_bytes for n in inst.nodes]), {})
    for cand in candidate_routes(inst, demand, max_segments=k_max, residual=residual):
        if cand.route.model == model.id:
            return cand.route, cand.cost
    return None


@register("split-dp", "Exact for one demand class: dynamic program over (tree node, layer, segments)", exact=True, splitting=True, single_class=True)
def split_dp(instance: Instance, opts: SolveOptions) -> Plan:
    start = time.perf_counter()
    demand = instance.demands[0]
    found = best_route(instance, demand, capacity=True)
    if found is None:
        from .diagnose import class_reason

        reason = class_reason(instance, demand) or f"demand class 0 ({demand.label}): every route meeting its SLO and accuracy floor exceeds a node's or link's capacity for {demand.rate_rps:g} req/s"
        raise InfeasibleError([reason], method="split-dp")
    route, cost = found
    status, bound, notes = PlanStatus.OPTIMAL, cost, []
    if instance.routing == "splittable":
        free = best_route(instance, demand, capacity=False)
        if free is not None and free[1] < cost - 1e-12 * max(1.0, abs(cost)):
            status, bound = PlanStatus.FEASIBLE, free[1]
            notes.append("the best route ignoring capacities does not fit them: splitting the class over several routes (milp) may do better; bound = that route's cost")
    # the DP's own figures: its cost; with w_energy = 0 its cost is w_latency x latency + inaccuracy
    latency = None
    if instance.w_energy == 0 and instance.w_latency > 0:
        latency = (cost - request_cost(instance.weights, 0.0, instance.models[route.model].accuracy, 0.0)) / instance.w_latency
    return build_plan(
        instance,
        "split-dp",
        [RouteChoice(route, 1.0, cost, latency)],
        status,
        bound=bound,
        termination=Termination.COMPLETED,
        solve_time_s=time.perf_counter() - start,
        seed=opts.seed,
        notes=notes,
    )
