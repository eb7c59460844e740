"""Routes and their figures, exactly as DESIGN.md defines them.

A route serves one demand class with one model: the model's layers are split
into contiguous, non-empty segments computed at nodes in order along the path
from the origin to the last computing node. The input starts at the origin,
every cut tensor moves to the next computing node, and the result (the last
layer's ``out_bytes``) returns to the origin along the reverse path.

- latency = sum of layer latencies on the devices that compute them
  + for every transfer over every link crossed: bytes / bandwidth_bytes_per_s + latency_s
- energy = sum over computing nodes of compute time x active_power_w
  + sum over transfers of bytes x energy_j_per_byte of each link crossed

This module says what one route *uses* (compute seconds per node, bytes per
link direction); the formulas themselves live in :mod:`placement.kernel`,
which also turns many routes' usage into loads, latencies under congestion
and the objective.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .kernel import compute_j, request_cost, transfer_j, transfer_s

if TYPE_CHECKING:
    from .instance import Instance


class RouteError(ValueError):
    """A route that does not describe a valid computation (message says why)."""


@dataclass(frozen=True)
class Segment:
    """Layers ``first..last`` (inclusive, 0-based) computed at ``node``."""

    node: str
    first: int
    last: int


@dataclass(frozen=True)
class Route:
    """One way to serve demand class ``demand`` with model ``model``."""

    demand: int
    model: str
    segments: tuple[Segment, ...]

    @property
    def end(self) -> str:
        """The last computing node (the result returns from here)."""
        return self.segments[-1].node


@dataclass
class RouteFigures:
    """Everything one request on a route costs, without congestion.

    ``compute_s`` maps node -> busy seconds per request; ``link_bytes`` maps a
    link direction ``(u, v)`` -> bytes per request sent from u to v;
    ``propagation_s`` is the sum of the ``latency_s`` of every hop of every
    transfer (not slowed by load).
    """

    demand: int
    path: tuple[str, ...]
    latency_s: float
    energy_j: float
    compute_latency_s: float
    transfer_latency_s: float
    compute_energy_j: float
    transfer_energy_j: float
    accuracy: float
    compute_source: str
    propagation_s: float = 0.0
    compute_s: dict[str, float] = field(default_factory=dict)
    link_bytes: dict[tuple[str, str], float] = field(default_factory=dict)
    peak_activation_bytes: dict[str, float] = field(default_factory=dict)

    def cost(self, instance: Instance) -> float:
        """The route's per-request term of the objective J (load-independent)."""
        return float(request_cost(instance.weights, self.latency_s, self.accuracy, self.energy_j))


def route_figures(instance: Instance, route: Route) -> RouteFigures:
    """Compute a route's latency, energy and loads per request.

    Raises :class:`RouteError` when the route is not a valid computation
    (unknown ids, layers not covered contiguously, nodes not in path order,
    too many segments, demand and model of different tasks).
    """
    if not 0 <= route.demand < len(instance.demands):
        raise RouteError(f"unknown demand index {route.demand}")
    demand = instance.demands[route.demand]
    model = instance.models.get(route.model)
    if model is None:
        raise RouteError(f"unknown model '{route.model}'")
    if model.task != demand.task:
        raise RouteError(f"model '{model.id}' serves task '{model.task}', demand {route.demand} asks for '{demand.task}'")
    segs = route.segments
    if not segs:
        raise RouteError("no segments")
    if len(segs) > instance.max_segments:
        raise RouteError(f"{len(segs)} segments, more than max_segments = {instance.max_segments}")
    expected = 0
    for s in segs:
        if s.node not in instance.node:
            raise RouteError(f"unknown node '{s.node}'")
        if s.first != expected or s.last < s.first:
            raise RouteError(f"segments must cover layers 0..{model.n_layers - 1} contiguously in order; got [{s.first}, {s.last}] where layer {expected} was expected next")
        expected = s.last + 1
    if expected != model.n_layers:
        raise RouteError(f"segments cover layers 0..{expected - 1}, model '{model.id}' has {model.n_layers} layers (0..{model.n_layers - 1})")
    origin = demand.origin
    if not instance.network.can_reach(origin, route.end):
        raise RouteError(f"node '{route.end}' cannot be reached from origin '{origin}'")
    path = instance.path(origin, route.end)
    position = {node: i for i, node in enumerate(path)}
    positions = []
    for s in segs:
        if s.node not in position:
            raise RouteError(f"node '{s.node}' is not on the path {' > '.join(path)} from the origin to the last computing node")
        positions.append(position[s.node])
    if any(b <= a for a, b in zip(positions, positions[1:])):
        raise RouteError(f"computing nodes must appear in order along the path {' > '.join(path)}, each once")

    fig = RouteFigures(route.demand, path, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, model.accuracy, "")
    sources: set[str] = set()
    for s in segs:
        node = instance.node[s.node]
        t = model.segment_latency(node.device, s.first, s.last)
        fig.compute_latency_s += t
        fig.compute_energy_j += compute_j(t, node.device.active_power_w)
        fig.compute_s[s.node] = fig.compute_s.get(s.node, 0.0) + t
        fig.peak_activation_bytes[s.node] = model.segment_peak_activation(s.first, s.last)
        sources.update(model.latency_sources(node.device)[s.first : s.last + 1])

    add_transfer(instance, fig, model.input_bytes, 0, positions[0])
    for k in range(len(segs) - 1):
        add_transfer(instance, fig, float(model.out_bytes[segs[k].last]), positions[k], positions[k + 1])
    add_transfer(instance, fig, float(model.out_bytes[-1]), positions[-1], 0)

    fig.latency_s = fig.compute_latency_s + fig.transfer_latency_s
    fig.energy_j = fig.compute_energy_j + fig.transfer_energy_j
    fig.compute_source = sources.pop() if len(sources) == 1 else "mixed"
    return fig


def add_transfer(instance: Instance, fig: RouteFigures, nbytes: float, i: int, j: int) -> None:
    """Add to ``fig`` the transfer of ``nbytes`` from position ``i`` to ``j`` of ``fig.path`` (either way)."""
    path = fig.path
    step = 1 if j > i else -1
    for k in range(i, j, step):
        a, b = path[k], path[k + step]
        link = instance.network.link(a, b)
        fig.transfer_latency_s += transfer_s(nbytes, 1.0 / link.bandwidth_bytes_per_s, link.latency_s)
        fig.propagation_s += link.latency_s
        fig.transfer_energy_j += transfer_j(nbytes, link.energy_j_per_byte)
        fig.link_bytes[(a, b)] = fig.link_bytes.get((a, b), 0.0) + nbytes


def enumerate_routes(instance: Instance, demand: int, max_segments: int | None = None) -> Iterator[Route]:
    """Every route of a demand class (any model of its task, any end node).

    Exhaustive and exponential in ``max_segments``: meant for brute-force
    oracles on tiny instances, not for solving. Accuracy floors, SLOs and
    capacities are not applied here.
    """
    dem = instance.demands[demand]
    k_max = instance.max_segments if max_segments is None else max_segments
    reach = instance.network.reachable(dem.origin)
    targets = sorted(reach, key=lambda t: (reach[t], t))
    for model in instance.models_for(dem):
        n = model.n_layers
        for target in targets:
            path = instance.path(dem.origin, target)
            last = len(path) - 1
            for k in range(1, min(k_max, n) + 1):
                for inner in itertools.combinations(range(last), k - 1):
                    nodes = [path[p] for p in inner] + [path[last]]
                    for cuts in itertools.combinations(range(1, n), k - 1):
                        bounds = (0,) + cuts + (n,)
                        segs = tuple(Segment(nodes[i], bounds[i], bounds[i + 1] - 1) for i in range(k))
                        yield Route(demand, model.id, segs)
