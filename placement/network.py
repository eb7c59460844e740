"""The network: a networkx graph plus the path rule of DESIGN.md.

Data moves on fixed paths: the path from ``a`` to ``b`` is the shortest by the
sum of link ``latency_s``; among equally short paths the one whose sequence of
node ids is lexicographically smallest wins. Because every link latency is
non-negative and predecessors are chosen among nodes settled earlier (see
:meth:`Network.tree_arrays`), every prefix of such a path is itself the path
to its last node, so a route's transfers can always follow sub-paths of the
path from the origin to its last computing node (zero-latency links included).

Sums of floats that differ only by rounding (``0.1 + 0.2`` against ``0.3``)
count as equal: distances within a relative 1e-12 are ties.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .memo import Memo

_REL_TOL = 1e-12


@dataclass(frozen=True)
class Link:
    """A full-duplex link; ``index`` is its position in the instance's ``links``."""

    index: int
    u: str
    v: str
    bandwidth_bytes_per_s: float
    latency_s: float
    energy_j_per_byte: float


def direction_key(u: str, v: str) -> str:
    """Name of one direction of a link, as used in reports: ``"u->v"``."""
    return f"{u}->{v}"


class Network:
    """Nodes and full-duplex links, with deterministic shortest paths.

    Parameters
    ----------
    nodes : iterable of str
        Node ids.
    links : iterable of Link
        Links between known nodes (validated beforehand).
    """

    def __init__(self, nodes: Iterable[str], links: Iterable[Link]):
        self.graph = nx.Graph()
        self.graph.add_nodes_from(nodes)
        self.links: list[Link] = list(links)
        self._link_of: dict[tuple[str, str], Link] = {}
        for link in self.links:
            self.graph.add_edge(
                link.u,
                link.v,
                index=link.index,
                bandwidth_bytes_per_s=link.bandwidth_bytes_per_s,
                latency_s=link.latency_s,
                energy_j_per_byte=link.energy_j_per_byte,
            )
            self._link_of[(link.u, link.v)] = link
            self._link_of[(link.v, link.u)] = link
        # arrays for scipy's Dijkstra: node positions and both directions of every link
        from scipy.sparse import csr_matrix

        self.ids: list[str] = list(self.graph.nodes)
        self.pos: dict[str, int] = {n: i for i, n in enumerate(self.ids)}
        self.id_array = np.array(self.ids, dtype=object)  # ids for fast fancy indexing
        self._eu = np.array([self.pos[l.u] for l in self.links] + [self.pos[l.v] for l in self.links], dtype=np.int64)
        self._ev = np.array([self.pos[l.v] for l in self.links] + [self.pos[l.u] for l in self.links], dtype=np.int64)
        self._ew = np.array([l.latency_s for l in self.links] * 2, dtype=float)
        n_ids = len(self.ids)
        self._csr = csr_matrix((self._ew, (self._eu, self._ev)), shape=(n_ids, n_ids))
        #: rank of each node id in sorted order (ties of the path rule compare ids)
        self.id_rank = np.empty(n_ids, dtype=np.int64)
        self.id_rank[np.argsort(np.array(self.ids, dtype=object), kind="stable")] = np.arange(n_ids)
        # direction index (2 * link index + 0 for u->v, 1 for v->u) of each (from, to) position pair
        n_links = len(self.links)
        keys = self._eu * n_ids + self._ev
        order = np.argsort(keys)
        self._dir_keys = keys[order]
        self._dir_vals = np.concatenate([2 * np.arange(n_links), 2 * np.arange(n_links) + 1])[order]
        self.dir_bandwidth = np.repeat([l.bandwidth_bytes_per_s for l in self.links], 2).astype(float)
        self.dir_latency = np.repeat([l.latency_s for l in self.links], 2).astype(float)
        self.dir_energy = np.repeat([l.energy_j_per_byte for l in self.links], 2).astype(float)
        # per-source trees and paths, bounded: memory follows what a solve touches at a time
        self._arrays = Memo(max_bytes=512 << 20)
        self._reach = Memo(max_bytes=256 << 20)
        self._paths = Memo(max_bytes=128 << 20)
        self._margins = Memo()  # per source: see _reroot_margin (one float each)

    # -- paths -----------------------------------------------------------------
    def tree_arrays(self, source: str) -> tuple[np.ndarray, np.ndarray]:
        """Distances and predecessors (as node positions, -1 for none) from ``source``.

        Distances come from scipy's Dijkstra. A link ``u -> v`` is *tight* when
        ``dist[u] + latency`` equals ``dist[v]`` (within a relative 1e-12). Nodes
        are settled one at a time, each once one of its tight predecessors is
        settled, the closest first (ties by id); the predecessor of a node is
        the settled tight neighbour giving the lexicographically smallest
        sequence of ids. Predecessors are therefore always settled earlier, so
        the result is a tree even with zero-latency links (or latencies below
        the tolerance), and every prefix of a path is the path to its end.
        With latencies well above the tolerance this is exactly the rule "the
        shortest path, ties by the lexicographically smallest sequence".
        """
        return self._arrays.get(source, lambda: self._shortest_tree(source))

    def _shortest_tree(self, source: str) -> tuple[np.ndarray, np.ndarray]:
        from scipy.sparse.csgraph import dijkstra

        s = self.pos[source]
        dist = dijkstra(self._csr, directed=True, indices=s)
        eu, ev, ew = self._eu, self._ev, self._ew
        cand = dist[eu] + ew
        tight = np.isfinite(cand) & np.isclose(cand, dist[ev], rtol=_REL_TOL, atol=0.0) & (ev != s)
        pred = np.full(len(self.ids), -1, dtype=np.int64)
        if np.any(tight & (dist[eu] >= dist[ev])):
            # zero (or negligible) latencies: tight links between equally distant nodes
            self._settle_in_order(s, dist, tight, pred)
        else:
            counts = np.bincount(ev[tight], minlength=len(self.ids))
            single = tight & (counts[ev] == 1)
            pred[ev[single]] = eu[single]
            multi = np.flatnonzero(counts > 1)
            order = multi[np.lexsort((self.id_rank[multi], dist[multi]))]
            for v in order:
                pred[v] = self._smallest_sequence(eu[tight & (ev == v)], v, pred)
        return dist, pred

    def _smallest_sequence(self, options: np.ndarray, v: int, pred: np.ndarray) -> int:
        """Among settled predecessors ``options`` of ``v``, the one whose path is the
        lexicographically smallest sequence of ids."""
        if len(options) == 1:
            return int(options[0])
        ids = self.ids

        def chain(i: int) -> list[str]:
            out = []
            while i >= 0:
                out.append(ids[i])
                i = pred[i]
            return out[::-1]

        return int(min(options, key=lambda u: chain(int(u)) + [ids[v]]))

    def _settle_in_order(self, s: int, dist: np.ndarray, tight: np.ndarray, pred: np.ndarray) -> None:
        """The general case of :meth:`tree_arrays`: settle nodes in order, each from
        tight neighbours settled before it (never a cycle)."""
        import heapq

        eu, ev = self._eu[tight], self._ev[tight]
        order = np.argsort(eu, kind="stable")
        eu, ev = eu[order], ev[order]
        starts = np.searchsorted(eu, np.arange(len(self.ids) + 1))
        settled = np.zeros(len(self.ids), dtype=bool)
        preds: dict[int, list[int]] = {}
        heap = [(float(dist[s]), int(self.id_rank[s]), s)]
        queued = {s}
        while heap:
            _, _, v = heapq.heappop(heap)
            if settled[v]:
                continue
            if v != s:
                pred[v] = self._smallest_sequence(np.array(preds[v]), v, pred)
            settled[v] = True
            for w in ev[starts[v] : starts[v + 1]]:
                w = int(w)
                if settled[w]:
                    continue
                preds.setdefault(w, []).append(v)
                if w not in queued:
                    queued.add(w)
                    heapq.heappush(heap, (float(dist[w]), int(self.id_rank[w]), w))

    def reroot_parent(self, leaf: str) -> str | None:
        """The neighbour whose shortest-path tree, re-rooted at ``leaf``, is exactly
        ``leaf``'s own tree; None when that is not certain.

        ``leaf`` must have a single link, of latency ``L > 0``, to a node ``a``
        that has other links;
        then every path from ``leaf`` is ``leaf`` followed by a path from ``a``
        and distances shift by ``L``. The rule of :meth:`tree_arrays` gives the
        same tree from both sources when ``a``'s tree has no ties at all (every
        node has a single tight incoming link, none between equally distant
        nodes) and every other link stays clearly non-tight after the shift
        (slack above twice the 1e-12 tolerance, far above rounding). The caller
        still checks that the shifted distances keep the settling order (see
        :meth:`solvers.origin_trees.OriginTree.reroot`).
        """
        if self.graph.degree(leaf) != 1:
            return None
        (a,) = self.graph.neighbors(leaf)
        if self.graph.degree(a) < 2:  # a two-node component: nothing to share (and no cycle of re-rootings)
            return None
        lat = self._link_of[(leaf, a)].latency_s
        if not 0.0 < lat < self._reroot_margin(a):
            return None
        return a

    def _reroot_margin(self, a: str) -> float:
        """Largest link latency ``L`` by which ``a``'s distances may shift without a
        link changing tightness (0 when ``a``'s tree has ties)."""

        def build() -> float:
            dist, pred = self.tree_arrays(a)
            s = self.pos[a]
            eu, ev, ew = self._eu, self._ev, self._ew
            cand = dist[eu] + ew
            finite = np.isfinite(cand)
            tight = finite & np.isclose(cand, dist[ev], rtol=_REL_TOL, atol=0.0) & (ev != s)
            counts = np.bincount(ev[tight], minlength=len(self.ids))
            if np.any(tight & (dist[eu] >= dist[ev])) or np.any(counts > 1) or np.any(pred[ev[tight]] != eu[tight]):
                return 0.0
            other = finite & ~tight
            if not np.any(other):
                return np.inf
            slack = cand[other] - dist[ev[other]]
            # clearly non-tight after a shift by L: slack > 2e-12 * (L + cand)
            return float(np.min(slack / (2 * _REL_TOL) - cand[other]))

        return self._margins.get(a, build)

    def reachable(self, source: str) -> dict[str, float]:
        """Nodes reachable from ``source`` with their path latency in seconds."""

        def build() -> dict[str, float]:
            dist = self.tree_arrays(source)[0]
            return {self.ids[i]: float(dist[i]) for i in np.flatnonzero(np.isfinite(dist))}

        return self._reach.get(source, build)

    def can_reach(self, source: str, target: str) -> bool:
        """Whether a path from ``source`` to ``target`` exists."""
        return bool(np.isfinite(self.tree_arrays(source)[0][self.pos[target]]))

    def path(self, source: str, target: str) -> tuple[str, ...]:
        """The path of DESIGN.md from ``source`` to ``target`` (both included).

        Raises ``KeyError`` when ``target`` cannot be reached.
        """
        return self._paths.get((source, target), lambda: self._path(source, target))

    def _path(self, source: str, target: str) -> tuple[str, ...]:
        dist, pred = self.tree_arrays(source)
        i = self.pos[target]
        if not np.isfinite(dist[i]):
            raise KeyError(f"no path from {source!r} to {target!r}")
        out = []
        while i >= 0:
            out.append(self.ids[i])
            i = pred[i]
        return tuple(reversed(out))

    def directions(self, frm: np.ndarray, to: np.ndarray) -> np.ndarray:
        """Direction indices of the links from positions ``frm`` to ``to`` (adjacent pairs)."""
        keys = np.asarray(frm, dtype=np.int64) * len(self.ids) + np.asarray(to, dtype=np.int64)
        return self._dir_vals[np.searchsorted(self._dir_keys, keys)]

    def direction_index(self, a: str, b: str) -> int:
        """Index of the link direction from ``a`` to ``b`` (``2 * link + 0`` for u->v, ``+ 1`` for v->u)."""
        link = self._link_of[(a, b)]
        return 2 * link.index + (0 if link.u == a else 1)

    def direction_name(self, d: int) -> str:
        """``"u->v"`` for direction index ``d``."""
        link = self.links[d // 2]
        return direction_key(link.u, link.v) if d % 2 == 0 else direction_key(link.v, link.u)

    def link(self, a: str, b: str) -> Link:
        """The link between adjacent nodes ``a`` and ``b``."""
        return self._link_of[(a, b)]

    def hops(self, path: tuple[str, ...]) -> list[Link]:
        """Links crossed by consecutive nodes of ``path``, in order."""
        return [self._link_of[(path[i], path[i + 1])] for i in range(len(path) - 1)]

    def path_arrays(self, path: tuple[str, ...]) -> PathArrays:
        """Prefix sums along ``path`` for O(1) transfer costs between positions."""
        hops = self.hops(path)
        inv_bw = np.array([1.0 / h.bandwidth_bytes_per_s for h in hops])
        lat = np.array([h.latency_s for h in hops])
        epb = np.array([h.energy_j_per_byte for h in hops])
        zero = np.zeros(1)
        return PathArrays(
            path=path,
            cum_inv_bw=np.concatenate([zero, np.cumsum(inv_bw)]),
            cum_latency=np.concatenate([zero, np.cumsum(lat)]),
            cum_energy=np.concatenate([zero, np.cumsum(epb)]),
        )


@dataclass(frozen=True)
class PathArrays:
    """Cumulative per-hop figures along a path.

    The transfer of ``b`` bytes between positions ``i < j`` (either direction)
    takes ``b * (cum_inv_bw[j] - cum_inv_bw[i]) + (cum_latency[j] - cum_latency[i])``
    seconds and ``b * (cum_energy[j] - cum_energy[i])`` joules: store and forward,
    each link adds its serialisation time and its latency.
    """

    path: tuple[str, ...]
    cum_inv_bw: np.ndarray
    cum_latency: np.ndarray
    cum_energy: np.ndarray

    def transfer_s(self, nbytes: float, i: int, j: int) -> float:
        lo, hi = min(i, j), max(i, j)
        return nbytes * (self.cum_inv_bw[hi] - self.cum_inv_bw[lo]) + (
            self.cum_latency[hi] - self.cum_latency[lo]
        )

    def transfer_j(self, nbytes: float, i: int, j: int) -> float:
        lo, hi = min(i, j), max(i, j)
        return nbytes * (self.cum_energy[hi] - self.cum_energy[lo])
