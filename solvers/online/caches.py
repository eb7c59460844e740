"""``lru`` and ``lfu``: per-node model caches within memory.

Every node on a request's path to its repository sees the request as a
request for the pair's best model at that node (the option of largest gain
there; none if no model there beats the repository). After each slot a node
keeps the models requested most recently (LRU; ties by the slot's count) or
most often so far (LFU), in that order: a model that does not fit in the
memory left is skipped and the next one tried (so a large model never keeps
smaller, less recent ones out). Nodes whose memory holds all their items keep
every model ever requested there.
"""

from __future__ import annotations

import numpy as np

from .base import Env, NodeGroups, Policy
from .gains import Gains, best_item_matrix
from .registry import register_policy


class _Cache(Policy):
    def __init__(self, env: Env, **options):
        super().__init__(env, **options)
        self.groups = NodeGroups(self.table)
        self._gains: Gains | None = None
        self._B = None
        self.freq = np.zeros(self.table.n_items)
        self.last = np.full(self.table.n_items, -1.0)

    def _item_counts(self, counts: np.ndarray, gains: Gains) -> np.ndarray:
        if gains is not self._gains:
            self._gains, self._B = gains, best_item_matrix(self.table, gains).T.tocsr()
        return self._B @ counts.astype(float)

    def observe(self, t: int, counts: np.ndarray, gains: Gains) -> None:
        c = self._item_counts(counts, gains)
        self.freq += c
        seen = c > 0
        # LRU key: slot of last use, ties by that slot's count (scaled below 1)
        self.last[seen] = t + c[seen] / (c.max() + 1.0)
        self.x = self.groups.greedy_fill(self.priority(), self.last >= 0)

    def priority(self) -> np.ndarray:
        raise NotImplementedError


@register_policy("lru", "per-node least-recently-used model caches within memory")
class LRU(_Cache):
    def priority(self) -> np.ndarray:
        return self.last


@register_policy("lfu", "per-node least-frequently-used model caches within memory (counts since slot 0)")
class LFU(_Cache):
    def priority(self) -> np.ndarray:
        return self.freq
