"""The route pool of the Pareto methods: candidate routes per class with their objective vectors.

Every Pareto method chooses among the routes of a :class:`RoutePool`. A
class's pool holds *every* route of the class (meeting its SLO, its accuracy
floor and the per-segment memory limits) when there are at most
``max_routes`` of them; the pool is then **complete** and a method exact over
the pool is exact for the instance. Otherwise the pool keeps, in turn, the
best routes by the instance's J, by each objective, and by their balanced sum
(each objective relative to its value on the class's best route by J: the
compromise routes the middle of a front needs), ``max_routes`` in all;
exactness then holds only within the pool (``epsilon`` and ``weights`` price
further routes in, :mod:`.pricing`). The streams by J, latency, inaccuracy,
energy and the balanced sum are weightings of the same per-request figures:
each class's routes are enumerated once and ranked under all of them
(:class:`.streams.SharedRanking`); a stream by network load (bytes over
links) is enumerated on its own.

Per route the pool keeps its per-request figures from the cost kernel
(:class:`placement.kernel.RouteCosts`): latency, accuracy, energy and bytes
summed over every link direction crossed; :attr:`RoutePool.C` turns them into
each route's contribution to F when it carries its whole class
(``rate / L`` x per-request figure for the means, ``rate`` x bytes for the
network load), so F of a plan is the share-weighted sum of its routes' rows.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import numpy as np

from placement.instance import Instance
from placement.kernel import OBJECTIVES, RouteCosts, request_cost
from placement.routes import route_figures

from ..candidates import Prices, candidate_routes
from ..columns import Column, column_from_candidate, storage_nodes
from ..origin_trees import origin_tree
from .streams import SharedRanking


def _ranked(instance: Instance, cls: int, objective: str | None):
    """Candidate routes of a class best-first by one objective (None: the instance's J)."""
    demand = instance.demands[cls]
    if objective is None:
        return candidate_routes(instance, demand).iterate()
    if objective == "network":
        # every byte over every link direction priced at 1; J only breaks ties
        n_dirs = 2 * len(instance.links)
        prices = Prices(1e-9, 0.0, np.zeros(len(instance.nodes)), np.ones(n_dirs), {}, {})
        return candidate_routes(instance, demand, prices=prices).iterate()
    other = copy.copy(instance)
    other.w_latency, other.w_inaccuracy, other.w_energy = STREAM_WEIGHTS[objective]
    return candidate_routes(other, demand).iterate()


@dataclass
class RoutePool:
    """Candidate routes of every class (see the module docstring).

    Attributes
    ----------
    columns : list of Column
        Every route of the pool, class by class (their ``cost`` is the instance's J term).
    cls : numpy.ndarray
        Class of each route.
    start : numpy.ndarray
        ``start[c]:start[c+1]`` are the routes of class ``c``.
    C : numpy.ndarray
        (routes, 4): each route's contribution to F (``OBJECTIVES`` order) when it carries its class.
    complete : bool
        Whether every class's pool holds every one of its routes.
    costs : RouteCosts
        The kernel's arrays of the pool's routes.
    """

    instance: Instance
    columns: list[Column]
    cls: np.ndarray
    start: np.ndarray
    C: np.ndarray
    complete: bool
    costs: RouteCosts

    @property
    def n_routes(self) -> int:
        return len(self.columns)

    def routes_of(self, c: int) -> range:
        return range(int(self.start[c]), int(self.start[c + 1]))

    @classmethod
    def build(cls, instance: Instance, max_routes: int = 200, objectives: tuple[str, ...] = OBJECTIVES, *, shared: bool = True) -> RoutePool:
        """The pool of ``instance``: complete where a class has at most ``max_routes`` routes.

        ``shared`` (default): each class's routes are enumerated once and ranked
        under every stream (:class:`.streams.SharedRanking`); without, one
        best-first enumeration per stream (the same routes up to ties; always
        so when ``network`` is an objective, whose stream prices link bytes).
        """
        store = storage_nodes(instance)
        columns: list[Column] = []
        start = [0]
        complete = True
        shared = shared and "network" not in objectives
        for c, demand in enumerate(instance.demands):
            tree = origin_tree(instance, demand.origin)
            if shared:
                ranking = SharedRanking(instance, demand)
                first = ranking.top(instance.weights, max_routes + 1)
            else:
                first = list(itertools.islice(_ranked(instance, c, None), max_routes + 1))
            if len(first) > max_routes:
                complete = False
                streams = _shared_streams(ranking, max_routes, objectives, first) if shared else _separate_streams(instance, c, objectives, first)
                first = _mixed(streams, max_routes)
            columns.extend(column_from_candidate(instance, tree, cand, store) for cand in first)
            start.append(len(columns))
        C, costs = contributions(instance, columns)
        klass = np.array([col.cls for col in columns], dtype=np.int64)
        return cls(instance, columns, klass, np.array(start, dtype=np.int64), C, complete, costs)


def contributions(instance: Instance, columns: list[Column]) -> tuple[np.ndarray, RouteCosts]:
    """Each route's contribution to F (``OBJECTIVES`` order) when it carries its class, from the cost kernel.

    Sets every column's ``cost`` to the instance's J term (routes found under
    other weights or prices carry theirs).
    """
    figures = [route_figures(instance, col.route) for col in columns]
    costs = RouteCosts.pack(instance, figures)
    klass = np.array([col.cls for col in columns], dtype=np.int64)
    r = instance.rates[klass] if len(klass) else np.zeros(0)
    L = instance.total_rate_rps
    cost = request_cost(instance.weights, costs.latency_s(), costs.accuracy, costs.energy_j)
    for col, j in zip(columns, cost):
        col.cost = float(j)
    if not len(klass):
        return np.zeros((0, 4)), costs
    return np.stack([r * costs.latency_s() / L, r * (1.0 - costs.accuracy) / L, r * costs.energy_j / L, r * costs.network_bytes], axis=1), costs


#: Weights (latency, inaccuracy, energy) of each objective's stream: the objective, the others as tie-break.
STREAM_WEIGHTS = {"latency": (1.0, 1e-3, 1e-3), "inaccuracy": (1e-3, 1.0, 1e-3), "energy": (1e-3, 1e-3, 1.0)}


def balanced_weights(instance: Instance, objectives: tuple[str, ...], ref) -> tuple[float, float, float]:
    """Weights of the balanced stream: each objective relative to its value on ``ref`` (the class's best route by J)."""
    model = instance.models[ref.route.model]
    figures = {"latency": ref.latency_s, "inaccuracy": 1.0 - model.accuracy, "energy": ref.energy_j}
    return tuple(1.0 / figures[o] if o in objectives and figures[o] > 0 else 0.0 for o in ("latency", "inaccuracy", "energy"))


def _balanced(instance: Instance, cls: int, objectives: tuple[str, ...], ref):
    """Candidate routes of a class best-first by the sum of the objectives, each relative to
    its value on ``ref`` (the class's best route by J): the compromise routes between the
    single-objective streams, which the middle of a front needs."""
    demand = instance.demands[cls]
    tree = origin_tree(instance, demand.origin)
    other = copy.copy(instance)
    other.w_latency, other.w_inaccuracy, other.w_energy = balanced_weights(instance, objectives, ref)
    if "network" not in objectives:
        return candidate_routes(other, demand).iterate()
    sent = sum(b for _, b in column_from_candidate(instance, tree, ref, set()).links)
    n_dirs = 2 * len(instance.links)
    prices = Prices(1.0, 0.0, np.zeros(len(instance.nodes)), np.full(n_dirs, 1.0 / sent if sent > 0 else 0.0), {}, {})
    return candidate_routes(other, demand, prices=prices).iterate()


def _separate_streams(instance: Instance, c: int, objectives: tuple[str, ...], by_j: list) -> list:
    """One best-first enumeration per stream: by J (``by_j``, already enumerated), each objective, the balanced sum."""
    return [iter(by_j)] + [_ranked(instance, c, o) for o in objectives] + [_balanced(instance, c, objectives, by_j[0])]


def _shared_streams(ranking: SharedRanking, max_routes: int, objectives: tuple[str, ...], by_j: list) -> list:
    """The same streams as :func:`_separate_streams` (objectives without ``network``), from one enumeration.

    Round robin over the streams with duplicates skipped takes at most
    ``max_routes`` routes of any one stream, so each is ranked that deep.
    """
    weights = [STREAM_WEIGHTS[o] for o in objectives] + [balanced_weights(ranking.instance, objectives, by_j[0])]
    return [iter(by_j)] + [ranking.iterate(w, max_routes) for w in weights]


def _mixed(streams: list, max_routes: int) -> list:
    """Up to ``max_routes`` distinct routes, taken from the streams in turn (a stream's routes already taken are skipped)."""
    seen, out = set(), []
    live = list(streams)
    while live and len(out) < max_routes:
        for it in list(live):
            for cand in it:
                if cand.route not in seen:
                    seen.add(cand.route)
                    out.append(cand)
                    break
            else:
                live.remove(it)
            if len(out) >= max_routes:
                break
    return out


def objective_indices(objectives: list[str]) -> np.ndarray:
    """Columns of F (``OBJECTIVES`` order) of the named objectives."""
    return np.array([OBJECTIVES.index(o) for o in objectives], dtype=np.int64)


__all__ = ["RoutePool", "contributions", "objective_indices"]
