"""Graph routes: a model's operators (not its chain of layers) split over nodes.

A model with a graph (profiles carry one) may be served by a route whose
segments name the operators they compute (plan segments with ``ops``) instead
of a range of chain layers. This is how a graph partition that no chain cut
expresses (a DADS-style device/server split) becomes a plan.

A graph route is valid when

- every operator of the graph is computed exactly once, by one segment;
- the segments are closed under predecessors in order: an operator's inputs
  are computed by its own segment or an earlier one (or are the model input);
- the output operator (the graph's last node) is in the last segment;
- segments are non-empty and at distinct nodes in order along the path from
  the demand's origin to the last computing node (as for chain routes).

Its figures follow the chain rules of :mod:`placement.routes`:

- compute: the operators' latencies (``latency_s`` of the graph node for the
  device type, else ``macs / effective_macs_per_s``, labelled estimated);
- transfers: the input goes from the origin to the first computing node;
  between consecutive segments k and k+1 one transfer carries every tensor
  produced before segment k+1 (or the input) that an operator of segment k+1
  or later reads, each tensor once however many operators read it (exactly a
  chain cut's ``out_bytes``: every tensor live across the cut); the result
  (the output operator's ``out_bytes``) returns to the origin;
- storage: a node computing operators stores the chain layers that contain
  them (``layer`` of each graph node), so a plan's ``storage`` keeps its
  format; every operator of a graph route therefore needs a ``layer``;
- activation memory: the largest ``peak_activation_bytes`` of those layers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .kernel import compute_j
from .routes import RouteError, RouteFigures, add_transfer, route_figures

if TYPE_CHECKING:
    from .catalog import Device
    from .instance import Instance, Model
    from .plan import PlanRoute
    from .schema import GraphNodeSpec


class HasOps(Protocol):
    node: str
    ops: Sequence[str] | None


@dataclass(frozen=True)
class GraphSegment:
    """Operators ``ops`` of the model's graph computed at ``node``."""

    node: str
    ops: tuple[str, ...]


@dataclass(frozen=True)
class GraphRoute:
    """A route of demand class ``demand`` whose segments name graph operators."""

    demand: int
    model: str
    segments: tuple[GraphSegment, ...]

    @property
    def end(self) -> str:
        return self.segments[-1].node


def op_latency(op: GraphNodeSpec, device: Device) -> tuple[float, bool]:
    """Seconds one graph operator takes on ``device``, and whether it was estimated from MACs."""
    given = op.latency_s.get(device.name)
    if given is not None:
        return float(given), False
    if device.effective_macs_per_s is None:
        raise RouteError(f"graph operator '{op.name}' has no latency for device type '{device.name}', which has no throughput figure")
    return op.macs / device.effective_macs_per_s, True


def _check_model(instance: Instance, demand_index: int, model_id: str) -> Model:
    if not 0 <= demand_index < len(instance.demands):
        raise RouteError(f"unknown demand index {demand_index}")
    demand = instance.demands[demand_index]
    model = instance.models.get(model_id)
    if model is None:
        raise RouteError(f"unknown model '{model_id}'")
    if model.task != demand.task:
        raise RouteError(f"model '{model.id}' serves task '{model.task}', demand {demand_index} asks for '{demand.task}'")
    if model.graph is None:
        raise RouteError(f"model '{model.id}' has no graph, so its segments cannot name operators (`ops`); give `layers` ranges, or profile the model with `idnplan profile`, which records its graph")
    return model


def assign_ops(model: Model, segments: Sequence[HasOps]) -> dict[str, int]:
    """Operator -> index of the segment computing it; raises :class:`RouteError` when the split is invalid."""
    graph = model.graph
    assert graph is not None
    known = {op.name for op in graph.nodes}
    where: dict[str, int] = {}
    for k, seg in enumerate(segments):
        if not seg.ops:
            raise RouteError(f"segment {k} at '{seg.node}' computes no operator")
        for name in seg.ops:
            if name not in known:
                raise RouteError(f"segment {k} at '{seg.node}': model '{model.id}' has no operator '{name}'")
            if name in where:
                raise RouteError(f"operator '{name}' is computed twice (segments {where[name]} and {k})")
            where[name] = k
    missing = [op.name for op in graph.nodes if op.name not in where]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise RouteError(f"operators of model '{model.id}' computed by no segment: {', '.join(missing[:3])}{more}")
    for op in graph.nodes:
        for src in op.inputs:
            if src != "input" and where[src] > where[op.name]:
                raise RouteError(f"segment {where[op.name]} is not closed under predecessors: '{op.name}' reads '{src}', computed later by segment {where[src]}")
    last = graph.nodes[-1].name
    if where[last] != len(segments) - 1:
        raise RouteError(f"the output operator '{last}' must be computed by the last segment, not segment {where[last]}")
    return where


def _path_positions(instance: Instance, origin: str, nodes: list[str]) -> tuple[tuple[str, ...], list[int]]:
    for node in nodes:
        if node not in instance.node:
            raise RouteError(f"unknown node '{node}'")
    if len(nodes) > instance.max_segments:
        raise RouteError(f"{len(nodes)} segments, more than max_segments = {instance.max_segments}")
    if not instance.network.can_reach(origin, nodes[-1]):
        raise RouteError(f"node '{nodes[-1]}' cannot be reached from origin '{origin}'")
    path = instance.path(origin, nodes[-1])
    position = {node: i for i, node in enumerate(path)}
    for node in nodes:
        if node not in position:
            raise RouteError(f"node '{node}' is not on the path {' > '.join(path)} from the origin to the last computing node")
    positions = [position[n] for n in nodes]
    if any(b <= a for a, b in zip(positions, positions[1:])):
        raise RouteError(f"computing nodes must appear in order along the path {' > '.join(path)}, each once")
    return path, positions


def graph_route_figures(instance: Instance, demand_index: int, model_id: str, segments: Sequence[HasOps]) -> RouteFigures:
    """Latency, energy and loads per request of a route whose segments name graph operators.

    Parameters
    ----------
    instance : Instance
        A loaded instance.
    demand_index : int
        The demand class served.
    model_id : str
        A model of the class's task that has a graph.
    segments : sequence
        Objects with ``node`` and ``ops`` (:class:`GraphSegment`, or plan
        segments with ``ops``), in order along the path from the origin.

    Returns
    -------
    RouteFigures
        The same figures :func:`placement.routes.route_figures` gives a chain
        route (rules in the module docstring).

    Raises
    ------
    RouteError
        Unknown ids, a model without a graph, operators unknown, computed
        twice or not at all, segments not closed under predecessors, the
        output not in the last segment, nodes off the path or out of order.
    """
    model = _check_model(instance, demand_index, model_id)
    if not segments:
        raise RouteError("no segments")
    graph = model.graph
    assert graph is not None
    where = assign_ops(model, segments)
    path, positions = _path_positions(instance, instance.demands[demand_index].origin, [s.node for s in segments])

    fig = RouteFigures(demand_index, path, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, model.accuracy, "")
    sources: set[str] = set()
    for op in graph.nodes:
        seg = segments[where[op.name]]
        node = instance.node[seg.node]
        t, estimated = op_latency(op, node.device)
        fig.compute_latency_s += t
        fig.compute_energy_j += compute_j(t, node.device.active_power_w)
        fig.compute_s[seg.node] = fig.compute_s.get(seg.node, 0.0) + t
        if estimated or op.layer is None:
            sources.add("estimated" if estimated else "given")
        else:
            sources.add(model.layers[op.layer].latency_source.get(node.device.name, "given"))
    for seg in segments:
        layers = segment_layers(model, seg)
        fig.peak_activation_bytes[seg.node] = max(float(model.peak_activation_bytes[i]) for i in layers)

    add_transfer(instance, fig, model.input_bytes, 0, positions[0])
    for k in range(len(segments) - 1):
        add_transfer(instance, fig, boundary_bytes(model, where, k), positions[k], positions[k + 1])
    add_transfer(instance, fig, float(graph.nodes[-1].out_bytes), positions[-1], 0)

    fig.latency_s = fig.compute_latency_s + fig.transfer_latency_s
    fig.energy_j = fig.compute_energy_j + fig.transfer_energy_j
    fig.compute_source = sources.pop() if len(sources) == 1 else "mixed"
    return fig


def boundary_bytes(model: Model, where: dict[str, int], k: int) -> float:
    """Bytes live across the boundary after segment ``k``: each tensor produced
    in segments 0..k (or the input) and read in a later segment, counted once."""
    graph = model.graph
    assert graph is not None
    size = {op.name: float(op.out_bytes) for op in graph.nodes}
    size["input"] = float(model.input_bytes)
    live = {src for op in graph.nodes if where[op.name] > k for src in op.inputs if src == "input" or where[src] <= k}
    return sum(size[s] for s in live)


def segment_layers(model: Model, seg) -> list[int]:
    """The chain layers a plan segment needs stored at its node.

    A ``layers: [a, b]`` segment needs a..b; an ``ops`` segment needs every
    layer containing one of its operators (``layer`` of the graph node).
    """
    ops = getattr(seg, "ops", None)
    if ops is None:
        a, b = seg.layers
        return list(range(a, b + 1))
    layer = {op.name: op.layer for op in model.graph.nodes} if model.graph is not None else {}
    out = set()
    for name in ops:
        li = layer.get(name)
        if li is None:
            raise RouteError(f"operator '{name}' of model '{model.id}' names no chain `layer`, so the plan's storage (chain layers) cannot hold its parameters")
        out.add(li)
    return sorted(out)


def plan_route_figures(instance: Instance, route: PlanRoute) -> RouteFigures:
    """Figures of a plan route: a graph route when its segments give ``ops``, else a chain route."""
    with_ops = [s.ops is not None for s in route.segments]
    if any(with_ops):
        if not all(with_ops):
            raise RouteError("a route's segments give either all `layers` or all `ops`, not a mix")
        return graph_route_figures(instance, route.demand, route.model, route.segments)
    return route_figures(instance, route.to_route())


def storage_of(instance: Instance, routes: Iterable) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """The smallest plan ``storage`` holding every layer that chain or graph routes compute."""
    from .plan import ranges_of

    held: dict[str, dict[str, set[int]]] = {}
    for route in routes:
        model = instance.models[route.model]
        for seg in route.segments:
            if isinstance(seg, GraphSegment):
                layers = segment_layers(model, seg)
            else:
                layers = list(range(seg.first, seg.last + 1))
            held.setdefault(seg.node, {}).setdefault(route.model, set()).update(layers)
    return {
        node: {m: ranges_of(layers) for m, layers in sorted(models.items())}
        for node, models in sorted(held.items())
    }


__all__ = [
    "GraphRoute",
    "GraphSegment",
    "assign_ops",
    "boundary_bytes",
    "graph_route_figures",
    "op_latency",
    "plan_route_figures",
    "segment_layers",
    "storage_of",
]
