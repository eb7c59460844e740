"""The exact device/server partition of a model graph by a minimum s-t cut (DADS).

A device/server split of a model's graph may put any *down-set* of operators
on the device (every predecessor of a device operator is on the device too),
including partitions that are no prefix of the chain of layers. The best
remote partition (the output on the server) is a minimum s-t cut (Hu et al.,
DADS, INFOCOM 2019):

- source s = the device, sink t = the server; edge ``s -> v`` carries v's
  server compute cost (cut when v goes to the server) and ``v -> t`` its device
  compute cost (cut when v stays on the device);
- every tensor (and the model input) gets a helper node ``v'``: ``v -> v'``
  carries the cost of sending it, ``v' -> w`` is infinite for each consumer w,
  so a tensor read by several server operators is sent once;
- an infinite edge ``w -> v`` for every data edge ``v -> w`` forbids sending data
  back from the server to the device mid-model (the partition is a down-set);
- the model input is on the source side with no compute; the output is forced
  to the server (the all-on-device partition is priced apart).

Costs are the objective's per-request terms, w_latency x seconds + w_energy x
joules; the link latencies and the result's way back are the same for every
remote partition and are added afterwards.

Exactness. Each capacity is a float, i.e. an exact dyadic rational; all of
them are scaled by their largest denominator (a power of two) into Python
integers, *without rounding*, and the max-flow (networkx, Boykov-Kolmogorov,
the fastest of networkx's algorithms here) runs on these arbitrary-precision
integers. The cut is read from the residual
graph by networkx (the nodes that cannot reach t) and checked: its capacity
must equal the flow value, which proves it minimum. The partition is then
re-costed with the evaluator's kernel (:func:`placement.graphroute.graph_route_figures`);
the only difference from the cut value is float summation order, a few ulps
(relative error below 1e-12 on the shipped profiles). scipy's
``maximum_flow`` would be faster but takes 32-bit integer capacities, too
coarse for costs from microseconds of compute to hundreds of seconds of
transfer; float capacities (the earlier implementation) let residual round-off
decide reachability and returned wrong partitions with the right cut value.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import networkx as nx
from networkx.algorithms.flow import boykov_kolmogorov

from placement.errors import InputError
from placement.graphroute import GraphRoute, GraphSegment, boundary_bytes, graph_route_figures, op_latency
from placement.instance import Demand, Instance, Model


@dataclass(frozen=True)
class GraphCut:
    """A device/server partition of a model graph and its figures (per request)."""

    model: str
    device_ops: tuple[str, ...]
    server_ops: tuple[str, ...]
    cost: float
    latency_s: float
    sent_bytes: float
    chain_cut: int | None  # the chain cut this partition equals, if any
    route: GraphRoute

    @property
    def on_device(self) -> set[str]:
        return set(self.device_ops)


@dataclass(frozen=True)
class CutCosts:
    """Per-request cost terms of one (model, origin, server): what the cut and the oracle weigh."""

    device: list[float]  # per graph operator, in graph order
    server: list[float]
    per_byte: float  # cost of one byte sent device -> server
    sizes: dict[str, float]  # tensor name ('input' or operator) -> bytes
    remote_constant: float  # link latencies and the result's way back, same for every remote partition


def cut_costs(inst: Instance, model: Model, demand: Demand, server: str) -> CutCosts:
    g = model.graph
    if g is None:
        raise InputError(no_graph_message(model))
    dev, srv = inst.node[demand.origin].device, inst.node[server].device
    pa = inst.network.path_arrays(inst.path(demand.origin, server))
    inv, lat, en = float(pa.cum_inv_bw[-1]), float(pa.cum_latency[-1]), float(pa.cum_energy[-1])
    wl, we = inst.w_latency, inst.w_energy
    device, srv_cost = [], []
    for op in g.nodes:
        td, ts = op_latency(op, dev)[0], op_latency(op, srv)[0]
        device.append(wl * td + we * td * dev.active_power_w)
        srv_cost.append(wl * ts + we * ts * srv.active_power_w)
    sizes = {"input": float(model.input_bytes), **{op.name: float(op.out_bytes) for op in g.nodes}}
    r = float(g.nodes[-1].out_bytes)
    return CutCosts(device, srv_cost, wl * inv + we * en, sizes, wl * (2 * lat + r * inv) + we * r * en)


def no_graph_message(model: Model) -> str:
    return (f"model '{model.id}' has no graph, so dag-mincut cannot partition it; profile it with "
            f"`idnplan profile` (which records the graph) or give `graph:` in the instance")


def exact_integers(values: list[float]) -> list[int]:
    """Non-negative floats as integers in one common unit, exactly (no rounding).

    Every float is a dyadic rational p / 2^k; the largest denominator is a
    multiple of all the others, so scaling by it is exact.
    """
    fractions = [Fraction(v) for v in values]
    den = max((f.denominator for f in fractions), default=1)
    return [f.numerator * (den // f.denominator) for f in fractions]


def min_cut_partition(inst: Instance, model: Model, demand: Demand, server: str) -> GraphCut:
    """The best remote device/server partition of ``model``'s graph (see module docstring).

    Raises :class:`~placement.errors.InputError` for a model without a graph.
    """
    g = model.graph
    if g is None:
        raise InputError(no_graph_message(model))
    costs = cut_costs(inst, model, demand, server)
    names = [op.name for op in g.nodes]
    consumers: dict[str, list[str]] = {"input": [], **{n: [] for n in names}}
    for op in g.nodes:
        for src in op.inputs:
            consumers[src].append(op.name)
    sent = [src for src, users in consumers.items() if users]
    ints = exact_integers(costs.device + costs.server + [costs.per_byte * costs.sizes[s] for s in sent])
    n = len(names)
    dev_int, srv_int, send_int = ints[:n], ints[n : 2 * n], ints[2 * n :]

    G = nx.DiGraph()
    s, t = ("__device__",), ("__server__",)
    G.add_edge(s, "input")  # no capacity = infinite: the input starts on the device
    for k, op in enumerate(g.nodes):
        G.add_edge(s, op.name, capacity=srv_int[k])
        if k < n - 1:
            G.add_edge(op.name, t, capacity=dev_int[k])
        else:
            G.add_edge(op.name, t)  # infinite: the output on the server (remote partitions)
        for src in op.inputs:
            G.add_edge(op.name, src)  # infinite: no data back from the server to the device
    for src, cap in zip(sent, send_int):
        helper = (src, "sent")
        G.add_edge(src, helper, capacity=cap)
        for user in consumers[src]:
            G.add_edge(helper, user)
    value, (side_s, _) = nx.minimum_cut(G, s, t, flow_func=boykov_kolmogorov)
    crossing = [G[u][v].get("capacity") for u in side_s for v in G[u] if v not in side_s]
    if any(c is None for c in crossing) or sum(crossing) != value:  # the certificate of a minimum cut
        raise RuntimeError(f"dag-mincut: the cut read from the residual graph of model '{model.id}' is not minimum; please report this")
    return partition(inst, model, demand, server, {n for n in names if n in side_s})


def device_only_partition(inst: Instance, model: Model, demand: Demand, server: str) -> GraphCut:
    """Every operator on the device (no transfer at all)."""
    assert model.graph is not None
    return partition(inst, model, demand, server, {op.name for op in model.graph.nodes})


def best_partition(inst: Instance, model: Model, demand: Demand, server: str) -> GraphCut:
    """The cheapest of all down-sets: the minimum cut, or everything on the device."""
    remote = min_cut_partition(inst, model, demand, server)
    local = device_only_partition(inst, model, demand, server)
    return local if (local.cost, local.latency_s) < (remote.cost, remote.latency_s) else remote


def partition(inst: Instance, model: Model, demand: Demand, server: str, on_device: set[str]) -> GraphCut:
    """A partition as a graph route, costed by the evaluator's kernel."""
    g = model.graph
    assert g is not None
    dev_ops = tuple(op.name for op in g.nodes if op.name in on_device)
    srv_ops = tuple(op.name for op in g.nodes if op.name not in on_device)
    segs = []
    if dev_ops:
        segs.append(GraphSegment(demand.origin, dev_ops))
    if srv_ops:
        segs.append(GraphSegment(server, srv_ops))
    route = GraphRoute(demand.index, model.id, tuple(segs))
    fig = graph_route_figures(inst, demand.index, model.id, segs)
    where = {name: 0 for name in dev_ops} | {name: 1 for name in srv_ops}
    sent = boundary_bytes(model, where, 0) if dev_ops and srv_ops else (0.0 if not srv_ops else float(model.input_bytes))
    return GraphCut(model.id, dev_ops, srv_ops, fig.cost(inst), fig.latency_s, sent, as_chain_cut(model, on_device), route)


def partition_cost(inst: Instance, model: Model, demand: Demand, server: str, on_device: set[str]) -> tuple[float, float, float]:
    """(cost, latency, bytes sent to the server) of one partition (``on_device`` a down-set)."""
    cut = partition(inst, model, demand, server, on_device)
    return cut.cost, cut.latency_s, cut.sent_bytes


def as_chain_cut(model: Model, on_device: set[str]) -> int | None:
    """The chain cut c whose first c layers hold exactly the device operators, if any."""
    assert model.graph is not None
    layer = {op.name: op.layer for op in model.graph.nodes}
    if any(v is None for v in layer.values()):
        return None
    dev_layers = {layer[n] for n in on_device}
    srv_layers = {layer[op.name] for op in model.graph.nodes if op.name not in on_device}
    c = max(dev_layers) + 1 if dev_layers else 0
    return c if not srv_layers or min(srv_layers) >= c and not (dev_layers & srv_layers) else None
