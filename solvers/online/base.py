"""What every online policy gets and provides.

The runner (:mod:`solvers.online.runner`) asks a policy for its storage before
each slot (:meth:`Policy.storage`), charges the slot, then shows the policy
what happened (:meth:`Policy.observe`: the slot's request counts per pair and
the slot's :class:`~solvers.online.gains.Gains`, which include the resource
factors in force). Storage is a boolean vector over the table's items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from placement.traces import DemandTrace

from .costs import OnlineTable
from .gains import Gains


@dataclass(frozen=True, eq=False)
class Env:
    """The setting a policy runs in.

    ``trace`` and ``epochs`` are given to clairvoyant baselines only (they
    read the future); ``epochs`` lists ``(first_slot, Gains)`` for every
    stretch of constant resource factors.
    """

    table: OnlineTable
    nominal: Gains
    n_slots: int
    w_update: float
    seed: int = 0
    time_limit_s: float | None = None
    trace: DemandTrace | None = None
    epochs: tuple[tuple[int, Gains], ...] = ()


class Policy:
    """Base class: stores nothing and learns nothing."""

    name = "base"

    def __init__(self, env: Env, **options):
        self.env = env
        self.table = env.table
        self.options = options
        self.x = np.zeros(env.table.n_items, dtype=bool)

    def storage(self, t: int) -> np.ndarray:
        """Boolean storage over items for slot ``t`` (memory-feasible)."""
        return self.x

    def observe(self, t: int, counts: np.ndarray, gains: Gains) -> None:
        """Learn from slot ``t``: its requests per pair and its gains."""

    def info(self) -> dict:
        """Figures about the run worth keeping (constants of a bound, step size)."""
        return {}


class NodeGroups:
    """Items grouped by node, with the nodes whose memory cannot hold all their items."""

    def __init__(self, table: OnlineTable):
        self.table = table
        n_nodes = len(table.nodes)
        self.total_bytes = np.bincount(table.item_node, weights=table.item_bytes, minlength=n_nodes)
        self.tight_node = self.total_bytes > table.capacity_bytes * (1 + 1e-12)
        self.tight_item = self.tight_node[table.item_node]
        items = np.flatnonzero(self.tight_item)
        self.node_items = {int(v): items[table.item_node[items] == v] for v in np.flatnonzero(self.tight_node)}

    def greedy_fill(self, priority: np.ndarray, eligible: np.ndarray) -> np.ndarray:
        """Per node, the eligible items by decreasing priority, each taken if it fits.

        At nodes that hold all their items every eligible item is kept; at
        the others an item that does not fit in the memory left is skipped
        and the next one tried. Vectorised over nodes: one pass per rank
        (at most the number of items of the fullest node).
        """
        t = self.table
        x = eligible & ~self.tight_item
        cand = np.flatnonzero(eligible & self.tight_item)
        if not len(cand):
            return x
        order = cand[np.lexsort((-priority[cand], t.item_node[cand]))]
        nodes = t.item_node[order]
        starts = np.flatnonzero(np.concatenate([[True], nodes[1:] != nodes[:-1]]))
        lengths = np.diff(np.append(starts, len(order)))
        room = t.capacity_bytes[nodes[starts]] * (1 + 1e-12)
        for r in range(int(lengths.max())):
            live = np.flatnonzero(lengths > r)
            k = order[starts[live] + r]
            ok = t.item_bytes[k] <= room[live]
            x[k[ok]] = True
            room[live[ok]] -= t.item_bytes[k[ok]]
        return x

    def feasible(self, x: np.ndarray) -> bool:
        """Whether storage ``x`` fits every node's memory."""
        used = np.bincount(self.table.item_node, weights=self.table.item_bytes * x, minlength=len(self.table.nodes))
        return bool(np.all(used <= self.table.capacity_bytes * (1 + 1e-9)))
