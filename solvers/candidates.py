"""Fast enumeration and costing of candidate routes.

Every route of a demand class computes at a chain of nodes ``a_1, ..., a_k``
where each ``a_i`` lies on the path from the origin to ``a_{i+1}``: in the
shortest-path tree rooted at the origin, the chain goes from ancestor to
descendant. With cumulative path figures from the origin (``D_inv`` = sum of
1/bandwidth, ``D_lat`` = sum of link latency, ``D_en`` = sum of energy per byte)
the transfer of ``b`` bytes from ``a_{i-1}`` to ``a_i`` costs
``b * (D_inv[a_i] - D_inv[a_{i-1}]) + D_lat[a_i] - D_lat[a_{i-1}]`` seconds, so
the figures of all routes (every chain times every choice of cuts) come from
a few array operations. The result is checked against the evaluator's
:func:`placement.routes.route_figures` in the tests.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from placement.errors import TimeLimitReached
from placement.instance import Demand, Instance, Model
from placement.kernel import SOLVER_RTOL, compute_j, request_cost, transfer_j, transfer_s, within
from placement.memo import Memo
from placement.routes import Route, Segment

from .origin_trees import OriginTree, _path_sums, bound_keys, origin_tree
from .registry import MethodError, Option

#: Routes costed in one array operation at most (chains x cut choices), so a time limit is checked often.
BLOCK_ENTRIES = 1 << 20


@functools.lru_cache(maxsize=256)
def cut_combinations(n_layers: int, k: int) -> np.ndarray:
    """All increasing (k-1)-tuples of cut points in 1..n-1, as an int array (M, k-1)."""
    if k == 1:
        return np.zeros((1, 0), dtype=np.int64)
    m = math.comb(n_layers - 1, k - 1)
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(1, n_layers), k - 1)), dtype=np.int64, count=m * (k - 1))
    return flat.reshape(m, k - 1)


@dataclass
class Prices:
    """Dual prices of a master LP for one demand class (all penalties >= 0).

    The reduced cost of a route is ``scale * cost - offset`` plus, per request,
    ``node[v]`` per second computed at node ``v``, ``link[d]`` per byte sent over
    link direction ``d`` and ``storage[(v, model)][l]`` for computing layer ``l``
    at ``v``; ``forbidden[(v, model)][l]`` marks layers that must not be used there.
    Node indices are the instance's.
    """

    scale: float
    offset: float
    node: np.ndarray
    link: np.ndarray
    storage: dict[tuple[int, str], np.ndarray]
    forbidden: dict[tuple[int, str], np.ndarray]
    memo: Memo = field(default_factory=Memo, repr=False, compare=False)

    def path_sums(self, tree: OriginTree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per tree node: compute price, and link prices summed along the path (forward, back)."""
        def build():
            fwd = hop_take(self.link, tree.hop_fwd, 0.0)
            back = hop_take(self.link, tree.hop_back, 0.0)
            return (self.node[tree.node_idx], _path_sums(tree, fwd), _path_sums(tree, back))

        return self.memo.get(tree.origin, build)

    def key_bound(self, lb_cost: np.ndarray) -> np.ndarray:
        """Lower bound on the reduced cost given a lower bound on the cost."""
        return self.scale * lb_cost - self.offset

    def nonnegative(self) -> bool:
        """Whether every node, link and storage price is >= 0 (penalties of capacity rows)."""
        return self.memo.get("nonnegative", lambda: bool(np.all(self.node >= 0) and np.all(self.link >= 0) and all(np.all(v >= 0) for v in self.storage.values())))


class LayerMasks(dict):
    """``Prices.forbidden`` for many classes at once: (node index, model id) -> layers forbidden there.

    Every class of a pricing pass shares one; :meth:`table` gives one model's
    rows as arrays, built once (a large fleet has an entry per storage node and
    model, too many to walk per class).
    """

    def __init__(self, items: dict, tables: dict[str, tuple[np.ndarray, np.ndarray]] | None = None):
        super().__init__(items)
        self._tables = dict(tables or {})  # model id -> (node indices, cumulative counts), given or built on use

    def table(self, model: Model) -> tuple[np.ndarray, np.ndarray]:
        """(node indices, cumulative forbidden counts (rows, n_layers + 1)) of ``model``'s entries."""
        if model.id not in self._tables:
            self._tables[model.id] = forbidden_table(dict(self), model)
        return self._tables[model.id]


def forbidden_table(forbidden: dict, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """The entries of ``model`` in a forbidden-layers mapping, as (node indices, cumulative counts)."""
    if isinstance(forbidden, LayerMasks):
        return forbidden.table(model)
    rows = [(v, bad) for (v, mid), bad in forbidden.items() if mid == model.id]
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, model.n_layers + 1))
    return np.array([v for v, _ in rows], dtype=np.int64), np.stack([_cum_forbidden(bad) for _, bad in rows]).astype(float)


@dataclass
class Residual:
    """Capacity left for one more route carrying ``rate`` requests/s (greedy methods).

    Per instance node: ``compute`` (utilization left) and ``memory`` (bytes
    left); per link direction: ``link`` (bytes/s left); ``stored`` marks the
    layers already stored per (node index, model id), which cost no new memory.
    """

    rate: float
    compute: np.ndarray
    link: np.ndarray
    memory: np.ndarray
    stored: dict[tuple[int, str], np.ndarray]


@dataclass
class Block:
    """Routes of one model over chains (rows) x cut choices (columns).

    ``score`` is the order key: the cost, or the reduced cost under prices.
    ``ok`` marks the routes that pass the exact filters (parameter memory and
    activation memory of every segment; SLO when given).
    """

    model: Model
    tree: OriginTree
    chains: np.ndarray  # (C, k) tree node indices
    cuts: np.ndarray  # (M, k-1)
    latency_s: np.ndarray  # (C, M)
    energy_j: np.ndarray
    cost: np.ndarray
    score: np.ndarray
    ok: np.ndarray

    def bounds(self, cut: int) -> list[int]:
        return [0, *self.cuts[cut].tolist(), self.model.n_layers]

    def route(self, demand: int, chain: int, cut: int) -> Route:
        b = self.bounds(cut)
        nodes = [self.tree.nodes[i] for i in self.chains[chain]]
        return Route(demand, self.model.id, tuple(Segment(nodes[s], b[s], b[s + 1] - 1) for s in range(len(nodes))))


def _segment_tables(model: Model, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cut choice and segment: bounds (M, k+1), parameter bytes and peak activation (M, k)."""
    return model.cache.get(("segments", k), lambda: _build_segment_tables(model, k))


def _build_segment_tables(model: Model, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = model.n_layers
    cuts = cut_combinations(n, k)
    m = cuts.shape[0]
    bounds = np.concatenate([np.zeros((m, 1), np.int64), cuts, np.full((m, 1), n, np.int64)], axis=1)
    params = model.cum_param_bytes[bounds[:, 1:]] - model.cum_param_bytes[bounds[:, :-1]]
    # range maximum of the per-layer peak activation: rmax[a, b] = max over layers a..b
    act = model.peak_activation_bytes
    rmax = np.full((n, n), -np.inf)
    for a in range(n):
        rmax[a, a:] = np.maximum.accumulate(act[a:])
    peak = rmax[bounds[:, :-1], bounds[:, 1:] - 1]
    return bounds, params, peak


def model_block(instance: Instance, tree: OriginTree, model: Model, chains: np.ndarray, prices: Prices | None = None, slo: float | None = None, residual: Residual | None = None, cut_range: tuple[int, int] | None = None) -> Block:
    """Latency, energy, cost (and reduced cost under ``prices``) of every (chain, cuts) route;
    with ``residual``, ``ok`` also requires that the route fits the capacity left.
    ``cut_range`` restricts the cut choices to rows ``start..stop-1`` of :func:`cut_combinations`."""
    k = chains.shape[1]
    cuts = cut_combinations(model.n_layers, k)
    bounds, seg_params, seg_peak = _segment_tables(model, k)
    if cut_range is not None:
        rows = slice(*cut_range)
        cuts, bounds, seg_params, seg_peak = cuts[rows], bounds[rows], seg_params[rows], seg_peak[rows]
    m = cuts.shape[0]
    c = chains.shape[0]
    send = np.concatenate([[model.input_bytes], model.out_bytes])  # bytes entering layer j
    cum_by_dev = _cum_by_device(model, tree)  # (D, n+1)
    latency = np.zeros((c, m))
    energy = np.zeros((c, m))
    ok = np.ones((c, m), dtype=bool)
    penalty = np.zeros((c, m)) if prices is not None else None
    if prices is not None:
        node_pen, p_fwd, p_back = prices.path_sums(tree)
    prev = np.zeros(c, dtype=np.int64)  # the origin
    for s in range(k):
        cur = chains[:, s]
        cum = cum_by_dev[tree.dev[cur]]  # (C, n+1)
        t = cum[:, bounds[:, s + 1]] - cum[:, bounds[:, s]]  # (C, M)
        b = send[bounds[:, s]][None, :]  # (1, M)
        latency += t + transfer_s(b, (tree.d_inv[cur] - tree.d_inv[prev])[:, None], (tree.d_lat[cur] - tree.d_lat[prev])[:, None])
        energy += compute_j(t, tree.power[tree.dev[cur]][:, None]) + transfer_j(b, (tree.d_en[cur] - tree.d_en[prev])[:, None])
        ok &= within(seg_params[None, :, s], tree.mem[cur][:, None], SOLVER_RTOL)
        ok &= within(seg_peak[None, :, s], tree.ram[cur][:, None], SOLVER_RTOL)
        if prices is not None:
            penalty += t * node_pen[cur][:, None] + b * (p_fwd[cur] - p_fwd[prev])[:, None]
            _storage_penalty(prices, tree, model, len(instance.nodes), cur, bounds[:, s], bounds[:, s + 1], penalty)
        if residual is not None:
            _fits_residual(residual, tree, model, prev, cur, t, b, seg_params[:, s], bounds[:, s], bounds[:, s + 1], ok)
        prev = cur
    r = float(model.out_bytes[-1])
    if residual is not None:
        back = _hop_values(tree, residual.link, tree.hop_back)
        ok &= within(residual.rate * r, tree.path_min(back, np.zeros_like(prev), prev), SOLVER_RTOL)[:, None]
    latency += transfer_s(r, tree.d_inv[prev], tree.d_lat[prev])[:, None]
    energy += transfer_j(r, tree.d_en[prev])[:, None]
    cost = request_cost(instance.weights, latency, model.accuracy, energy)
    if slo is not None:
        ok &= latency <= slo
    if prices is None:
        score = cost
    else:
        penalty += (r * p_back[prev])[:, None]
        score = prices.scale * cost - prices.offset + penalty
    return Block(model, tree, chains, cuts, latency, energy, cost, score, ok)


def _cum_by_device(model: Model, tree: OriginTree) -> np.ndarray:
    key = ("cum_by_device", tuple(d.name for d in tree.devices))
    return model.cache.get(key, lambda: np.stack([model.cum_latency(d) for d in tree.devices]))


def hop_take(per_direction: np.ndarray, hops: np.ndarray, fill: float) -> np.ndarray:
    """Per tree node: the value of the link direction of its hop (``fill`` at the origin)."""
    out = np.full(len(hops), fill, dtype=float)
    has = hops >= 0
    out[has] = per_direction[hops[has]]
    return out


def _hop_values(tree: OriginTree, per_direction: np.ndarray, hops: np.ndarray) -> np.ndarray:
    """Per tree node: the value of the link direction of its hop (inf at the origin)."""
    return hop_take(per_direction, hops, np.inf)


def _fits_residual(res: Residual, tree: OriginTree, model: Model, prev, cur, t, b, seg_params, lo, hi, ok) -> None:
    """Clear ``ok`` where segment s (at ``cur``, fed from ``prev``) exceeds the capacity left."""
    nodes = tree.node_idx[cur]
    ok &= within(res.rate * t, res.compute[nodes][:, None], SOLVER_RTOL)
    fwd = _hop_values(tree, res.link, tree.hop_fwd)
    ok &= within(res.rate * b, tree.path_min(fwd, prev, cur)[:, None], SOLVER_RTOL)
    need = np.broadcast_to(seg_params[None, :], ok.shape).copy()
    for i in np.unique(cur):
        stored = res.stored.get((int(tree.node_idx[i]), model.id))
        if stored is not None:
            cs = np.concatenate([[0.0], np.cumsum(np.where(stored, model.param_bytes, 0.0))])
            need[cur == i] -= (cs[hi] - cs[lo])[None, :]
    ok &= within(need, res.memory[nodes][:, None], SOLVER_RTOL)


def _storage_penalty(prices: Prices, tree: OriginTree, model: Model, n_nodes: int, cur: np.ndarray, lo: np.ndarray, hi: np.ndarray, out: np.ndarray) -> None:
    """Add the storage prices of segments [lo, hi) computed at tree nodes ``cur`` (+inf where one uses a forbidden layer)."""
    if not prices.storage and not prices.forbidden:
        return
    tables = storage_tables(prices, model, n_nodes)
    if tables is None:
        return
    pos, cs, cb = tables
    r = pos[tree.node_idx[cur]]
    rows = r >= 0
    if not rows.any():
        return
    sel = r[rows]
    out[rows] += cs[sel][:, hi] - cs[sel][:, lo]
    out[rows] += np.where(cb[sel][:, hi] - cb[sel][:, lo] > 0, np.inf, 0.0)


def storage_tables(prices: Prices, model: Model, n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Storage prices and forbidden layers of ``model`` as tables (built once per prices): per instance node
    its row (-1: none), and per row the cumulative storage prices and forbidden counts over layers
    (length n+1). None when there is neither."""

    def build():
        n = model.n_layers
        priced = [(v, pen) for (v, mid), pen in prices.storage.items() if mid == model.id]
        f_nodes, f_cum = forbidden_table(prices.forbidden, model)
        nodes = np.unique(np.concatenate([np.array([v for v, _ in priced], dtype=np.int64), f_nodes]))
        if not len(nodes):
            return None
        pos = np.full(n_nodes, -1, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        cs, cb = np.zeros((len(nodes), n + 1)), np.zeros((len(nodes), n + 1))
        for v, pen in priced:
            cs[pos[v]] = _cum_prices(pen)
        cb[pos[f_nodes]] = f_cum
        return pos, cs, cb

    return prices.memo.get(("storage_tables", model.id), build)


def _cum_prices(pen: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(pen)])


def _cum_forbidden(bad: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(bad.astype(np.int64))])


@dataclass
class Candidate:
    """One route with its figures; ``score`` is its order key (cost or reduced cost)."""

    route: Route
    latency_s: float
    energy_j: float
    cost: float
    score: float
    chain: tuple[int, ...]  # tree node indices
    bounds: tuple[int, ...]  # layer bounds: segment s computes bounds[s]..bounds[s+1]-1


class CandidateSet:
    """Candidate routes of one demand class, produced in order of score, lazily.

    Each (model, end node) pair has a lower bound on the cost of every route
    of that model ending at that node (see :func:`pair_bounds`), hence on its
    score. Pairs are expanded into blocks of routes in order of that bound,
    only as far as needed: a route is yielded once no unexpanded pair could
    hold a better one, so the order is exactly by score (ties by expansion order).
    """

    def __init__(self, instance: Instance, tree: OriginTree, demand: Demand, pairs: tuple[np.ndarray, np.ndarray, np.ndarray], models: list[Model], k_max: int, slo: float | None, prices: Prices | None = None, residual: Residual | None = None, deadline: float | None = None,
                 refiners: list | None = None):
        self.instance = instance
        self.tree = tree
        self.demand = demand
        # (lower bound on score, model index, target node index) per pair, sorted by bound
        self.pair_lb, self.pair_model, self.pair_target = pairs
        self.models = models
        self.k_max = k_max
        self.slo = slo
        self.prices = prices
        self.residual = residual
        self.deadline = deadline
        self.refiners = refiners or [None] * len(models)  # per model: finer bounds for given target nodes (computed for the pairs reached only)
        self.expanded = 0

    def _expand(self, upto: int) -> list[tuple[Block, np.ndarray]]:
        """Blocks for the pairs expanded..upto (see :meth:`_expand_pairs`)."""
        mids = self.pair_model[self.expanded : upto]
        tgts = self.pair_target[self.expanded : upto]
        self.expanded = upto
        return self._expand_pairs(mids, tgts)

    def _expand_pairs(self, mids: np.ndarray, tgts: np.ndarray) -> list[tuple[Block, np.ndarray]]:
        """Blocks for the given (model, target) pairs, grouped by model, with their kept flat indices."""
        out = []
        for m in np.unique(mids):
            model = self.models[int(m)]
            targets = np.sort(tgts[mids == m])
            for k in range(1, min(self.k_max, model.n_layers) + 1):
                if self.deadline is not None and time.perf_counter() > self.deadline:
                    raise TimeLimitReached(f"time limit reached while enumerating routes of demand class {self.demand.index}")
                chains = self.tree.chains(k, targets)
                if len(chains) == 0:
                    continue
                n_cuts = math.comb(model.n_layers - 1, k - 1)
                step = max(1, BLOCK_ENTRIES // len(chains))  # bounded blocks: the clock is checked between them
                for start in range(0, n_cuts, step):
                    if start and self.deadline is not None and time.perf_counter() > self.deadline:
                        raise TimeLimitReached(f"time limit reached while enumerating routes of demand class {self.demand.index}")
                    blk = model_block(self.instance, self.tree, model, chains, self.prices, self.slo, self.residual, (start, min(n_cuts, start + step)))
                    flat = np.flatnonzero(blk.ok.ravel() & np.isfinite(blk.score.ravel()))
                    if len(flat):
                        out.append((blk, flat[np.argsort(blk.score.ravel()[flat], kind="stable")]))
        return out

    def _refine(self, upto: int, stop: float, pending: list) -> list[tuple[Block, np.ndarray]]:
        """Take the pairs expanded..upto: those of models with a refiner go to ``pending`` (a heap of
        (finer bound, model, target)) unless that bound reaches ``stop``; the others are expanded."""
        lbs = self.pair_lb[self.expanded : upto]
        mids = self.pair_model[self.expanded : upto]
        tgts = self.pair_target[self.expanded : upto]
        self.expanded = upto
        direct = np.ones(len(mids), dtype=bool)
        for m in np.unique(mids):
            refine = self.refiners[int(m)]
            if refine is None:
                continue
            direct[mids == m] = False
            rows = np.flatnonzero((mids == m) & (lbs < stop))
            finer = np.maximum(lbs[rows], refine(tgts[rows]))
            for lb, t in zip(finer.tolist(), tgts[rows].tolist()):
                if lb < stop:
                    heapq.heappush(pending, (lb, int(m), t))
        return self._expand_pairs(mids[direct], tgts[direct]) if direct.any() else []

    def candidate(self, blk: Block, flat: int) -> Candidate:
        chain, cut = divmod(int(flat), blk.cost.shape[1])
        return Candidate(
            blk.route(self.demand.index, chain, cut),
            float(blk.latency_s[chain, cut]),
            float(blk.energy_j[chain, cut]),
            float(blk.cost[chain, cut]),
            float(blk.score[chain, cut]),
            tuple(int(i) for i in blk.chains[chain]),
            tuple(blk.bounds(cut)),
        )

    def __iter__(self) -> Iterator[Candidate]:
        return self.iterate()

    def iterate(self, stop: float = np.inf) -> Iterator[Candidate]:
        """Candidates in order of score, only those with score < ``stop``.

        Pairs of models with a refiner are refined when the search reaches
        them (their finer bound may send them back behind other pairs); the
        others are expanded at once.
        """
        self.expanded = 0
        heap: list[tuple[float, int, int]] = []  # (score, block number, cursor)
        blocks: list[tuple[Block, np.ndarray]] = []
        pending: list[tuple[float, int, int]] = []  # refined pairs not yet expanded: (bound, model, target)
        step = 32
        npairs = len(self.pair_lb)
        while True:
            next_coarse = self.pair_lb[self.expanded] if self.expanded < npairs else np.inf
            next_lb = min(next_coarse, pending[0][0]) if pending else next_coarse
            if heap and heap[0][0] <= next_lb:
                score, b, cur = heapq.heappop(heap)
                if score >= stop:
                    return
                blk, order = blocks[b]
                yield self.candidate(blk, order[cur])
                if cur + 1 < len(order):
                    heapq.heappush(heap, (float(blk.score.ravel()[order[cur + 1]]), b, cur + 1))
                continue
            if next_lb >= stop or (self.expanded >= npairs and not pending):
                return
            if self.deadline is not None and time.perf_counter() > self.deadline:
                raise TimeLimitReached(f"time limit reached while enumerating routes of demand class {self.demand.index}")
            if pending and pending[0][0] <= next_coarse:  # refined pairs first, as far as no coarse one could be better
                take = []
                while pending and pending[0][0] <= next_coarse and len(take) < step:
                    take.append(heapq.heappop(pending))
                new = self._expand_pairs(np.array([m for _, m, _ in take], dtype=np.int64), np.array([t for _, _, t in take], dtype=np.int64))
            else:
                new = self._refine(min(npairs, self.expanded + step), stop, pending)
            for blk, order in new:
                blocks.append((blk, order))
                heapq.heappush(heap, (float(blk.score.ravel()[order[0]]), len(blocks) - 1, 0))
            step *= 2

    def blocks(self) -> list[tuple[Block, np.ndarray]]:
        """Every block with the flat indices of its kept routes (best first within a block)."""
        self.expanded = 0
        return self._expand(len(self.pair_lb))

    def min_latency(self) -> float | None:
        """Fastest latency among all kept candidates (expands everything)."""
        best = [float(blk.latency_s.ravel()[idx].min()) for blk, idx in self.blocks()]
        return min(best) if best else None


def pair_bounds(instance: Instance, tree: OriginTree, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Lower bounds on latency and energy of any route of ``model`` ending at each node.

    A route ending at ``t`` computes every layer on some node of the path to
    ``t`` (at best on the fastest device there). Over the first link from the
    origin it sends either the input, or the cut tensor after the layers the
    origin computed itself (the origin's own latency counts for those); over
    every further link it sends at least the smallest tensor the model can
    send; and the result comes back over every link. The last computing node
    is ``t`` itself, so the latency also counts, at best over the layer
    suffixes ``t`` can hold (:func:`_tail_extra`), what running that suffix on
    ``t``'s own device and receiving its input over the hop into ``t`` costs
    beyond the fastest device and the smallest tensor (+inf: no suffix fits
    ``t``'s memory, so no route ends there).
    """
    if ("bounds", model.id) in tree.memo:
        return tree.memo.get(("bounds", model.id), None)
    n = model.n_layers
    head = model.cum_latency(tree.devices[int(tree.dev[0])])  # origin computes layers < c
    send = np.concatenate([[model.input_bytes], model.out_bytes[:-1]])  # tensor entering layer c
    smallest = float(send.min())
    result = float(model.out_bytes[-1])
    key_mask, key_hop, inverse = bound_keys(tree)
    suffix, first_en = _mask_bounds(model, tree.devices, tree.power, key_mask)
    base = head[:n] + suffix[:, :n]
    first_lat = np.where(key_hop < 0, head[n], np.min(base + send * tree.first_inv[np.maximum(key_hop, 0)][:, None], axis=1))
    tree.memo.get(("key_base", model.id), lambda: (base, first_lat))
    inverse = inverse.ravel()
    lb_lat = first_lat[inverse] + smallest * (tree.d_inv - tree.first_inv) + result * tree.d_inv + 2 * tree.d_lat + _tail_extra(tree, model, suffix)
    out = (lb_lat, first_en[inverse] + (smallest + result) * tree.d_en)
    tree.memo.get(("bounds", model.id), lambda: out)
    instance.topology.trees.resize(tree.origin)
    return out


def _tail_extra(tree: OriginTree, model: Model, suffix: np.ndarray) -> np.ndarray:
    """Per tree node ``t``: a lower bound on the latency a route ending at ``t`` spends beyond :func:`pair_bounds`' other terms.

    Such a route computes a suffix ``c..n-1`` of the layers at ``t`` (all of
    them when ``c`` is 0): on ``t``'s device that takes ``tail_t(c)``, where the
    other terms count only the fastest device of the path, ``suffix(c)``; and
    away from the first hop, tensor ``c`` crosses the hop into ``t``, where they
    count only the smallest tensor. The bound is the minimum over the suffixes
    that fit ``t``'s parameter and activation memory of ``tail_t(c) - suffix(c)
    + (send(c) - smallest) / bandwidth(hop)`` (each term >= 0; +inf where none
    fits; 0 at the origin), shaved by a relative 1e-9 against rounding. It adds
    to the bounds of any cut before ``c`` (those are minimised apart), so the
    sum stays a lower bound. Computed once per group of nodes alike in path
    device set, first hop, device, hop bandwidth and memory.
    """
    n = model.n_layers
    groups, inverse = tree.memo.get("tail_groups", lambda: _tail_groups(tree))
    key, dev, inv_bw, mem, ram, deep = groups
    cum = _cum_by_device(model, tree)  # (D, n+1)
    tail = cum[dev, n : n + 1] - cum[dev, :n]  # (G, n): layers c..n-1 on the group's device
    send = np.concatenate([[model.input_bytes], model.out_bytes[:-1]])
    extra = tail - suffix[key, :n] + (send - send.min())[None, :] * np.where(deep, inv_bw, 0.0)[:, None]
    cum_p, act = model.cum_param_bytes, model.peak_activation_bytes
    fits = within((cum_p[n] - cum_p[:n])[None, :], mem[:, None], SOLVER_RTOL) & within(np.maximum.accumulate(act[::-1])[::-1][None, :], ram[:, None], SOLVER_RTOL)
    best = np.where(fits, np.maximum(extra, 0.0), np.inf).min(axis=1) * (1.0 - 1e-9)
    best[key < 0] = 0.0  # the origin: pair_bounds' latency is exact there
    return best[inverse]


def _tail_groups(tree: OriginTree) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Nodes grouped for :func:`_tail_extra`: per group (bound key row, device, inverse bandwidth of the hop
    into it, memory, activation memory, whether it is beyond the first hop; key -1 for the origin), and each node's group."""
    _, _, key_inverse = bound_keys(tree)
    codes = [key_inverse.astype(np.int64), tree.dev.astype(np.int64)]
    for values in (tree.hop_inv, tree.mem, tree.ram):
        codes.append(np.unique(values, return_inverse=True)[1].ravel().astype(np.int64))
    codes.append((tree.depth >= 2).astype(np.int64) + 2 * (tree.depth == 0))
    combined = np.zeros(len(tree.nodes), dtype=np.int64)
    for c in codes:
        combined = combined * (int(c.max(initial=0)) + 1) + c
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    key = np.where(tree.depth[first] == 0, -1, key_inverse[first])
    groups = (key, tree.dev[first], tree.hop_inv[first], tree.mem[first], tree.ram[first], tree.depth[first] >= 2)
    return groups, inverse.ravel()


def _mask_bounds(model: Model, devices: list, power: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per device-type mask (a set of types on a path): the sum of the fastest
    latency over layers ``c..n-1`` for every ``c`` (rows (U, n+1)), and the least
    energy of all layers; kept per model, as every origin's tree uses them."""
    names = tuple(d.name for d in devices)

    def one(mask: int) -> tuple[np.ndarray, float]:
        lat = model.cache.get(("latency_by_device", names), lambda: np.stack([model.latency(d) for d in devices]))  # (D, n)
        energy = lat * power[:, None]
        rows = [d for d in range(len(devices)) if mask >> d & 1]
        best = lat[rows].min(axis=0)
        return np.concatenate([np.cumsum(best[::-1])[::-1], [0.0]]), float(energy[rows].min(axis=0).sum())

    got = [model.cache.get(("mask_bounds", names, m), lambda m=m: one(m)) for m in masks.tolist()]
    return np.stack([g[0] for g in got]), np.array([g[1] for g in got])


def _routes_option() -> Option:
    return Option("routes", "str", "all", "'all' routes, or 'upward': only routes ending on the path towards the nearest cloud node (then optimal only within that scope)", ("all", "upward"))


#: The route-scope option of ``milp`` and ``milp-pyomo``.
ROUTES_OPTION = _routes_option()


def upward_targets(instance: Instance, origin: str) -> list[str]:
    """End nodes of ``routes=upward``: the path from ``origin`` to its nearest node of tier 'cloud'."""
    cloud = instance.nearest_of_tier(origin, "cloud")
    if cloud is None:
        raise MethodError(f"routes=upward needs a node of tier 'cloud' reachable from '{origin}'")
    return list(instance.path(origin, cloud))


def candidate_routes(
    instance: Instance,
    demand: Demand,
    *,
    targets: list[str] | None = None,
    max_segments: int | None = None,
    respect_slo: bool = True,
    respect_accuracy: bool = True,
    prices: Prices | None = None,
    residual: Residual | None = None,
    deadline: float | None = None,
    stop: float = np.inf,
) -> CandidateSet:
    """Routes of ``demand`` ending at one of ``targets`` (default: any reachable
    node), with at most ``max_segments`` segments, whose segments fit their
    nodes' parameter and activation memory, meeting the accuracy floor and the
    SLO unless told otherwise; iterate for the best score (cost, or reduced
    cost under ``prices``) first. With ``stop`` (the ``stop`` the caller will
    pass to :meth:`CandidateSet.iterate`), the costlier pricing bounds are only
    computed for pairs whose coarse bound is below it (the others are never
    expanded then); the routes are the same.
    """
    from . import price_bounds  # imports this module

    tree = origin_tree(instance, demand.origin)
    k_max = instance.max_segments if max_segments is None else max_segments
    slo = demand.max_latency_s * (1 + SOLVER_RTOL) if respect_slo else None
    allowed = None
    if targets is not None:
        allowed = np.zeros(len(tree.nodes), dtype=bool)
        allowed[[tree.index[t] for t in targets if t in tree.index]] = True
    models = [m for m in instance.models_for(demand) if not respect_accuracy or m.accuracy >= demand.min_accuracy - 1e-12]
    lbs, mids, tgts, refiners = [], [], [], []
    for mi, model in enumerate(models):
        lb_lat, lb_en = pair_bounds(instance, tree, model)
        keep = np.isfinite(lb_lat) if slo is None else lb_lat <= slo  # inf: no layer suffix fits the node
        if allowed is not None:
            keep &= allowed
        idx = np.flatnonzero(keep)
        fits = np.isfinite(lb_lat)
        lb_cost = np.where(fits, request_cost(instance.weights, np.where(fits, lb_lat, 0.0), model.accuracy, lb_en), np.inf)
        refine = None
        if prices is None:
            lb_key = lb_cost[idx]
        else:
            lb_all, refine = price_bounds.lazy_pair_bounds(instance, tree, model, prices, lb_cost, k_max, slo, stop)
            lb_key = lb_all[idx]
        refiners.append(refine)
        lbs.append(lb_key)
        mids.append(np.full(len(idx), mi))
        tgts.append(idx)
    lb = np.concatenate(lbs) if lbs else np.zeros(0)
    mid = np.concatenate(mids) if mids else np.zeros(0, dtype=np.int64)
    tgt = np.concatenate(tgts) if tgts else np.zeros(0, dtype=np.int64)
    order = np.lexsort((tgt, mid, lb))
    return CandidateSet(instance, tree, demand, (lb[order], mid[order], tgt[order]), models, k_max, slo, prices, residual, deadline, refiners)
