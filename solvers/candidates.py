"""Fast enumeration and costing of candidate routes for one demand class.

Route figures are computed in vectorised form from prefix sums (per-device
cumulative layer latency along the path, cumulative inverse bandwidth,
latency and energy per byte along the path), over all cut positions at once.
The result is checked against :func:`placement.routes.route_figures`, the
evaluator's definition, in the tests.

End nodes whose round trip alone (link latencies to them and back) exceeds
the class's SLO are skipped: every route ending at ``t`` sends something to
``t`` and the result back, so it crosses every link of the path twice.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from placement.instance import Demand, Instance, Model
from placement.routes import Route, Segment


@functools.lru_cache(maxsize=256)
def cut_combinations(n_layers: int, k: int) -> np.ndarray:
    """All increasing (k-1)-tuples of cut points in 1..n-1, as an int array (M, k-1)."""
    if k == 1:
        return np.zeros((1, 0), dtype=np.int64)
    combos = list(itertools.combinations(range(1, n_layers), k - 1))
    return np.array(combos, dtype=np.int64).reshape(len(combos), k - 1)


@dataclass
class Block:
    """Routes sharing model, path and computing positions; one row per cut choice."""

    model: Model
    path: tuple[str, ...]
    positions: tuple[int, ...]
    cuts: np.ndarray  # (M, k-1)
    latency_s: np.ndarray
    energy_j: np.ndarray
    cost: np.ndarray

    def route(self, demand: int, row: int) -> Route:
        n = self.model.n_layers
        bounds = [0, *self.cuts[row].tolist(), n]
        return Route(
            demand,
            self.model.id,
            tuple(Segment(self.path[p], bounds[s], bounds[s + 1] - 1) for s, p in enumerate(self.positions)),
        )


@dataclass
class Candidate:
    route: Route
    latency_s: float
    energy_j: float
    cost: float


class CandidateSet:
    """Candidate routes of one demand class, cheapest first."""

    def __init__(self, demand: Demand, blocks: list[Block]):
        self.demand = demand
        self.blocks = blocks
        if blocks:
            self._cost = np.concatenate([b.cost for b in blocks])
            self._block = np.concatenate([np.full(len(b.cost), i) for i, b in enumerate(blocks)])
            self._row = np.concatenate([np.arange(len(b.cost)) for b in blocks])
            self._order = np.argsort(self._cost, kind="stable")
        else:
            self._order = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._order)

    def __iter__(self) -> Iterator[Candidate]:
        for idx in self._order:
            b = self.blocks[self._block[idx]]
            r = self._row[idx]
            yield Candidate(b.route(self.demand.index, int(r)), float(b.latency_s[r]), float(b.energy_j[r]), float(b.cost[r]))


def _block(instance: Instance, model: Model, path: tuple[str, ...], pa, positions: tuple[int, ...]) -> Block:
    k = len(positions)
    n = model.n_layers
    cuts = cut_combinations(n, k)
    m = cuts.shape[0]
    bounds = np.concatenate([np.zeros((m, 1), np.int64), cuts, np.full((m, 1), n, np.int64)], axis=1)
    send_bytes = np.concatenate([[model.input_bytes], model.out_bytes])  # bytes entering layer c
    latency = np.zeros(m)
    energy = np.zeros(m)
    prev = 0
    for s, p in enumerate(positions):
        dev = instance.node[path[p]].device
        c = model.cum_latency(dev)
        t = c[bounds[:, s + 1]] - c[bounds[:, s]]
        b = send_bytes[bounds[:, s]]
        tr = b * (pa.cum_inv_bw[p] - pa.cum_inv_bw[prev]) + (pa.cum_latency[p] - pa.cum_latency[prev])
        latency += t + tr
        energy += t * dev.active_power_w + b * (pa.cum_energy[p] - pa.cum_energy[prev])
        prev = p
    result = float(model.out_bytes[-1])
    latency += result * pa.cum_inv_bw[prev] + pa.cum_latency[prev]
    energy += result * pa.cum_energy[prev]
    cost = instance.w_latency * latency + instance.w_inaccuracy * (1.0 - model.accuracy) + instance.w_energy * energy
    return Block(model, path, positions, cuts, latency, energy, cost)


def candidate_routes(
    instance: Instance,
    demand: Demand,
    *,
    targets: list[str] | None = None,
    max_segments: int | None = None,
    respect_slo: bool = True,
    respect_accuracy: bool = True,
) -> CandidateSet:
    """Every route of ``demand`` ending at one of ``targets`` (default: all nodes
    whose round trip fits the SLO), with at most ``max_segments`` segments,
    meeting the accuracy floor and the SLO unless told otherwise.
    """
    k_max = instance.max_segments if max_segments is None else max_segments
    reach = instance.network.reachable(demand.origin)
    if targets is None:
        targets = [t for t in reach if not respect_slo or 2 * reach[t] <= demand.max_latency_s * (1 + 1e-9)]
    targets = sorted(t for t in targets if t in reach)
    models = [m for m in instance.models_for(demand) if not respect_accuracy or m.accuracy >= demand.min_accuracy - 1e-12]
    blocks = []
    for t in targets:
        path = instance.path(demand.origin, t)
        pa = instance.network.path_arrays(path)
        last = len(path) - 1
        for model in models:
            for k in range(1, min(k_max, model.n_layers) + 1):
                for inner in itertools.combinations(range(last), k - 1):
                    blk = _block(instance, model, path, pa, inner + (last,))
                    if respect_slo:
                        keep = blk.latency_s <= demand.max_latency_s * (1 + 1e-9)
                        if not keep.any():
                            continue
                        if not keep.all():
                            blk = Block(blk.model, blk.path, blk.positions, blk.cuts[keep], blk.latency_s[keep], blk.energy_j[keep], blk.cost[keep])
                    blocks.append(blk)
    return CandidateSet(demand, blocks)
