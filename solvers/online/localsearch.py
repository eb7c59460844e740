"""Local-search rounding of ``omd``'s fractional storage (``rounding=local``).

The integral storage of slot t+1 starts from the storage of slot t and
improves the *integral* gain of the request counts observed so far (slots
0..t, under the gains of the last slot: a past-only, online statistic) by
moves at each node that must choose (memory below its models' bytes):

- one move per node per class and pass: store an item b, first evicting the
  stored items of least net loss per byte until b fits (net loss: what the
  eviction costs minus what b recovers of it on the same pairs); with no
  eviction needed this is a plain add, with one a swap;
- the best move of a node by its estimated change is applied, then the
  *exact* change of the integral gain is computed per node and a move is
  kept only when it exceeds ``tol`` (omd passes ``hysteresis`` x the mean
  gain per slot so far: storage moves on evidence, and rarely once the
  counts have settled);
- nodes are processed in classes that share no (origin, task) pair (a
  greedy colouring of the node-pair incidence), so the moves of one class
  are independent and their exact changes are per node.

Every move keeps each node's memory, so the storage stays memory-feasible;
only items of ``cand`` (omd: those the rent-or-buy gate allows) are added.
No randomness. :mod:`solvers.online.omd` adds the exact leader at doubling
slots and the fill by y.

Guarantee: none beyond the mirror ascent's own (the regret bound of the
fractional iterates). The rounding is a lazy, locally optimal follower of
the leader of the past counts; its benefit (regret/t against the exact
integral hindsight falling as the counts settle) is measured, not proved
(docs/online.md).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from .base import NodeGroups
from .gains import Gains


def node_classes(groups: NodeGroups) -> list[np.ndarray]:
    """Tight nodes in classes sharing no pair (greedy colouring, largest degree first)."""
    t = groups.table
    tight_nodes = np.flatnonzero(groups.tight_node)
    if not len(tight_nodes):
        return []
    cache = np.flatnonzero(t.opt_item >= 0)
    nodes = t.item_node[t.opt_item[cache]]
    keep = groups.tight_node[nodes]
    inc = csr_matrix((np.ones(int(keep.sum())), (nodes[keep], t.opt_pair[cache][keep])), shape=(len(t.nodes), t.n_pairs))
    inc.data[:] = 1.0
    adj = (inc @ inc.T).tocsr()
    colour = np.full(len(t.nodes), -1)
    degree = np.diff(adj.indptr)
    for v in sorted(tight_nodes, key=lambda v: (-degree[v], v)):
        used = {int(colour[u]) for u in adj.indices[adj.indptr[v] : adj.indptr[v + 1]] if colour[u] >= 0}
        c = 0
        while c in used:
            c += 1
        colour[v] = c
    return [np.flatnonzero(colour == c) for c in range(int(colour.max()) + 1)]


class LocalSearch:
    """Moves of the local-search rounding, vectorised over the nodes of a class."""

    def __init__(self, groups: NodeGroups):
        t = groups.table
        self.table, self.groups = t, groups
        self.classes = node_classes(groups)
        tight = np.flatnonzero(groups.tight_item)
        order = tight[np.lexsort((tight, t.item_node[tight]))]
        nodes = t.item_node[order]
        starts = np.flatnonzero(np.concatenate([[True], nodes[1:] != nodes[:-1]])) if len(order) else np.zeros(0, dtype=int)
        width = int(np.diff(np.append(starts, len(order))).max()) if len(order) else 0
        self.row = np.full(len(t.nodes), -1)
        self.row[nodes[starts]] = np.arange(len(starts))
        self.loc = np.full(t.n_items, -1)
        self.loc[order] = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
        # items per tight node, padded with K (a dummy item of size +inf that is never a candidate)
        self.items = np.full((len(starts), width), t.n_items)
        self.items[self.row[nodes], self.loc[order]] = order
        self.size = np.append(t.item_bytes, np.inf)
        self.cap = t.capacity_bytes * (1 + 1e-12)
        self.cache = np.flatnonzero(t.opt_item >= 0)
        nodes_o = t.item_node[t.opt_item[self.cache]]
        self.pair_node = csr_matrix((np.ones(len(self.cache)), (nodes_o, t.opt_pair[self.cache])), shape=(len(t.nodes), t.n_pairs))
        self.pair_node.data[:] = 1.0

    def improve(self, x: np.ndarray, cand: np.ndarray, weights: np.ndarray, gains: Gains, tol: float, rounds: int) -> np.ndarray:
        """Improve ``x`` by add/swap moves (candidates ``cand``; pair weights ``weights``)."""
        x = x.copy()
        for _ in range(rounds):
            moved = False
            for cls in self.classes:
                moved |= self._move(x, cand, weights, gains, cls, tol)
            if not moved:
                break
        return x

    def _state(self, x: np.ndarray, w: np.ndarray, gains: Gains):
        """Per pair: best stored gain, its item, second best; per item: eviction loss and add gain."""
        t = self.table
        K = t.n_items
        P = len(gains.G)
        ar = np.arange(P)
        stored = np.append(x, True)[gains.I]  # pairs x width (dummy K always stored)
        first = stored.argmax(axis=1)
        best1 = gains.G[ar, first]
        a_item = gains.I[ar, first]
        stored[ar, first] = False
        stored[:, -1] = True
        best2 = gains.G[ar, stored.argmax(axis=1)] if gains.G.shape[1] > 1 else np.zeros(P)
        loss = np.bincount(a_item, weights=w * (best1 - best2), minlength=K + 1)
        cache = self.cache
        add = np.bincount(t.opt_item[cache], weights=w[t.opt_pair[cache]] * np.maximum(0.0, gains.gain[cache] - best1[t.opt_pair[cache]]), minlength=K + 1)
        return best1, best2, a_item, loss, add

    def _move(self, x: np.ndarray, cand: np.ndarray, w: np.ndarray, gains: Gains, cls: np.ndarray, tol: float) -> bool:
        t = self.table
        K = t.n_items
        best1, best2, a_item, loss, add = self._state(x, w, gains)
        items = self.items[self.row[cls]]  # class nodes x width
        n, W = items.shape
        # relief[node, a, b]: what b recovers of a's eviction loss (b serves pairs whose best stored item is a)
        relief = np.zeros((n, W, W))
        o = self.cache
        o_item, o_pair, o_gain = t.opt_item[o], t.opt_pair[o], gains.gain[o]
        a_of = a_item[o_pair]
        pos = np.full(len(t.nodes), -1)
        pos[cls] = np.arange(len(cls))
        same = (a_of < K) & ~x[o_item] & (pos[t.item_node[o_item]] >= 0)
        same[same] = t.item_node[a_of[same]] == t.item_node[o_item[same]]
        if same.any():
            p, g = o_pair[same], o_gain[same]
            corr = w[p] * (np.maximum(best2[p], g) - best2[p] - np.maximum(0.0, g - best1[p]))
            np.add.at(relief, (pos[t.item_node[o_item[same]]], self.loc[a_of[same]], self.loc[o_item[same]]), corr)
        xs, cs = np.append(x, False), np.append(cand, False)
        held = xs[items]  # [node, a]
        room = self.cap[cls] - np.bincount(t.item_node, weights=t.item_bytes * x, minlength=len(t.nodes))[cls]
        sz = np.where(items < K, self.size[items], 0.0)
        ok_b = ~held & cs[items]
        # evict the stored items of least (loss - relief) per byte until b fits: [node, b, a] order
        net = np.where(held[:, :, None], loss[items][:, :, None] - relief, np.inf).transpose(0, 2, 1)  # [node, b, a]
        order = np.argsort(net / np.maximum(sz, 1e-300)[:, None, :], axis=2, kind="stable")
        nb = np.arange(n)[:, None, None]
        cum_bytes = np.cumsum(np.where(held, sz, 0.0)[nb, order], axis=2)
        cum_net = np.cumsum(np.where(held[nb, order], net[nb, np.arange(W)[None, :, None], order], 0.0), axis=2)
        need = sz - room[:, None]  # [node, b]
        count = np.where(need <= 0, 0, 1 + (cum_bytes < need[:, :, None] * (1 - 1e-12)).sum(axis=2))
        fits = ok_b & (count <= held.sum(axis=1)[:, None])
        lost = np.where(count > 0, np.take_along_axis(cum_net, np.maximum(count - 1, 0)[:, :, None], axis=2)[:, :, 0], 0.0)
        value = np.where(fits, add[items] - lost, -np.inf)
        b = value.argmax(axis=1)
        rows = np.flatnonzero(value[np.arange(n), b] > tol)
        if not len(rows):
            return False
        before = self._pair_gain(x, gains)
        new = x.copy()
        for r in rows:
            c = count[r, b[r]]
            new[items[r, order[r, b[r], :c]]] = False
            new[items[r, b[r]]] = True
        # exact change per node: each pair meets at most one node of the class
        diff = w * (self._pair_gain(new, gains) - before)
        node_gain = self.pair_node[cls] @ diff
        keep = rows[node_gain[rows] > tol]
        if not len(keep):
            return False
        for r in keep:
            sel = items[r][items[r] < K]
            x[sel] = new[sel]
        return True

    @staticmethod
    def _pair_gain(x: np.ndarray, gains: Gains) -> np.ndarray:
        return gains.pair_gain(x)
