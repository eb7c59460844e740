"""Congestion (``options.queueing: ps``) for the methods that plan for it.

Every node and every link direction is a processor-sharing server. With
``a[s, r]`` the service a request of route r asks of server s (compute
seconds at a node, bytes / bandwidth on a link direction) and ``flow[r]`` the
route's requests per second, the server's load is ``rho[s] = sum_r flow[r] *
a[s, r]`` and the waiting-inclusive time spent there per second, summed over
all requests, is ``rho / (1 - rho)`` (Kleinrock). Writing ``c[r]`` for a
route's load-independent per-request cost (service times included, as the
candidate routes cost them),

    L x J = sum_r flow[r] * c[r] + w_latency * sum_s excess(rho[s]),
    excess(rho) = rho / (1 - rho) - rho = rho**2 / (1 - rho),

convex in the flows: ``excess`` is the waiting only. Its slope
``1 / (1 - rho)**2 - 1`` is the congestion price of one unit of load at a
server, used to price routes (column generation) in ``relax`` and ``milp``.
Servers are numbered nodes first (instance node index), then link
directions (``n_nodes + direction index``).

Plans are valued here with the cost kernel (:mod:`placement.kernel`), exactly
as the evaluator values them: waiting-inclusive latency, J and the SLO check.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from placement.build import RouteChoice, usage
from placement.instance import Instance
from placement.kernel import SOLVER_RTOL, RouteCosts, loads, request_cost, within
from placement.routes import Route


def with_queueing(instance: Instance, queueing: str) -> Instance:
    """The same instance under another congestion model (shares topology and demand)."""
    other = copy.copy(instance)
    other.queueing = queueing
    return other


def excess(rho):
    """Waiting per second at a processor-sharing server of load ``rho``: ``rho**2 / (1 - rho)``."""
    rho = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(rho < 1.0, rho * rho / np.maximum(1.0 - rho, 0.0), np.inf)


def excess_slope(rho):
    """Derivative of :func:`excess`: ``1 / (1 - rho)**2 - 1`` (the congestion price per unit of load)."""
    rho = np.asarray(rho, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(rho < 1.0, 1.0 / np.maximum(1.0 - rho, 0.0) ** 2 - 1.0, np.inf)


def server_bandwidth(instance: Instance) -> np.ndarray:
    """Per server: 1 for nodes (service in seconds), the bandwidth for link directions (service in bytes)."""
    return np.concatenate([np.ones(len(instance.nodes)), instance.network.dir_bandwidth])


@dataclass(frozen=True)
class Valued:
    """A set of routes with shares, valued as the evaluator values it.

    ``choices`` carry each route's waiting-inclusive per-request cost and
    latency (so ``build_plan``'s objective is J under the instance's
    queueing); ``slo_violations`` and ``overloaded`` list the positions of
    routes whose latency exceeds their SLO and the servers above
    ``max_utilization`` (empty for a feasible plan).
    """

    objective: float
    choices: list[RouteChoice]
    rho: np.ndarray
    slo_violations: list[int]
    overloaded: list[int]

    @property
    def feasible(self) -> bool:
        return not self.slo_violations and not self.overloaded


def value_routes(instance: Instance, routes: list[tuple[Route, float]]) -> Valued:
    """Value ``(route, share)`` pairs by the cost kernel under the instance's queueing."""
    figs = [usage(instance, r) for r, _ in routes]
    costs = RouteCosts.pack(instance, figs)
    share = np.array([s for _, s in routes], dtype=float)
    flow = instance.rates[costs.demand] * share if routes else np.zeros(0)
    ld = loads(instance, costs, flow)
    lat = costs.latency_s(ld.node_factor, ld.link_factor)
    cost = request_cost(instance.weights, lat, costs.accuracy, costs.energy_j)
    objective = float(flow @ cost) / instance.total_rate_rps if routes else float("inf")
    slo = [k for k, (r, s) in enumerate(routes) if s > 0 and not within(lat[k], instance.demands[r.demand].max_latency_s, SOLVER_RTOL)]
    rho = np.concatenate([ld.node_utilization, ld.link_utilization])
    over = [int(s) for s in np.flatnonzero(~within(rho, instance.max_utilization, SOLVER_RTOL))]
    choices = [RouteChoice(r, s, float(cost[k]), float(lat[k]), float(costs.energy_j[k])) for k, (r, s) in enumerate(routes)]
    return Valued(objective, choices, rho, slo, over)


#: Margin kept below each SLO in the SLO rows (relative to the SLO), so that a plan
#: whose shares are rounded to the solver's accuracy still meets it.
SLO_MARGIN = 1e-6


def slo_budget(instance: Instance, columns: list) -> np.ndarray:
    """Per column (:class:`solvers.columns.Column`): the waiting it may meet, ``max_latency_s - latency at zero load``, less a margin."""
    slo = np.array([instance.demands[c.cls].max_latency_s for c in columns])
    zero_load = np.array([c.latency_s for c in columns])
    return slo * (1.0 - SLO_MARGIN) - zero_load
