"""``dag-mincut``: DADS-style device/server partition of a model's graph by a minimum s-t cut.

The chain of layers is one topological order of a model's dataflow graph; a
chain cut is a prefix of it. A device/server split of the graph may put any
*down-set* of operators on the device (every predecessor of a device operator
is on the device too), including partitions that are no prefix of the chain
(branches of an inception block or a skip connection split differently). The
best such partition is a minimum s-t cut (Hu et al., DADS, INFOCOM 2019):

- source s = the device, sink t = the server; edge ``s -> v`` carries v's
  server compute cost (cut when v goes to the server) and ``v -> t`` its device
  compute cost (cut when v stays on the device);
- every tensor gets a helper node ``v'``: ``v -> v'`` carries the cost of sending
  the tensor, ``v' -> w`` is infinite for each consumer w, so a tensor read by
  several server operators is sent once;
- an infinite edge ``w -> v`` for every data edge ``v -> w`` forbids sending data
  back from the server to the device mid-model (the partition is a down-set);
- the model input is a source-side operator with no compute, and the output
  is forced to the server (the all-on-device plan is priced separately).

Costs are the objective's per-request terms: w_latency x seconds + w_energy x
joules; the per-transfer link latency and the result's way back are constants
of any remote partition and are added afterwards. Parameter memory is checked
on the result. The method reports the graph cut against the best chain cut
(two-tier's scan); the plan file can only hold chain routes, so the plan is
the best chain cut, and the graph cut's partition, latency and gain are in
the plan's ``stats`` and ``notes``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import networkx as nx

from placement.build import build_plan
from placement.errors import InfeasibleError, InputError
from placement.instance import Demand, Instance, Model
from placement.plan import Plan, PlanStatus, Termination

from .capacity import Capacity
from .columns import column_from_route
from .registry import SolveOptions, register
from .twotier import SERVER_OPTION, cut_scan, server_of


@dataclass
class GraphCut:
    """A device/server partition of a model graph and its figures (per request)."""

    model: str
    device_nodes: list[str]
    server_nodes: list[str]
    cost: float
    latency_s: float
    sent_bytes: float
    chain_cut: int | None  # the chain cut this partition equals, if any


def _node_latency(node, device) -> float:
    given = node.latency_s.get(device.name)
    if given is not None:
        return float(given)
    if device.effective_macs_per_s is None:
        raise InputError(f"graph node '{node.name}' has no latency for device type '{device.name}', which has no throughput figure")
    return node.macs / device.effective_macs_per_s


def partition_cost(inst: Instance, model: Model, demand: Demand, server: str, on_device: set[str]) -> tuple[float, float, float]:
    """(cost, latency, bytes sent) of one partition; the output must be on the server."""
    g = model.graph
    dev, srv = inst.node[demand.origin].device, inst.node[server].device
    pa = inst.network.path_arrays(inst.path(demand.origin, server))
    inv, lat, en = pa.cum_inv_bw[-1], pa.cum_latency[-1], pa.cum_energy[-1]
    compute_lat = compute_en = 0.0
    for n in g.nodes:
        d = dev if n.name in on_device else srv
        t = _node_latency(n, d)
        compute_lat += t
        compute_en += t * d.active_power_w
    producers = {"input": model.input_bytes, **{n.name: n.out_bytes for n in g.nodes}}
    crossing = {src for n in g.nodes if n.name not in on_device for src in n.inputs if src == "input" or src in on_device}
    sent = sum(producers[s] for s in crossing)
    r = float(model.out_bytes[-1])
    latency = compute_lat + sent * inv + lat + r * inv + lat
    energy = compute_en + (sent + r) * en
    cost = inst.w_latency * latency + inst.w_energy * energy + inst.w_inaccuracy * (1 - model.accuracy)
    return cost, latency, sent


def min_cut_partition(inst: Instance, model: Model, demand: Demand, server: str) -> GraphCut:
    """The best remote device/server partition of ``model``'s graph (see module docstring)."""
    g = model.graph
    if g is None:
        raise InputError(f"model '{model.id}' has no graph; profile it with `idnplan profile` (which records the graph) or give `graph:` in the instance")
    dev, srv = inst.node[demand.origin].device, inst.node[server].device
    pa = inst.network.path_arrays(inst.path(demand.origin, server))
    inv, en = pa.cum_inv_bw[-1], pa.cum_energy[-1]
    wl, we = inst.w_latency, inst.w_energy
    G = nx.DiGraph()
    s, t = ("__device__",), ("__server__",)
    G.add_edge(s, "input")  # infinite: the input starts on the device
    consumers: dict[str, list[str]] = {"input": []}
    sizes = {"input": model.input_bytes}
    for n in g.nodes:
        consumers.setdefault(n.name, [])
        sizes[n.name] = n.out_bytes
        td, ts = _node_latency(n, dev), _node_latency(n, srv)
        G.add_edge(s, n.name, capacity=wl * ts + we * ts * srv.active_power_w)
        G.add_edge(n.name, t, capacity=wl * td + we * td * dev.active_power_w)
        for src in n.inputs:
            consumers[src].append(n.name)
            G.add_edge(n.name, src)  # infinite: no data back from server to device
    for src, users in consumers.items():
        if not users:
            continue
        helper = (src, "sent")
        G.add_edge(src, helper, capacity=(wl * inv + we * en) * sizes[src])
        for u in users:
            G.add_edge(helper, u)
    del G[g.nodes[-1].name][t]["capacity"]  # infinite: the output on the server (remote partitions)
    _, (side_s, _) = nx.minimum_cut(G, s, t)
    on_device = {n.name for n in g.nodes if n.name in side_s}
    cost, latency, sent = partition_cost(inst, model, demand, server, on_device)
    return GraphCut(model.id, [n.name for n in g.nodes if n.name in on_device], [n.name for n in g.nodes if n.name not in on_device], cost, latency, sent, _as_chain_cut(model, on_device))


def _as_chain_cut(model: Model, on_device: set[str]) -> int | None:
    """The chain cut c whose first c layers hold exactly the device nodes, if any."""
    layer = {n.name: n.layer for n in model.graph.nodes}
    if any(v is None for v in layer.values()):
        return None
    dev_layers = {layer[n] for n in on_device}
    srv_layers = {layer[n.name] for n in model.graph.nodes if n.name not in on_device}
    c = max(dev_layers) + 1 if dev_layers else 0
    return c if not srv_layers or min(srv_layers) >= c and not (dev_layers & srv_layers) else None


@register("dag-mincut", "DADS-style: minimum s-t cut of each model's graph for the device/server split; reports it against the best chain cut", splitting=True, options=(SERVER_OPTION,))
def dag_mincut(instance: Instance, opts: SolveOptions) -> Plan:
    start = time.perf_counter()
    cap = Capacity(instance)
    chosen, notes, stats = [], [], {"classes": []}
    for demand in sorted(instance.demands, key=lambda d: (-d.rate_rps, d.index)):
        server = server_of(instance, demand, opts, "dag-mincut")
        best_graph: GraphCut | None = None
        for model in instance.models_for(demand):
            if model.accuracy < demand.min_accuracy - 1e-12 or model.graph is None:
                continue
            cut = min_cut_partition(instance, model, demand, server)
            if cut.latency_s > demand.max_latency_s * (1 + 1e-9):
                continue
            if best_graph is None or cut.cost < best_graph.cost:
                best_graph = cut
        scan = cut_scan(instance, demand, server)
        placed = None
        for choice in scan:
            col = column_from_route(instance, choice.route, set())
            if cap.fits(col, demand.rate_rps):
                cap.commit(col, demand.rate_rps)
                placed = (choice.cost, choice.latency_s, choice)
                break
        if placed is None:
            raise InfeasibleError([f"demand class {demand.index} ({demand.label}): no chain cut between '{demand.origin}' and '{server}' meets its SLO and accuracy floor within the capacity left"], method="dag-mincut")
        chosen.append(placed[2])
        entry = {"demand": demand.index, "server": server, "chain_cost": placed[0], "chain_latency_s": placed[1]}
        if best_graph is not None:
            entry.update({
                "graph_model": best_graph.model,
                "graph_cost": best_graph.cost,
                "graph_latency_s": best_graph.latency_s,
                "graph_sent_bytes": best_graph.sent_bytes,
                "graph_device_nodes": best_graph.device_nodes,
                "graph_is_chain_cut": best_graph.chain_cut is not None,
                "speedup_vs_chain": placed[1] / best_graph.latency_s if best_graph.latency_s > 0 else math.inf,
            })
            if best_graph.chain_cut is None and best_graph.cost < placed[0] - 1e-12:
                notes.append(f"demand {demand.index}: the graph cut of '{best_graph.model}' ({best_graph.latency_s * 1e3:.3f} ms, {len(best_graph.device_nodes)} operators on the device) beats the best chain cut ({placed[1] * 1e3:.3f} ms) but is no prefix of the chain, so the plan keeps the chain cut")
        stats["classes"].append(entry)
    plan = build_plan(
        instance,
        "dag-mincut",
        sorted(chosen, key=lambda c: c.route.demand),
        PlanStatus.HEURISTIC,
        termination=Termination.COMPLETED,
        solve_time_s=time.perf_counter() - start,
        seed=opts.seed,
        notes=notes,
    )
    plan.stats = stats
    return plan
