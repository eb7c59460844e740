"""The network: a networkx graph plus the path rule of DESIGN.md.

Data moves on fixed paths: the path from ``a`` to ``b`` is the shortest by the
sum of link ``latency_s``; among equally short paths the one whose sequence of
node ids is lexicographically smallest wins. Because every link latency is
strictly positive (validated), every prefix of such a path is itself the path
to its last node, so a route's transfers can always follow sub-paths of the
path from the origin to its last computing node.

Sums of floats that differ only by rounding (``0.1 + 0.2`` against ``0.3``)
count as equal: distances within a relative 1e-12 are ties.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np

_REL_TOL = 1e-12


@dataclass(frozen=True)
class Link:
    """A full-duplex link; ``index`` is its position in the instance's ``links``."""

    index: int
    u: str
    v: str
    bandwidth_bps: float
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
        self._adj: dict[str, list[tuple[str, float]]] = {n: [] for n in self.graph.nodes}
        self._link_of: dict[tuple[str, str], Link] = {}
        for link in self.links:
            self.graph.add_edge(
                link.u,
                link.v,
                index=link.index,
                bandwidth_bps=link.bandwidth_bps,
                latency_s=link.latency_s,
                energy_j_per_byte=link.energy_j_per_byte,
            )
            self._adj[link.u].append((link.v, link.latency_s))
            self._adj[link.v].append((link.u, link.latency_s))
            self._link_of[(link.u, link.v)] = link
            self._link_of[(link.v, link.u)] = link
        for n in self._adj:
            self._adj[n].sort()
        self._trees: dict[str, tuple[dict[str, float], dict[str, str | None]]] = {}
        self._path_cache: dict[tuple[str, str], tuple[str, ...]] = {}

    # -- paths -----------------------------------------------------------------
    def _tree(self, source: str) -> tuple[dict[str, float], dict[str, str | None]]:
        """Shortest-path tree from ``source`` under the lexicographic tie rule."""
        tree = self._trees.get(source)
        if tree is not None:
            return tree
        dist: dict[str, float] = {source: 0.0}
        pred: dict[str, str | None] = {source: None}
        done: set[str] = set()
        heap: list[tuple[float, str]] = [(0.0, source)]

        def chain(node: str) -> list[str]:
            out = [node]
            while pred[out[-1]] is not None:
                out.append(pred[out[-1]])  # type: ignore[arg-type]
            return out[::-1]

        # Dijkstra on distances; the lexicographic rule only matters on ties, and
        # then both candidate paths are final (a predecessor is strictly closer,
        # as every latency is positive), so they are compared only there.
        while heap:
            d, u = heapq.heappop(heap)
            if u in done:
                continue
            done.add(u)
            for v, lat in self._adj[u]:
                if v in done:
                    continue
                nd = d + lat
                cur = dist.get(v)
                if cur is None:
                    better = True
                elif math.isclose(nd, cur, rel_tol=_REL_TOL, abs_tol=0.0):
                    better = chain(u) + [v] < chain(pred[v]) + [v]  # type: ignore[arg-type]
                else:
                    better = nd < cur
                if better:
                    if cur is None or nd < cur:
                        dist[v] = nd
                        heapq.heappush(heap, (nd, v))
                    pred[v] = u
        tree = (dist, pred)
        self._trees[source] = tree
        return tree

    def reachable(self, source: str) -> dict[str, float]:
        """Nodes reachable from ``source`` with their path latency in seconds."""
        return self._tree(source)[0]

    def predecessors(self, source: str) -> dict[str, str | None]:
        """Predecessor of every reachable node on its path from ``source`` (None for the source)."""
        return self._tree(source)[1]

    def path(self, source: str, target: str) -> tuple[str, ...]:
        """The path of DESIGN.md from ``source`` to ``target`` (both included).

        Raises ``KeyError`` when ``target`` cannot be reached.
        """
        key = (source, target)
        cached = self._path_cache.get(key)
        if cached is not None:
            return cached
        dist, pred = self._tree(source)
        if target not in dist:
            raise KeyError(f"no path from {source!r} to {target!r}")
        out = [target]
        while out[-1] != source:
            out.append(pred[out[-1]])  # type: ignore[arg-type]
        path = tuple(reversed(out))
        self._path_cache[key] = path
        return path

    def link(self, a: str, b: str) -> Link:
        """The link between adjacent nodes ``a`` and ``b``."""
        return self._link_of[(a, b)]

    def hops(self, path: tuple[str, ...]) -> list[Link]:
        """Links crossed by consecutive nodes of ``path``, in order."""
        return [self._link_of[(path[i], path[i + 1])] for i in range(len(path) - 1)]

    def path_arrays(self, path: tuple[str, ...]) -> PathArrays:
        """Prefix sums along ``path`` for O(1) transfer costs between positions."""
        hops = self.hops(path)
        inv_bw = np.array([1.0 / h.bandwidth_bps for h in hops])
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
