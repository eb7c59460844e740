"""The profile's ``graph`` section: the captured dataflow graph, node by node.

The chain of layers is one topological order of the graph grouped into cut
positions; a device/server partition that is no prefix of that order (a
branch kept on the device while its sibling runs on the server) is only
visible in the graph. ``dag-mincut`` (DADS-style) partitions this graph.

Each compute node of the capture becomes one :class:`~placement.schema.GraphNodeSpec`:
its MACs, the bytes of the parameters it reads first, the bytes of its output
at the profile's dtype, its estimated latency on every catalogued device
(the same per-op model the layers' estimates sum) and the chain layer it
belongs to. Placeholders are the single source ``input``.
"""

from __future__ import annotations

from torch import fx

from .chain import DTYPE_BYTES, Chain, param_storage_bytes


def graph_section(chain: Chain, dtype: str, node_latency_s: dict[str, list[float]]) -> tuple[dict | None, str]:
    """The ``graph`` of a profile and a note on how it was built.

    Parameters
    ----------
    chain : Chain
        The model's chain (its capture holds the graph).
    dtype : str
        Precision of the byte figures.
    node_latency_s : dict
        Device type -> per-node estimated latency (seconds), in the order of
        ``chain.capture.nodes`` (:func:`profiling.estimate.estimate_nodes`),
        written as given.

    Returns
    -------
    (dict or None, str)
        The section (``None`` when the graph has no single output node, which
        the format requires) and the note explaining it.
    """
    cap = chain.capture
    if not cap.nodes:
        return None, "no graph: the model has no compute nodes"
    if cap.output.all_input_nodes != [cap.nodes[-1]]:
        return None, "no graph: the model's output is not the single last node of its graph (several outputs)"
    elem = DTYPE_BYTES[dtype]
    layer_of = {}
    for lay in chain.layers:
        for p in range(lay.start, lay.end + 1):
            layer_of[p] = lay.index
    names = {node: _graph_name(node) for node in cap.nodes}
    inputs = set(cap.inputs)
    nodes = []
    for p, node in enumerate(cap.nodes):
        srcs: list[str] = []
        for src in node.all_input_nodes:
            name = "input" if src in inputs else names.get(src)
            if name is not None and name not in srcs:
                srcs.append(name)
        entry = {
            "name": names[node],
            "inputs": srcs,
            "macs": cap.costs[node].macs,
            "param_bytes": sum(param_storage_bytes(t.shape, dtype) for _, t in cap.params.get(node, [])),
            "out_bytes": cap.values[node].nbytes(elem),
            "latency_s": {d: per_node[p] for d, per_node in node_latency_s.items()},
            "layer": layer_of[p],
        }
        nodes.append(entry)
    note = (
        f"one node per compute node of the captured graph ({len(nodes)} nodes), in its topological order; "
        "inputs are the nodes whose outputs it reads ('input' is the model input); out_bytes at "
        f"{dtype}; param_bytes are the parameters first read by the node; latency_s are the per-node estimates "
        "the layers' device estimates sum; layer is the chain layer holding the node"
    )
    return {"nodes": nodes}, note


def _graph_name(node: fx.Node) -> str:
    # "input" names the model input in the format; a compute node never takes it
    return node.name if node.name != "input" else "input_"
