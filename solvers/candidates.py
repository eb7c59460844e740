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
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from placement.instance import Demand, Instance, Model
from placement.routes import Route, Segment

_REL = 1 + 1e-9


@functools.lru_cache(maxsize=256)
def cut_combinations(n_layers: int, k: int) -> np.ndarray:
    """All increasing (k-1)-tuples of cut points in 1..n-1, as an int array (M, k-1)."""
    if k == 1:
        return np.zeros((1, 0), dtype=np.int64)
    combos = list(itertools.combinations(range(1, n_layers), k - 1))
    return np.array(combos, dtype=np.int64).reshape(len(combos), k - 1)


class OriginTree:
    """The shortest-path tree from one origin, with cumulative path figures.

    Nodes are indexed in order of distance (ties by id), so a parent always
    comes before its children; index 0 is the origin.
    """

    def __init__(self, instance: Instance, origin: str):
        net = instance.network
        dist = net.reachable(origin)
        pred = net.predecessors(origin)
        self.origin = origin
        self.nodes = sorted(dist, key=lambda n: (dist[n], n))
        self.index = {n: i for i, n in enumerate(self.nodes)}
        size = len(self.nodes)
        links = [net.link(pred[n], n) for n in self.nodes[1:]]  # type: ignore[arg-type]
        self.parent = np.array([-1] + [self.index[pred[n]] for n in self.nodes[1:]], dtype=np.int64)  # type: ignore[index]
        inv = np.array([0.0] + [1.0 / l.bandwidth_bps for l in links])
        lat = np.array([0.0] + [l.latency_s for l in links])
        epb = np.array([0.0] + [l.energy_j_per_byte for l in links])
        names = sorted({instance.node[n].device.name for n in self.nodes})
        self.devices = [instance.devices[d] for d in names]
        pos = {d: j for j, d in enumerate(names)}
        self.dev = np.array([pos[instance.node[n].device.name] for n in self.nodes], dtype=np.int64)
        self.power = np.array([d.active_power_w for d in self.devices])
        # Parents come before children, so one pass per depth level fills every
        # cumulative figure: path sums from the origin, the first hop, the set of
        # device types on the path (bit mask) and the ancestor matrix.
        self.depth = np.zeros(size, dtype=np.int64)
        self.d_inv, self.d_lat, self.d_en = inv.copy(), lat.copy(), epb.copy()
        self.first = np.arange(size)  # node after the origin on the path (itself at depth <= 1)
        self.mask = (np.int64(1) << self.dev).astype(np.int64)
        levels = [np.zeros(1, dtype=np.int64)]
        while True:
            children = np.flatnonzero(np.isin(self.parent, levels[-1]))
            if not len(children):
                break
            levels.append(children)
        self.anc = np.full((size, max(len(levels) - 1, 1)), -1, dtype=np.int64)  # anc[i, j]: ancestor at depth j
        for d, children in enumerate(levels[1:], start=1):
            p = self.parent[children]
            self.depth[children] = d
            self.anc[children, : d - 1] = self.anc[p, : d - 1]
            self.anc[children, d - 1] = p
            self.mask[children] |= self.mask[p]
            if d > 1:
                self.d_inv[children] += self.d_inv[p]
                self.d_lat[children] += self.d_lat[p]
                self.d_en[children] += self.d_en[p]
                self.first[children] = self.first[p]
        self.first_inv = np.where(self.depth > 0, inv[self.first], 0.0)
        rows, cols = np.nonzero(self.anc >= 0)
        self._pair_t = rows
        self._pair_a = self.anc[rows, cols]

    def ancestors(self, i: int) -> list[int]:
        """Indices on the path from the origin to ``i``, both included."""
        return [int(a) for a in self.anc[i, : self.depth[i]]] + [i]

    def chains(self, k: int, targets: np.ndarray | None = None) -> np.ndarray:
        """Every chain of ``k`` computing nodes ending at a target, as (C, k) indices.

        Rows are ordered by target, then by the earlier nodes' positions.
        """
        if targets is None:
            targets = np.arange(len(self.nodes))
        if k == 1:
            return np.asarray(targets, dtype=np.int64).reshape(-1, 1)
        if k == 2:
            keep = np.zeros(len(self.nodes), dtype=bool)
            keep[targets] = True
            sel = keep[self._pair_t]
            return np.stack([self._pair_a[sel], self._pair_t[sel]], axis=1)
        rows = [
            inner + (int(t),)
            for t in np.sort(targets)
            for inner in itertools.combinations(self.ancestors(int(t))[:-1], k - 1)
        ]
        return np.array(rows, dtype=np.int64).reshape(len(rows), k)


@dataclass
class Block:
    """Routes of one model over chains (rows) x cut choices (columns)."""

    model: Model
    tree: OriginTree
    chains: np.ndarray  # (C, k) node indices
    cuts: np.ndarray  # (M, k-1)
    latency_s: np.ndarray  # (C, M)
    energy_j: np.ndarray
    cost: np.ndarray

    def route(self, demand: int, chain: int, cut: int) -> Route:
        n = self.model.n_layers
        bounds = [0, *self.cuts[cut].tolist(), n]
        nodes = [self.tree.nodes[i] for i in self.chains[chain]]
        return Route(demand, self.model.id, tuple(Segment(nodes[s], bounds[s], bounds[s + 1] - 1) for s in range(len(nodes))))


def model_block(instance: Instance, tree: OriginTree, model: Model, chains: np.ndarray) -> Block:
    """Latency, energy and cost of every (chain, cuts) route of ``model``."""
    k = chains.shape[1]
    n = model.n_layers
    cuts = cut_combinations(n, k)
    m = cuts.shape[0]
    c = chains.shape[0]
    bounds = np.concatenate([np.zeros((m, 1), np.int64), cuts, np.full((m, 1), n, np.int64)], axis=1)
    send = np.concatenate([[model.input_bytes], model.out_bytes])  # bytes entering layer j
    cum_by_dev = np.stack([model.cum_latency(d) for d in tree.devices])  # (D, n+1)
    latency = np.zeros((c, m))
    energy = np.zeros((c, m))
    prev = np.zeros(c, dtype=np.int64)  # the origin
    for s in range(k):
        cur = chains[:, s]
        cum = cum_by_dev[tree.dev[cur]]  # (C, n+1)
        power = tree.power[tree.dev[cur]]
        t = cum[:, bounds[:, s + 1]] - cum[:, bounds[:, s]]  # (C, M)
        b = send[bounds[:, s]][None, :]  # (1, M)
        dinv = (tree.d_inv[cur] - tree.d_inv[prev])[:, None]
        dlat = (tree.d_lat[cur] - tree.d_lat[prev])[:, None]
        den = (tree.d_en[cur] - tree.d_en[prev])[:, None]
        latency += t + b * dinv + dlat
        energy += t * power[:, None] + b * den
        prev = cur
    r = float(model.out_bytes[-1])
    latency += (r * tree.d_inv[prev] + tree.d_lat[prev])[:, None]
    energy += (r * tree.d_en[prev])[:, None]
    cost = instance.w_latency * latency + instance.w_inaccuracy * (1.0 - model.accuracy) + instance.w_energy * energy
    return Block(model, tree, chains, cuts, latency, energy, cost)


@dataclass
class Candidate:
    route: Route
    latency_s: float
    energy_j: float
    cost: float


class CandidateSet:
    """Candidate routes of one demand class, produced cheapest first, lazily.

    Each (model, end node) pair has a lower bound on the cost of every route
    of that model ending at that node (see :func:`pair_bounds`). Pairs are
    expanded into blocks of routes in order of their bound, only as far as
    needed: a route is yielded once no unexpanded pair could hold a cheaper
    one, so the order is exactly by cost (ties by expansion order).
    """

    def __init__(self, instance: Instance, tree: OriginTree, demand: Demand, pairs: tuple[np.ndarray, np.ndarray, np.ndarray], models: list[Model], k_max: int, slo: float | None):
        self.instance = instance
        self.tree = tree
        self.demand = demand
        # (lower bound on cost, model index, target node index) per pair, sorted by bound
        self.pair_lb, self.pair_model, self.pair_target = pairs
        self.models = models
        self.k_max = k_max
        self.slo = slo
        self.expanded = 0

    def _expand(self, upto: int) -> list[tuple[Block, np.ndarray]]:
        """Blocks for the pairs expanded..upto, grouped by model, with their kept flat indices."""
        mids = self.pair_model[self.expanded : upto]
        tgts = self.pair_target[self.expanded : upto]
        self.expanded = upto
        out = []
        for m in np.unique(mids):
            model = self.models[int(m)]
            targets = np.sort(tgts[mids == m])
            for k in range(1, min(self.k_max, model.n_layers) + 1):
                chains = self.tree.chains(k, targets)
                if len(chains) == 0:
                    continue
                blk = model_block(self.instance, self.tree, model, chains)
                flat = np.flatnonzero(blk.latency_s.ravel() <= self.slo) if self.slo is not None else np.arange(blk.cost.size)
                if len(flat):
                    out.append((blk, flat[np.argsort(blk.cost.ravel()[flat], kind="stable")]))
        return out

    def _candidate(self, blk: Block, flat: int) -> Candidate:
        chain, cut = divmod(int(flat), blk.cost.shape[1])
        return Candidate(
            blk.route(self.demand.index, chain, cut),
            float(blk.latency_s[chain, cut]),
            float(blk.energy_j[chain, cut]),
            float(blk.cost[chain, cut]),
        )

    def __iter__(self) -> Iterator[Candidate]:
        self.expanded = 0
        heap: list[tuple[float, int, int]] = []  # (cost, block number, cursor)
        blocks: list[tuple[Block, np.ndarray]] = []
        step = 8
        while True:
            npairs = len(self.pair_lb)
            next_lb = self.pair_lb[self.expanded] if self.expanded < npairs else np.inf
            if heap and heap[0][0] <= next_lb:
                cost, b, cur = heapq.heappop(heap)
                blk, order = blocks[b]
                yield self._candidate(blk, order[cur])
                if cur + 1 < len(order):
                    heapq.heappush(heap, (float(blk.cost.ravel()[order[cur + 1]]), b, cur + 1))
                continue
            if self.expanded >= npairs:
                return
            for blk, order in self._expand(min(npairs, self.expanded + step)):
                blocks.append((blk, order))
                heapq.heappush(heap, (float(blk.cost.ravel()[order[0]]), len(blocks) - 1, 0))
            step *= 2

    def blocks(self) -> list[tuple[Block, np.ndarray]]:
        """Every block with the flat indices of its kept routes (cheapest first within a block)."""
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
    send; and the result comes back over every link.
    """
    n = model.n_layers
    lat = np.stack([model.latency(d) for d in tree.devices])  # (D, n)
    energy = lat * tree.power[:, None]
    head = model.cum_latency(tree.devices[int(tree.dev[0])])  # origin computes layers < c
    send = np.concatenate([[model.input_bytes], model.out_bytes[:-1]])  # tensor entering layer c
    smallest = float(send.min())
    result = float(model.out_bytes[-1])
    keys = np.stack([tree.mask, tree.first], axis=1)
    keys[0, 1] = -1  # the origin itself: everything computed there
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    first_lat = np.empty(len(uniq))
    first_en = np.empty(len(uniq))
    for u, (mask, hop) in enumerate(uniq):
        rows = [d for d in range(len(tree.devices)) if int(mask) >> d & 1]
        best = lat[rows].min(axis=0)
        suffix = np.concatenate([np.cumsum(best[::-1])[::-1], [0.0]])  # suffix[c] = sum over l >= c
        if hop < 0:
            first_lat[u] = head[n]
        else:
            first_lat[u] = np.min(head[:n] + suffix[:n] + send * tree.first_inv[hop])
        first_en[u] = energy[rows].min(axis=0).sum()
    inverse = inverse.ravel()
    lb_lat = first_lat[inverse]
    comp_en = first_en[inverse]
    lb_lat += smallest * (tree.d_inv - tree.first_inv) + result * tree.d_inv + 2 * tree.d_lat
    return lb_lat, comp_en + (smallest + result) * tree.d_en


def origin_tree(instance: Instance, origin: str) -> OriginTree:
    """The :class:`OriginTree` of ``origin``, cached on the instance."""
    trees = instance.cache.setdefault("origin_trees", {})
    tree = trees.get(origin)
    if tree is None:
        tree = trees[origin] = OriginTree(instance, origin)
    return tree


def candidate_routes(
    instance: Instance,
    demand: Demand,
    *,
    targets: list[str] | None = None,
    max_segments: int | None = None,
    respect_slo: bool = True,
    respect_accuracy: bool = True,
) -> CandidateSet:
    """Routes of ``demand`` ending at one of ``targets`` (default: any reachable
    node), with at most ``max_segments`` segments, meeting the accuracy floor
    and the SLO unless told otherwise; iterate for cheapest first.
    """
    tree = origin_tree(instance, demand.origin)
    k_max = instance.max_segments if max_segments is None else max_segments
    slo = demand.max_latency_s * _REL if respect_slo else None
    allowed = None
    if targets is not None:
        allowed = np.zeros(len(tree.nodes), dtype=bool)
        allowed[[tree.index[t] for t in targets if t in tree.index]] = True
    models = [m for m in instance.models_for(demand) if not respect_accuracy or m.accuracy >= demand.min_accuracy - 1e-12]
    lbs, mids, tgts = [], [], []
    for mi, model in enumerate(models):
        lb_lat, lb_en = pair_bounds(instance, tree, model)
        keep = np.ones(len(tree.nodes), dtype=bool) if slo is None else lb_lat <= slo
        if allowed is not None:
            keep &= allowed
        idx = np.flatnonzero(keep)
        lb_cost = instance.w_latency * lb_lat + instance.w_inaccuracy * (1.0 - model.accuracy) + instance.w_energy * lb_en
        lbs.append(lb_cost[idx])
        mids.append(np.full(len(idx), mi))
        tgts.append(idx)
    lb = np.concatenate(lbs) if lbs else np.zeros(0)
    mid = np.concatenate(mids) if mids else np.zeros(0, dtype=np.int64)
    tgt = np.concatenate(tgts) if tgts else np.zeros(0, dtype=np.int64)
    order = np.lexsort((tgt, mid, lb))
    return CandidateSet(instance, tree, demand, (lb[order], mid[order], tgt[order]), models, k_max, slo)
