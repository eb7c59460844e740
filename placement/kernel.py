"""The cost kernel: every formula of the cost model, written once.

Per request, a route uses compute seconds at nodes and bytes on link
directions; from those, the kernel derives everything else, vectorised over
many routes with numpy:

- transfer time of ``b`` bytes over hops with summed inverse bandwidth
  ``inv`` and summed propagation ``prop``: ``b * inv + prop``
  (:func:`transfer_s`; store and forward: each hop adds its serialisation time);
- energy: ``seconds * active_power_w`` (:func:`compute_j`) and
  ``bytes * energy_j_per_byte`` (:func:`transfer_j`);
- per-request cost ``w_latency * latency + w_inaccuracy * (1 - accuracy) +
  w_energy * energy`` (:func:`request_cost`), or the objective vector F
  (:class:`Objective` ``identity``);
- loads: node utilization = sum of flow x compute seconds, link load = sum of
  flow x bytes (:meth:`RouteCosts.node_load`, :meth:`RouteCosts.link_load`);
- congestion (``options.queueing``): under ``ps`` every node and link
  direction is a processor-sharing server, a service time ``s`` at a server of
  utilization ``rho`` takes ``s / (1 - rho)`` (:func:`waiting_factor`);
  propagation is not slowed and energy counts busy time only;
- the capacity rule shared by the evaluator and every method (:func:`within`).

Methods that enumerate routes in bulk (candidate routes, split-dp, the cut
scans) use the same elementwise functions on their own arrays, so no formula
is written twice. :class:`RouteCosts` packs the per-route usage (from
:func:`placement.routes.route_figures` or a graph route) into arrays; the
evaluator, ``build_plan`` and the methods' bookkeeping consume it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .instance import Instance
    from .routes import RouteFigures

#: A capacity holds when ``value <= limit * (1 + CAPACITY_RTOL) + CAPACITY_ATOL``.
CAPACITY_RTOL = 1e-6
CAPACITY_ATOL = 1e-12
#: Tolerance methods use for their own feasibility tests: tighter than the
#: evaluator's, so a plan a method accepts is one the evaluator accepts.
SOLVER_RTOL = 1e-9

#: Names of the objective vector F, in order (DESIGN.md "Objective vector").
OBJECTIVES = ("latency", "inaccuracy", "energy", "network")
F_FIELDS = ("mean_latency_s", "mean_inaccuracy", "mean_energy_j", "network_bytes_per_s")


# -- the elementwise formulas -------------------------------------------------------


def transfer_s(nbytes, inv_bandwidth, propagation_s):
    """Seconds to send ``nbytes`` over hops whose 1/bandwidth and latencies sum to the given figures."""
    return nbytes * inv_bandwidth + propagation_s


def transfer_j(nbytes, energy_j_per_byte):
    """Joules to send ``nbytes`` over hops whose energy per byte sums to the given figure."""
    return nbytes * energy_j_per_byte


def compute_j(seconds, active_power_w):
    """Joules of ``seconds`` of compute at ``active_power_w``."""
    return seconds * active_power_w


def request_cost(weights: tuple[float, float, float], latency_s, accuracy, energy_j):
    """Per-request term of J: ``w_latency * latency + w_inaccuracy * (1 - accuracy) + w_energy * energy``."""
    wl, wi, we = weights
    return wl * latency_s + wi * (1.0 - accuracy) + we * energy_j


def within(value, limit, rtol: float = CAPACITY_RTOL):
    """The capacity rule: ``value <= limit * (1 + rtol) + 1e-12`` (elementwise)."""
    return value <= limit * (1.0 + rtol) + CAPACITY_ATOL


def waiting_factor(rho, queueing: str):
    """Slow-down of a service time at a server of utilization ``rho``.

    ``none``: 1 (load-independent). ``ps``: ``1 / (1 - rho)``, +inf at
    ``rho >= 1`` (an overloaded processor-sharing server never empties).
    """
    rho = np.asarray(rho, dtype=float)
    if queueing == "none":
        return np.ones_like(rho)
    if queueing != "ps":
        raise ValueError(f"unknown queueing model '{queueing}'")
    with np.errstate(divide="ignore"):
        return np.where(rho < 1.0, 1.0 / np.maximum(1.0 - rho, 0.0), np.inf)


def _slowed(service_s: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Service times times their waiting factors; no service takes no time even at an overloaded
    server (``0 * inf`` would be nan)."""
    with np.errstate(invalid="ignore"):
        return np.where(service_s > 0, service_s * factor, 0.0)


# -- objectives ---------------------------------------------------------------------


@dataclass(frozen=True)
class Objective:
    """What a method minimises: a weight vector (the scalar J) or the identity (the vector F).

    Build one with :meth:`weighted` or :meth:`identity`, or from an instance
    with :meth:`of`.
    """

    weights: tuple[float, float, float] | None

    @classmethod
    def weighted(cls, latency: float, inaccuracy: float, energy: float) -> Objective:
        return cls((float(latency), float(inaccuracy), float(energy)))

    @classmethod
    def identity(cls) -> Objective:
        return cls(None)

    @classmethod
    def of(cls, instance: Instance) -> Objective:
        return cls((instance.w_latency, instance.w_inaccuracy, instance.w_energy))

    @property
    def is_vector(self) -> bool:
        return self.weights is None

    def per_request(self, latency_s, accuracy, energy_j, network_bytes=None):
        """Per-request J (weights) or the (..., 4) rows of F's per-request terms (identity)."""
        if self.weights is not None:
            return request_cost(self.weights, latency_s, accuracy, energy_j)
        net = np.zeros_like(np.asarray(latency_s, dtype=float)) if network_bytes is None else network_bytes
        return np.stack(np.broadcast_arrays(latency_s, 1.0 - np.asarray(accuracy, dtype=float), energy_j, net), axis=-1)


# -- routes as arrays -----------------------------------------------------------------


@dataclass(frozen=True)
class RouteCosts:
    """Per-request usage and load-independent figures of R routes.

    Usage is sparse (coordinate lists): ``node_*`` gives compute seconds per
    (route, instance node index); ``link_*`` bytes per (route, link direction
    index, ``2 * link + 0`` for u->v and ``+ 1`` for v->u); ``act_*`` the peak
    activation bytes of each segment. Latencies here are load-independent;
    :meth:`latency_s` applies waiting factors.
    """

    demand: np.ndarray
    accuracy: np.ndarray
    propagation_s: np.ndarray
    compute_energy_j: np.ndarray
    transfer_energy_j: np.ndarray
    node_route: np.ndarray
    node_index: np.ndarray
    node_seconds: np.ndarray
    link_route: np.ndarray
    link_dir: np.ndarray
    link_bytes: np.ndarray
    link_inv_bandwidth: np.ndarray
    act_route: np.ndarray
    act_node: np.ndarray
    act_bytes: np.ndarray
    n_nodes: int
    n_dirs: int

    @property
    def n_routes(self) -> int:
        return len(self.demand)

    @classmethod
    def pack(cls, instance: Instance, figures: Sequence[RouteFigures]) -> RouteCosts:
        """Arrays of the routes whose figures (from ``route_figures`` or a graph route) are given."""
        net = instance.network
        nr, ni, ns, lr, ld, lb, ar, an, ab = [], [], [], [], [], [], [], [], []
        for r, fig in enumerate(figures):
            for node, secs in fig.compute_s.items():
                nr.append(r)
                ni.append(instance.node[node].index)
                ns.append(secs)
            for (a, b), nbytes in fig.link_bytes.items():
                lr.append(r)
                ld.append(net.direction_index(a, b))
                lb.append(nbytes)
            for node, peak in fig.peak_activation_bytes.items():
                ar.append(r)
                an.append(instance.node[node].index)
                ab.append(peak)
        ld_a = np.array(ld, dtype=np.int64)
        return cls(
            demand=np.array([f.demand for f in figures], dtype=np.int64),
            accuracy=np.array([f.accuracy for f in figures], dtype=float),
            propagation_s=np.array([f.propagation_s for f in figures], dtype=float),
            compute_energy_j=np.array([f.compute_energy_j for f in figures], dtype=float),
            transfer_energy_j=np.array([f.transfer_energy_j for f in figures], dtype=float),
            node_route=np.array(nr, dtype=np.int64),
            node_index=np.array(ni, dtype=np.int64),
            node_seconds=np.array(ns, dtype=float),
            link_route=np.array(lr, dtype=np.int64),
            link_dir=ld_a,
            link_bytes=np.array(lb, dtype=float),
            link_inv_bandwidth=1.0 / net.dir_bandwidth[ld_a] if len(ld_a) else np.zeros(0),
            act_route=np.array(ar, dtype=np.int64),
            act_node=np.array(an, dtype=np.int64),
            act_bytes=np.array(ab, dtype=float),
            n_nodes=len(instance.nodes),
            n_dirs=2 * len(instance.links),
        )

    # -- loads ----------------------------------------------------------------------
    def node_load(self, flow: np.ndarray) -> np.ndarray:
        """Compute utilization per node when route r carries ``flow[r]`` requests/s."""
        return np.bincount(self.node_index, weights=flow[self.node_route] * self.node_seconds, minlength=self.n_nodes)

    def link_load(self, flow: np.ndarray) -> np.ndarray:
        """Bytes per second per link direction when route r carries ``flow[r]`` requests/s."""
        return np.bincount(self.link_dir, weights=flow[self.link_route] * self.link_bytes, minlength=self.n_dirs)

    # -- per-route figures --------------------------------------------------------------
    def compute_latency_s(self, node_factor: np.ndarray | None = None) -> np.ndarray:
        w = self.node_seconds if node_factor is None else _slowed(self.node_seconds, node_factor[self.node_index])
        return np.bincount(self.node_route, weights=w, minlength=self.n_routes)

    def serialisation_s(self, link_factor: np.ndarray | None = None) -> np.ndarray:
        w = transfer_s(self.link_bytes, self.link_inv_bandwidth, 0.0)
        if link_factor is not None:
            w = _slowed(w, link_factor[self.link_dir])
        return np.bincount(self.link_route, weights=w, minlength=self.n_routes)

    def transfer_latency_s(self, link_factor: np.ndarray | None = None) -> np.ndarray:
        return self.serialisation_s(link_factor) + self.propagation_s

    def latency_s(self, node_factor: np.ndarray | None = None, link_factor: np.ndarray | None = None) -> np.ndarray:
        """Route latency; with waiting factors per node and link direction (queueing), else load-independent."""
        return self.compute_latency_s(node_factor) + self.transfer_latency_s(link_factor)

    @property
    def energy_j(self) -> np.ndarray:
        return self.compute_energy_j + self.transfer_energy_j

    @property
    def network_bytes(self) -> np.ndarray:
        """Bytes per request summed over every link direction crossed."""
        return np.bincount(self.link_route, weights=self.link_bytes, minlength=self.n_routes)


@dataclass(frozen=True)
class Loads:
    """Loads of a set of routes carrying given flows, and the waiting they cause."""

    node_utilization: np.ndarray
    link_bytes_per_s: np.ndarray
    link_utilization: np.ndarray
    node_factor: np.ndarray
    link_factor: np.ndarray


def loads(instance: Instance, costs: RouteCosts, flow: np.ndarray, queueing: str | None = None) -> Loads:
    """Node utilization, link loads and waiting factors (``queueing`` defaults to the instance's)."""
    q = instance.queueing if queueing is None else queueing
    node_u = costs.node_load(flow)
    link_b = costs.link_load(flow)
    link_u = link_b / instance.network.dir_bandwidth
    return Loads(node_u, link_b, link_u, waiting_factor(node_u, q), waiting_factor(link_u, q))


@dataclass(frozen=True)
class Totals:
    """Rate-weighted figures of a set of routes carrying ``flow`` (DESIGN.md's J and F)."""

    objective: float
    mean_latency_s: float
    mean_inaccuracy: float
    mean_energy_j: float
    network_bytes_per_s: float

    @property
    def vector(self) -> np.ndarray:
        """F = (mean_latency_s, mean_inaccuracy, mean_energy_j, network_bytes_per_s)."""
        return np.array([self.mean_latency_s, self.mean_inaccuracy, self.mean_energy_j, self.network_bytes_per_s])


def totals(weights: tuple[float, float, float], flow: np.ndarray, latency_s, accuracy, energy_j, network_bytes, total_rate: float) -> Totals:
    """J and F from per-route figures and flows (requests/s per route); ``total_rate`` is L."""
    L = total_rate
    lat = float(flow @ latency_s) / L
    inacc = float(flow @ (1.0 - accuracy)) / L
    en = float(flow @ energy_j) / L
    return Totals(
        objective=float(request_cost(weights, lat, 1.0 - inacc, en)),
        mean_latency_s=lat,
        mean_inaccuracy=inacc,
        mean_energy_j=en,
        network_bytes_per_s=float(flow @ network_bytes),
    )
