"""Shortest-path trees from one origin, with the cumulative path figures route enumeration needs.

:class:`OriginTree` holds, per node reachable from an origin, its parent, depth,
first hop, path sums of inverse bandwidth, latency and energy, and the set of
device types on its path; :func:`origin_tree` keeps one per origin in the
topology's bounded memo, a leaf device's re-rooted from its access point's.
:func:`bound_keys` groups a tree's nodes by (path device set, first hop), what
the pair bounds of :mod:`solvers.candidates` need besides the path sums.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from placement.instance import Instance
from placement.memo import Memo


class OriginTree:
    """The shortest-path tree from one origin, with cumulative path figures.

    Nodes are indexed in order of distance (ties by id), so a parent always
    comes before its children; index 0 is the origin.
    """

    def __init__(self, instance: Instance, origin: str):
        net = instance.network
        dist, pred = net.tree_arrays(origin)
        reach = np.flatnonzero(np.isfinite(dist))
        order = reach[np.lexsort((net.id_rank[reach], dist[reach]))]
        self.origin = origin
        self.positions = order  # network position of each tree node
        self.nodes = net.id_array[order].tolist()
        self._index: dict[str, int] | None = None
        size = len(self.nodes)
        tpos = np.full(len(net.ids), -1, dtype=np.int64)
        tpos[order] = np.arange(size)
        self.parent = np.concatenate([[-1], tpos[pred[order[1:]]]]).astype(np.int64)
        dirs = net.directions(pred[order[1:]], order[1:])
        self._dirs = dirs
        inv = np.concatenate([[0.0], 1.0 / net.dir_bandwidth[dirs]])
        lat = np.concatenate([[0.0], net.dir_latency[dirs]])
        epb = np.concatenate([[0.0], net.dir_energy[dirs]])
        # the hop into each node (both directions of a link are alike: full duplex)
        self.hop_inv, self.hop_lat, self.hop_epb = inv, lat, epb
        self.hop_bw = np.concatenate([[np.inf], net.dir_bandwidth[dirs]])
        arrays = node_arrays(instance)
        self.devices = arrays.devices
        self.node_idx = arrays.index_of_position[order]
        self.dev = arrays.dev[self.node_idx]
        self.power = arrays.power
        self.mem = arrays.memory[self.node_idx]
        self.ram = arrays.ram[self.node_idx]
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
        # link direction indices of the hop from the parent into each node, and back
        self.hop_fwd = np.concatenate([[-1], dirs]).astype(np.int64)
        self.hop_back = np.concatenate([[-1], dirs ^ 1]).astype(np.int64)
        self.memo = Memo()  # derived per-tree tables: pair bounds per model, the path matrix

    @property
    def index(self) -> dict[str, int]:
        """Tree index of each node id (built on first use)."""
        if self._index is None:
            self._index = dict(zip(self.nodes, range(len(self.nodes))))
        return self._index

    @classmethod
    def reroot(cls, instance: Instance, parent: OriginTree, leaf: str) -> OriginTree | None:
        """The tree of ``leaf`` (a node whose only link goes to ``parent``'s origin)
        from ``parent``'s tree: ``leaf`` moved to the root, one hop above the rest.

        Call only when :meth:`placement.network.Network.reroot_parent` names
        ``parent.origin`` for ``leaf`` (the link structure is then that of
        ``leaf``'s own Dijkstra). Returns None when the shifted distances would
        settle nodes in another order (near-ties reordered by rounding), so the
        caller builds ``leaf``'s own tree instead; otherwise the result equals
        ``OriginTree(instance, leaf)`` array for array (tested).
        """
        net = instance.network
        a = parent.origin
        pos = parent.index[leaf]
        size = len(parent.nodes)
        perm = np.concatenate([[pos], np.delete(np.arange(size), pos)])
        remap = np.empty(size, dtype=np.int64)  # parent's index -> new index
        remap[perm] = np.arange(size)
        t = cls.__new__(cls)
        t.origin = leaf
        t.positions = parent.positions[perm]
        t.depth = parent.depth[perm] + 1
        t.depth[0] = 0
        width = max(int(t.depth.max(initial=0)), 1)
        up = parent.parent[perm]
        t.parent = np.where(up >= 0, remap[np.maximum(up, 0)], 0)
        t.parent[0] = -1
        hop = parent.hop_fwd[perm]
        hop[0] = -1
        hop[1] = net.direction_index(leaf, a)
        t.hop_fwd = hop
        t._dirs = hop[1:]
        t.hop_back = np.concatenate([[-1], t._dirs ^ 1]).astype(np.int64)
        first = net.dir_bandwidth[hop[1]]
        t.hop_inv = parent.hop_inv[perm]
        t.hop_lat = parent.hop_lat[perm]
        t.hop_epb = parent.hop_epb[perm]
        t.hop_bw = parent.hop_bw[perm]
        t.hop_inv[:2] = (0.0, 1.0 / first)
        t.hop_lat[:2] = (0.0, net.dir_latency[hop[1]])
        t.hop_epb[:2] = (0.0, net.dir_energy[hop[1]])
        t.hop_bw[:2] = (np.inf, first)
        t.d_inv = _level_sums(t.depth, t.parent, t.hop_inv)
        t.d_lat = _level_sums(t.depth, t.parent, t.hop_lat)
        # the leaf's own tree settles nodes by (distance, id): the shifted order must agree
        rank = net.id_rank[t.positions]
        if np.any(t.d_lat[t.parent[1:]] >= t.d_lat[1:]) or np.any((t.d_lat[1:] < t.d_lat[:-1]) | ((t.d_lat[1:] == t.d_lat[:-1]) & (rank[1:] < rank[:-1]))):
            return None
        t.d_en = _level_sums(t.depth, t.parent, t.hop_epb)
        t.nodes = net.id_array[t.positions].tolist()
        t._index = None
        t.devices, t.power = parent.devices, parent.power
        t.node_idx = parent.node_idx[perm]
        t.dev = parent.dev[perm]
        t.mem = parent.mem[perm]
        t.ram = parent.ram[perm]
        t.first = np.ones(size, dtype=np.int64)
        t.first[0] = 0
        bit = np.int64(1) << t.dev[0]
        t.mask = parent.mask[perm] | bit
        t.mask[0] = bit
        t.anc = np.full((size, width), -1, dtype=np.int64)
        old = parent.anc[perm][:, : width - 1]
        t.anc[:, 1 : 1 + old.shape[1]] = np.where(old >= 0, remap[np.maximum(old, 0)], -1)
        t.anc[1:, 0] = 0
        t.anc[0] = -1
        t.first_inv = np.where(t.depth > 0, t.hop_inv[t.first], 0.0)
        rows, cols = np.nonzero(t.anc >= 0)
        t._pair_t = rows
        t._pair_a = t.anc[rows, cols]
        t.memo = Memo()
        t.memo.get("bound_keys", lambda: _rerooted_keys(parent, perm, bit))
        return t

    def path_min(self, per_hop: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Minimum of ``per_hop[j]`` (the hop from j's parent into j) over the hops
        from ``a`` to ``b``, elementwise (each ``a`` an ancestor of its ``b``, or
        equal: then +inf)."""
        full = self.memo.get("full", self._full_paths)
        rows = full[b]  # (C, D+1)
        vals = np.where(rows >= 0, per_hop[np.maximum(rows, 0)], np.inf)
        depth = np.arange(rows.shape[1])[None, :]
        vals = np.where((depth > self.depth[a][:, None]) & (depth <= self.depth[b][:, None]), vals, np.inf)
        return vals.min(axis=1)

    @property
    def nbytes(self) -> int:
        """Bytes held: the arrays, the node ids and index, and the derived tables."""
        arrays = sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))
        return arrays + 150 * len(self.nodes) + self.memo.nbytes

    def _full_paths(self) -> np.ndarray:
        """Node at each depth along the path to every node, the node itself included."""
        full = np.concatenate([self.anc, np.full((len(self.nodes), 1), -1, dtype=np.int64)], axis=1)
        full[np.arange(len(self.nodes)), self.depth] = np.arange(len(self.nodes))
        return full

    def path_nodes(self, a: int, b: int) -> list[int]:
        """Tree indices after ``a`` up to ``b`` on the path (``a`` an ancestor of ``b``)."""
        return [int(x) for x in self.anc[b, self.depth[a] + 1 : self.depth[b]]] + ([b] if b != a else [])

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


def _level_sums(depth: np.ndarray, parent: np.ndarray, per_hop: np.ndarray) -> np.ndarray:
    """Sum of a per-hop figure along the path from the root to every node, added
    level by level in the order :class:`OriginTree` uses (bit for bit the same sums)."""
    out = per_hop.copy()
    for d in range(2, int(depth.max(initial=0)) + 1):
        level = np.flatnonzero(depth == d)
        out[level] += out[parent[level]]
    return out


def _path_sums(tree: OriginTree, per_hop: np.ndarray) -> np.ndarray:
    """Sum of a per-hop figure along the path from the origin to every node."""
    out = per_hop.copy()
    out[0] = 0.0
    for d in range(2, int(tree.depth.max(initial=0)) + 1):
        level = np.flatnonzero(tree.depth == d)
        out[level] += out[tree.parent[level]]
    return out


def bound_keys(tree: OriginTree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (device-type mask of the path, first hop) pairs of a tree's nodes
    (the origin's hop is -1), and each node's pair: what :func:`pair_bounds` needs
    besides the path sums, the same for every model."""
    return tree.memo.get("bound_keys", lambda: _bound_keys(tree))


def _bound_keys(tree: OriginTree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hops = tree.first.copy()
    hops[0] = -1  # the origin itself: everything computed there
    size = len(tree.nodes)
    uniq, inverse = np.unique(tree.mask * (size + 1) + (hops + 1), return_inverse=True)
    mask, hop = np.divmod(uniq, size + 1)
    return mask, hop - 1, inverse.ravel()


def _rerooted_keys(parent: OriginTree, perm: np.ndarray, bit: np.int64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`bound_keys` of a re-rooted leaf tree from its parent's: every node but
    the leaf has first hop 1 (the parent) and the parent's mask plus the leaf's type."""
    p_mask, _, p_inverse = bound_keys(parent)
    masks = np.concatenate([[bit], p_mask | bit])
    hops = np.concatenate([[-1], np.ones(len(p_mask), dtype=np.int64)])
    uniq, inv = np.unique(masks * 4 + (hops + 1), return_inverse=True)
    mask, hop = np.divmod(uniq, 4)
    inverse = np.concatenate([[inv[0]], inv[1:][p_inverse[perm[1:]]]])
    return mask, hop - 1, inverse


@dataclass
class NodeArrays:
    """Per-instance arrays over nodes, shared by every origin's tree."""

    devices: list  # device types used by some node, sorted by name
    dev: np.ndarray  # per instance node: index into devices
    power: np.ndarray  # per device: active power
    memory: np.ndarray  # per instance node
    ram: np.ndarray
    index_of_position: np.ndarray  # network position -> instance node index


def node_arrays(instance: Instance) -> NodeArrays:
    return instance.cache.get("node_arrays", lambda: _node_arrays(instance))


def _node_arrays(instance: Instance) -> NodeArrays:
    names = sorted({n.device.name for n in instance.nodes})
    code = {d: j for j, d in enumerate(names)}
    return NodeArrays(
            devices=[instance.devices[d] for d in names],
            dev=np.array([code[n.device.name] for n in instance.nodes], dtype=np.int64),
            power=np.array([instance.devices[d].active_power_w for d in names]),
            memory=np.array([n.memory_bytes for n in instance.nodes]),
            ram=np.array([n.ram_bytes for n in instance.nodes]),
        index_of_position=np.array([instance.node[i].index for i in instance.network.ids], dtype=np.int64),
    )


def origin_tree(instance: Instance, origin: str) -> OriginTree:
    """The :class:`OriginTree` of ``origin``, kept in the topology's bounded tree memo.

    A leaf origin (a device whose only link goes to its access point) gets its
    access point's tree re-rooted (:meth:`OriginTree.reroot`) when the path rule
    certainly gives the same tree, so the devices under one access point share
    one Dijkstra; otherwise its own tree is built.
    """

    def build() -> OriginTree:
        up = instance.network.reroot_parent(origin)
        if up is not None:
            tree = OriginTree.reroot(instance, origin_tree(instance, up), origin)
            if tree is not None:
                return tree
        return OriginTree(instance, origin)

    return instance.topology.trees.get(origin, build)
