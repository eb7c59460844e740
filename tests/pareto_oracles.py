"""The enumerated Pareto front of a tiny unsplittable instance (every plan tried).

Every combination of one valid route per class (:func:`oracles.valid_routes`,
the evaluator's own route enumeration) whose storage fits every node's memory
and whose loads fit every node and link is a feasible plan; its objective
vector F is computed from the route figures alone. The front is the
non-dominated set of those vectors. Shares no code with the solvers.
"""

from __future__ import annotations

import itertools

import numpy as np
from oracles import combo_fits, valid_routes

from placement import Instance

NAMES = ("latency", "inaccuracy", "energy", "network")


def feasible_vectors(inst: Instance, objectives: list[str]) -> np.ndarray:
    """F (named objectives) of every feasible unsplittable plan."""
    routes = valid_routes(inst)
    classes = [d.index for d in inst.demands]
    L = inst.total_rate_rps
    out = []
    for combo in itertools.product(*(routes[c] for c in classes)):
        if not combo_fits(inst, classes, combo):
            continue
        F = np.zeros(4)
        for c, (_, fig) in zip(classes, combo):
            rate = inst.demands[c].rate_rps
            F += [rate * fig.latency_s / L, rate * (1 - fig.accuracy) / L, rate * fig.energy_j / L, rate * sum(fig.link_bytes.values())]
        out.append(F[[NAMES.index(o) for o in objectives]])
    return np.array(out).reshape(len(out), len(objectives))


def enumerated_front(inst: Instance, objectives: list[str]) -> np.ndarray:
    """The distinct non-dominated objective vectors, sorted lexicographically."""
    F = feasible_vectors(inst, objectives)
    keep = []
    for i, f in enumerate(F):
        dominated = np.any(np.all(F <= f + 1e-12 * np.abs(f), axis=1) & np.any(F < f - 1e-12 * np.abs(f), axis=1))
        if not dominated and not any(np.allclose(f, F[j], rtol=1e-9, atol=0) for j in keep):
            keep.append(i)
    front = F[keep]
    return front[np.lexsort(front.T[::-1])] if len(front) else front
