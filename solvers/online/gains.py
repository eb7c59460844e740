"""Gains of stored items under one set of option costs, and the slot cost.

Relative to serving everything at the repository (cost ``c0[p]`` per request
of pair ``p``: its best repository option), storing item k saves
``gain[o] = max(0, c0[p] - cost[o])`` per request on each option o of k. A
request takes the best stored option, so with storage ``x`` the gain of pair
p is ``max_{o of p, x[item o]} gain[o]`` (0 if none): a facility-location
function of ``x``. Per pair, options are kept sorted by gain in a padded
matrix (pad = a dummy item K that is always stored, gain 0), which makes the
integral gain one ``argmax`` and gives INFIDA's concave relaxation

    L(y) = sum_p r_p sum_j (G[p, j] - G[p, j+1]) * min(1, sum_{l <= j} y[I[p, l]])

and its supergradient in a few vectorised operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from .costs import OnlineTable


@dataclass(frozen=True, eq=False)
class Gains:
    """Per-request costs and gains of one resource state (see module docstring)."""

    table: OnlineTable
    cost: np.ndarray  # per option
    c0: np.ndarray  # per pair: best repository cost
    gain: np.ndarray  # per option (0 for repository options)
    G: np.ndarray  # pairs x width, sorted descending, padded with 0
    I: np.ndarray  # pairs x width, items (K = dummy, always stored)  # noqa: E741

    @classmethod
    def from_costs(cls, table: OnlineTable, cost: np.ndarray) -> Gains:
        P, K = table.n_pairs, table.n_items
        repo = table.opt_item < 0
        c0 = np.full(P, np.inf)
        np.minimum.at(c0, table.opt_pair[repo], cost[repo])
        gain = np.where(repo, 0.0, np.maximum(0.0, c0[table.opt_pair] - cost))
        cache = np.flatnonzero(~repo)
        per_pair = np.bincount(table.opt_pair[cache], minlength=P)
        width = int(per_pair.max()) + 1 if len(cache) else 1
        order = cache[np.lexsort((-gain[cache], table.opt_pair[cache]))]
        starts = np.concatenate([[0], np.cumsum(per_pair)[:-1]])
        rank = np.arange(len(order)) - starts[table.opt_pair[order]]
        G = np.zeros((P, width))
        I = np.full((P, width), K, dtype=np.int64)  # noqa: E741
        G[table.opt_pair[order], rank] = gain[order]
        I[table.opt_pair[order], rank] = table.opt_item[order]
        return cls(table, cost, c0, gain, G, I)

    # -- integral storage -----------------------------------------------------
    def _ext(self, x: np.ndarray) -> np.ndarray:
        return np.append(np.asarray(x, dtype=bool), True)

    def pair_gain(self, x: np.ndarray) -> np.ndarray:
        """Per-request gain of each pair with storage ``x`` (bool per item)."""
        stored = self._ext(x)[self.I]
        first = stored.argmax(axis=1)
        return self.G[np.arange(len(self.G)), first]

    def request_cost(self, x: np.ndarray, counts: np.ndarray) -> float:
        """Total cost of serving ``counts`` (per pair) with storage ``x``."""
        return float(counts @ (self.c0 - self.pair_gain(x)))

    def served_at_repository(self, x: np.ndarray, counts: np.ndarray) -> int:
        """How many of ``counts`` no stored item improves on (served by the repository)."""
        return int(counts[self.pair_gain(x) <= 0].sum())

    # -- fractional storage (INFIDA's relaxation) -----------------------------
    def _diffs(self) -> np.ndarray:
        return self.G - np.concatenate([self.G[:, 1:], np.zeros((len(self.G), 1))], axis=1)

    def relaxed_gain(self, y: np.ndarray, counts: np.ndarray) -> float:
        """The concave relaxation L(y) for fractional storage ``y`` in [0, 1]."""
        cum = np.cumsum(np.append(y, 1.0)[self.I], axis=1)
        return float(counts @ (self._diffs() * np.minimum(1.0, cum)).sum(axis=1))

    def supergradient(self, y: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """A supergradient of L at ``y`` (one entry per item)."""
        K = self.table.n_items
        cum = np.cumsum(np.append(y, 1.0)[self.I], axis=1)
        active = self._diffs() * (cum < 1.0 - 1e-12)
        suffix = np.cumsum(active[:, ::-1], axis=1)[:, ::-1]
        w = counts[:, None] * suffix
        return np.bincount(self.I.ravel(), weights=w.ravel(), minlength=K + 1)[:K]


def best_options(table: OnlineTable, gains: Gains) -> np.ndarray:
    """Indices of the options that are their pair's best (largest gain > 0) at their node."""
    cache = np.flatnonzero((table.opt_item >= 0) & (gains.gain > 0))
    nodes = table.item_node[table.opt_item[cache]]
    order = cache[np.lexsort((-gains.gain[cache], nodes, table.opt_pair[cache]))]
    key = table.opt_pair[order] * (len(table.nodes) + 1) + table.item_node[table.opt_item[order]]
    first = np.concatenate([[True], key[1:] != key[:-1]]) if len(order) else np.zeros(0, dtype=bool)
    return order[first]


def best_item_matrix(table: OnlineTable, gains: Gains) -> csr_matrix:
    """Pairs x items: 1 where the item is the pair's best option at its node (gain > 0).

    What a per-node cache (LRU, LFU) sees as "the model requested here".
    """
    best = best_options(table, gains)
    return csr_matrix((np.ones(len(best)), (table.opt_pair[best], table.opt_item[best])), shape=(table.n_pairs, table.n_items))
