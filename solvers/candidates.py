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
import itertools
from dataclasses import dataclass
from typing import Iterator

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
        self.origin = origin
        self.nodes = sorted(dist, key=lambda n: (dist[n], n))
        self.index = {n: i for i, n in enumerate(self.nodes)}
        size = len(self.nodes)
        self.parent = np.full(size, -1, dtype=np.int64)
        self.depth = np.zeros(size, dtype=np.int64)
        self.d_inv = np.zeros(size)
        self.d_lat = np.zeros(size)
        self.d_en = np.zeros(size)
        pred = net.predecessors(origin)
        self._anc: list[list[int]] = [[0]]
        for i, node in enumerate(self.nodes[1:], start=1):
            p = self.index[pred[node]]  # type: ignore[index]
            link = net.link(pred[node], node)  # type: ignore[arg-type]
            self._anc.append(self._anc[p] + [i])
            self.parent[i] = p
            self.depth[i] = self.depth[p] + 1
            self.d_inv[i] = self.d_inv[p] + 1.0 / link.bandwidth_bps
            self.d_lat[i] = self.d_lat[p] + link.latency_s
            self.d_en[i] = self.d_en[p] + link.energy_j_per_byte
        self._chains: dict[tuple[int, tuple[int, ...] | None], np.ndarray] = {}
        names = sorted({instance.node[n].device.name for n in self.nodes})
        self.devices = [instance.devices[d] for d in names]
        pos = {d: j for j, d in enumerate(names)}
        self.dev = np.array([pos[instance.node[n].device.name] for n in self.nodes], dtype=np.int64)
        self.power = np.array([d.active_power_w for d in self.devices])

    def ancestors(self, i: int) -> list[int]:
        """Indices on the path from the origin to ``i``, both included."""
        return self._anc[i]

    def chains(self, k: int, targets: tuple[int, ...] | None = None) -> np.ndarray:
        """Every chain of ``k`` computing nodes ending at a target, as (C, k) indices."""
        key = (k, targets)
        got = self._chains.get(key)
        if got is not None:
            return got
        rows: list[tuple[int, ...]] = []
        for t in targets if targets is not None else range(len(self.nodes)):
            if k == 1:
                rows.append((t,))
            elif k == 2:
                rows.extend((a, t) for a in self._anc[t][:-1])
            else:
                rows.extend(inner + (t,) for inner in itertools.combinations(self._anc[t][:-1], k - 1))
        arr = np.array(rows, dtype=np.int64).reshape(len(rows), k)
        self._chains[key] = arr
        return arr


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
    """Candidate routes of one demand class (those kept by the filters), cheapest first."""

    def __init__(self, demand: Demand, blocks: list[Block], masks: list[np.ndarray]):
        self.demand = demand
        self.blocks = blocks
        parts = [(b, np.flatnonzero(mask.ravel())) for b, mask in zip(blocks, masks)]
        self._flat = [(b, idx) for b, idx in parts if len(idx)]
        if self._flat:
            self._cost = np.concatenate([b.cost.ravel()[idx] for b, idx in self._flat])
            self._which = np.concatenate([np.full(len(idx), j) for j, (_, idx) in enumerate(self._flat)])
            self._pos = np.concatenate([idx for _, idx in self._flat])
        else:
            self._cost = np.zeros(0)
            self._which = self._pos = np.zeros(0, dtype=np.int64)
        self._order: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._cost)

    def candidate(self, j: int) -> Candidate:
        block, _ = self._flat[self._which[j]]
        chain, cut = divmod(int(self._pos[j]), block.cost.shape[1])
        return Candidate(
            block.route(self.demand.index, chain, cut),
            float(block.latency_s[chain, cut]),
            float(block.energy_j[chain, cut]),
            float(block.cost[chain, cut]),
        )

    def __iter__(self) -> Iterator[Candidate]:
        """Cheapest first (ties by position); sorts lazily, in growing batches."""
        n = len(self._cost)
        done = 0
        batch = 32
        remaining = np.arange(n)
        while done < n:
            take = min(batch, n - done)
            if take < len(remaining):
                part = np.argpartition(self._cost[remaining], take - 1)[:take]
                chosen = remaining[part]
            else:
                chosen = remaining
            chosen = chosen[np.lexsort((chosen, self._cost[chosen]))]
            for j in chosen:
                yield self.candidate(int(j))
            done += len(chosen)
            mask = np.ones(len(remaining), dtype=bool)
            if take < len(remaining):
                mask[part] = False
                remaining = remaining[mask]
            else:
                remaining = remaining[:0]
            batch *= 4

    def min_latency(self) -> float | None:
        """Fastest latency among the kept candidates."""
        if not self._flat:
            return None
        return float(min(b.latency_s.ravel()[idx].min() for b, idx in self._flat))


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
    """Every route of ``demand`` ending at one of ``targets`` (default: any
    reachable node), with at most ``max_segments`` segments, meeting the
    accuracy floor and the SLO unless told otherwise.
    """
    tree = origin_tree(instance, demand.origin)
    k_max = instance.max_segments if max_segments is None else max_segments
    slo = demand.max_latency_s * _REL
    if targets is None:
        # every route ending at t crosses each link of the path twice (there and back)
        tgt = tuple(i for i in range(len(tree.nodes)) if not respect_slo or 2 * tree.d_lat[i] <= slo)
    else:
        tgt = tuple(sorted(tree.index[t] for t in targets if t in tree.index))
    models = [m for m in instance.models_for(demand) if not respect_accuracy or m.accuracy >= demand.min_accuracy - 1e-12]
    blocks, masks = [], []
    for model in models:
        for k in range(1, min(k_max, model.n_layers) + 1):
            chains = tree.chains(k, tgt)
            if len(chains) == 0:
                continue
            blk = model_block(instance, tree, model, chains)
            mask = blk.latency_s <= slo if respect_slo else np.ones(blk.latency_s.shape, dtype=bool)
            blocks.append(blk)
            masks.append(mask)
    return CandidateSet(demand, blocks, masks)
