"""One enumeration of a class's routes, ranked under several weightings of its per-request figures.

The route pool (:mod:`.pool`) takes a class's best routes by J, by each
objective and by their balanced sum. Each of these orders is a weighting
``w = (w_latency, w_inaccuracy, w_energy)`` of the same per-request figures
(:func:`placement.kernel.request_cost`), so the routes are the same and only
their order differs. :class:`SharedRanking` therefore computes every block of
routes (one model, the chains ending at a set of end nodes, a range of cut
choices: :func:`solvers.candidates.model_block`) at most once per class, and
answers :meth:`SharedRanking.top` for any number of weightings from the blocks
computed so far, expanding more (model, end node) pairs only where that
weighting's order needs them.

Exactness is that of :class:`solvers.candidates.CandidateSet`: every route of
a (model, end node) pair costs at least the pair's lower bound
(:func:`solvers.candidates.pair_bounds`, weighted by ``w``), so once the
``n``-th best route found scores at most the smallest bound of a pair not yet
expanded, no route elsewhere can enter the top ``n``. The result is the first
``n`` routes of ``candidate_routes`` under weights ``w`` (up to the order of
routes of equal score).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from placement.instance import Demand, Instance
from placement.kernel import SOLVER_RTOL, request_cost

from ..candidates import BLOCK_ENTRIES, Block, Candidate, model_block, pair_bounds
from ..origin_trees import origin_tree


class SharedRanking:
    """The routes of one demand class (SLO, accuracy floor, segment memory), enumerated once for many orders."""

    def __init__(self, instance: Instance, demand: Demand):
        self.instance = instance
        self.demand = demand
        self.tree = tree = origin_tree(instance, demand.origin)
        self.k_max = instance.max_segments
        self.slo = demand.max_latency_s * (1 + SOLVER_RTOL)
        self.models = [m for m in instance.models_for(demand) if m.accuracy >= demand.min_accuracy - 1e-12]
        lat, en, acc, mid, tgt = [], [], [], [], []
        for mi, model in enumerate(self.models):
            lb_lat, lb_en = pair_bounds(instance, tree, model)
            idx = np.flatnonzero(lb_lat <= self.slo)
            lat.append(lb_lat[idx])
            en.append(lb_en[idx])
            acc.append(np.full(len(idx), model.accuracy))
            mid.append(np.full(len(idx), mi, dtype=np.int64))
            tgt.append(idx)
        def cat(parts, dtype=float):
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        self.pair_lat, self.pair_en, self.pair_acc = cat(lat), cat(en), cat(acc)
        self.pair_model, self.pair_target = cat(mid, np.int64), cat(tgt, np.int64)
        self.expanded = np.zeros(len(self.pair_model), dtype=bool)
        # routes found so far, one part per block: latency, energy, accuracy, block number, flat indices in the block
        self.blocks: list[Block] = []
        self._parts: list[tuple[np.ndarray, np.ndarray, float, int, np.ndarray]] = []
        self._made: dict[tuple[int, int], Candidate] = {}
        #: Number of :func:`model_block` calls (blocks computed), for tests and notes.
        self.n_blocks = 0

    def _expand(self, pairs: np.ndarray) -> None:
        """Compute the blocks of the given (not yet expanded) pairs, grouped by model."""
        self.expanded[pairs] = True
        mids, tgts = self.pair_model[pairs], self.pair_target[pairs]
        for m in np.unique(mids):
            model = self.models[int(m)]
            targets = np.sort(tgts[mids == m])
            for k in range(1, min(self.k_max, model.n_layers) + 1):
                chains = self.tree.chains(k, targets)
                if len(chains) == 0:
                    continue
                n_cuts = math.comb(model.n_layers - 1, k - 1)
                step = max(1, BLOCK_ENTRIES // len(chains))
                for start in range(0, n_cuts, step):
                    blk = model_block(self.instance, self.tree, model, chains, None, self.slo, None, (start, min(n_cuts, start + step)))
                    self.n_blocks += 1
                    flat = np.flatnonzero(blk.ok.ravel() & np.isfinite(blk.cost.ravel()))
                    if len(flat):
                        b = len(self.blocks)
                        self.blocks.append(blk)
                        self._parts.append((blk.latency_s.ravel()[flat], blk.energy_j.ravel()[flat], float(model.accuracy), b, flat))

    # -- ranking ------------------------------------------------------------------------------------

    def top(self, weights: tuple[float, float, float], n: int) -> list[Candidate]:
        """The best ``n`` routes by ``request_cost(weights, ...)`` (fewer when the class has fewer), best first.

        Each candidate's ``score`` is its weighted figure; ``cost`` is the instance's J term.
        """
        return list(self.iterate(weights, n))

    def iterate(self, weights: tuple[float, float, float], n: int) -> Iterator[Candidate]:
        """The best ``n`` routes by ``request_cost(weights, ...)``, best first, lazily (ties: the order found).

        Each block's routes are scored once per call; only its best ``n`` (fewer as
        routes are yielded) can enter the result, so only those wait in the queue.
        """
        lb = request_cost(weights, self.pair_lat, self.pair_acc, self.pair_en)
        order = np.lexsort((self.pair_target, self.pair_model, lb))  # as candidate_routes orders its pairs
        step, count, seen = 32, 0, 0
        w_score, w_part, w_idx = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)  # the queue
        while count < n:
            need = n - count
            cap = np.inf if len(w_score) < need else float(w_score.max())  # a route must beat the queue's worst
            new = [(sc, p, loc) for p in range(seen, len(self._parts)) for sc, loc in [self._best(p, weights, need, cap)]]
            seen = len(self._parts)
            if new:
                w_score = np.concatenate([w_score, *(sc for sc, _, _ in new)])
                w_part = np.concatenate([w_part, *(np.full(len(loc), p, np.int64) for _, p, loc in new)])
                w_idx = np.concatenate([w_idx, *(loc for _, _, loc in new)])
                if len(w_score) > need:
                    keep = np.argpartition(w_score, need - 1)[:need]
                    w_score, w_part, w_idx = w_score[keep], w_part[keep], w_idx[keep]
            rest = order[~self.expanded[order]]
            next_lb = lb[rest[0]] if len(rest) else np.inf
            ready = np.flatnonzero(w_score <= next_lb)
            ready = ready[np.lexsort((w_idx[ready], w_part[ready], w_score[ready]))]
            for i in ready.tolist()[:need]:
                yield self._candidate(int(w_part[i]), int(w_idx[i]), float(w_score[i]))
                count += 1
            if count >= n or not len(rest):
                return
            left = np.ones(len(w_score), dtype=bool)
            left[ready] = False
            w_score, w_part, w_idx = w_score[left], w_part[left], w_idx[left]
            self._expand(rest[:step])
            step *= 2

    def _best(self, p: int, weights, need: int, cap: float) -> tuple[np.ndarray, np.ndarray]:
        """Scores and local indices of part ``p``'s best ``need`` routes under ``weights`` (of those scoring at most ``cap``)."""
        lat, en, acc, _, _ = self._parts[p]
        score = request_cost(weights, lat, acc, en)
        loc = np.flatnonzero(score <= cap) if cap < np.inf else np.arange(len(score))
        if len(loc) > need:
            loc = loc[np.argpartition(score[loc], need - 1)[:need]]
        return score[loc], loc

    def _candidate(self, p: int, i: int, score: float) -> Candidate:
        cand = self._made.get((p, i))
        if cand is None:
            _, _, _, b, flat = self._parts[p]
            blk = self.blocks[b]
            chain, cut = divmod(int(flat[i]), blk.cost.shape[1])
            cand = Candidate(blk.route(self.demand.index, chain, cut), float(blk.latency_s[chain, cut]), float(blk.energy_j[chain, cut]), float(blk.cost[chain, cut]), score, tuple(int(v) for v in blk.chains[chain]), tuple(blk.bounds(cut)))
            self._made[(p, i)] = cand
        return replace(cand, score=score) if cand.score != score else cand


__all__ = ["SharedRanking"]
