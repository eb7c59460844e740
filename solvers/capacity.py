"""Capacity bookkeeping for methods that place classes one at a time.

:class:`Capacity` records what the routes chosen so far use (compute
utilization per node, bytes/s per link direction, stored layers and their
memory) and answers whether one more route fits, with the capacity rule of
:func:`placement.kernel.within` (at the solvers' tolerance), the same rule the
evaluator applies.
"""

from __future__ import annotations

import numpy as np

from placement.instance import Instance
from placement.kernel import SOLVER_RTOL, within

from .candidates import Residual
from .columns import Column


class Capacity:
    """What earlier routes used: compute, link loads, stored layers and their memory."""

    def __init__(self, instance: Instance):
        self.instance = instance
        self.U = instance.max_utilization
        n = len(instance.nodes)
        self.busy = np.zeros(n)
        self.mem_used = np.zeros(n)
        self.memory = np.array([node.memory_bytes for node in instance.nodes])
        self.link_load = np.zeros(2 * len(instance.links))
        self.bandwidth = instance.network.dir_bandwidth
        self.stored: dict[tuple[int, str], np.ndarray] = {}

    def residual(self, rate: float) -> Residual:
        return Residual(
            rate=rate,
            compute=self.U - self.busy,
            link=self.U * self.bandwidth - self.link_load,
            memory=self.memory - self.mem_used,
            stored=self.stored,
        )

    def fits(self, col: Column, rate: float) -> bool:
        """Whether one more route (as a column) fits the capacity left."""
        model = self.instance.models[col.route.model]
        for v, t in col.compute:
            if not within(self.busy[v] + rate * t, self.U, SOLVER_RTOL):
                return False
        load = {}
        for d, nbytes in col.links:
            load[d] = load.get(d, 0.0) + rate * nbytes
        for d, extra in load.items():
            if not within(self.link_load[d] + extra, self.U * self.bandwidth[d], SOLVER_RTOL):
                return False
        for seg in col.route.segments:
            node = self.instance.node[seg.node]
            have = self.stored.get((node.index, model.id))
            layers = model.param_bytes[seg.first : seg.last + 1]
            new = layers if have is None else layers[~have[seg.first : seg.last + 1]]
            if not within(self.mem_used[node.index] + float(new.sum()), self.memory[node.index], SOLVER_RTOL):
                return False
            if not within(model.segment_peak_activation(seg.first, seg.last), node.ram_bytes, SOLVER_RTOL):
                return False
        return True

    def commit(self, col: Column, rate: float) -> None:
        model = self.instance.models[col.route.model]
        for v, t in col.compute:
            self.busy[v] += rate * t
        for d, nbytes in col.links:
            self.link_load[d] += rate * nbytes
        for seg in col.route.segments:
            v = self.instance.node[seg.node].index
            have = self.stored.setdefault((v, model.id), np.zeros(model.n_layers, dtype=bool))
            new = ~have[seg.first : seg.last + 1]
            self.mem_used[v] += float(model.param_bytes[seg.first : seg.last + 1][new].sum())
            have[seg.first : seg.last + 1] = True
