"""Routes as columns: their per-request cost and the resources they use.

A :class:`Column` is what a formulation or a greedy method needs to know of a
route: cost, compute seconds per node, bytes per link direction, and the
(node, model, layer) storage it requires on nodes whose memory can bind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from placement.instance import Instance
from placement.routes import Route, route_figures

from .candidates import Candidate
from .origin_trees import OriginTree


@dataclass
class Column:
    """A route with its per-request cost and resource use."""

    route: Route
    cls: int
    cost: float
    latency_s: float
    energy_j: float
    compute: list[tuple[int, float]]  # (instance node index, seconds)
    links: list[tuple[int, float]]  # (link direction index, bytes)
    keys: list[tuple[int, str, int]] = field(default_factory=list)  # (node, model, layer) needing storage


def column_from_candidate(instance: Instance, tree: OriginTree, cand: Candidate, storage_nodes: set[int]) -> Column:
    """Resource use of a candidate route, from its chain of tree nodes and layer bounds."""
    model = instance.models[cand.route.model]
    send = [model.input_bytes, *model.out_bytes.tolist()]
    compute, links, keys = [], [], []
    prev = 0
    for s, i in enumerate(cand.chain):
        node = instance.nodes[int(tree.node_idx[i])]
        lo, hi = cand.bounds[s], cand.bounds[s + 1]
        compute.append((node.index, model.segment_latency(node.device, lo, hi - 1)))
        if node.index in storage_nodes:
            keys.extend((node.index, model.id, l) for l in range(lo, hi))
        nbytes = send[lo]
        for j in tree.path_nodes(prev, i):
            links.append((int(tree.hop_fwd[j]), nbytes))
        prev = i
    result = float(model.out_bytes[-1])
    for j in tree.path_nodes(0, prev):
        links.append((int(tree.hop_back[j]), result))
    return Column(cand.route, cand.route.demand, cand.cost, cand.latency_s, cand.energy_j, compute, links, keys)


def column_from_route(instance: Instance, route: Route, storage: set[int]) -> Column:
    """Resource use of any route, through the evaluator's route figures."""
    fig = route_figures(instance, route)
    compute = [(instance.node[v].index, t) for v, t in fig.compute_s.items()]
    links = []
    for (a, b), nbytes in fig.link_bytes.items():
        link = instance.network.link(a, b)
        links.append((2 * link.index + (0 if link.u == a else 1), nbytes))
    keys = [
        (instance.node[seg.node].index, route.model, l)
        for seg in route.segments
        if instance.node[seg.node].index in storage
        for l in range(seg.first, seg.last + 1)
    ]
    return Column(route, route.demand, fig.cost(instance), fig.latency_s, fig.energy_j, compute, links, keys)


def storage_nodes(instance: Instance) -> set[int]:
    """Nodes whose parameter memory could bind: finite and below all models' parameters together."""
    total = sum(m.total_param_bytes for m in instance.models.values())
    return {n.index for n in instance.nodes if n.memory_bytes < total}
