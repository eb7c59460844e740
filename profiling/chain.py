"""From a captured graph to the chain of cut positions of DESIGN.md.

The compute nodes of the graph, in its topological order, are positions
0..N-1; a *cut after position p* hands every value produced at or before p
and still used after p (the live set) to the rest of the model. Any position
is a valid cut; grouping only chooses which positions the profile exposes, so
the chain reads well:

1. Every node doing multiply-accumulates (conv, linear, matmul, attention) is
   an *anchor* and gets a layer of its own; MAC-free nodes (norms,
   activations, pooling, adds, reshapes) join a neighbouring anchor.
2. Between two consecutive anchors exactly one cut is kept: the position with
   the fewest live bytes. Among positions within 1 % of that minimum, the one
   on the strongest module boundary (most multi-node module calls ending
   before it or starting after it) wins, then the latest one. So conv+bn+relu
   form one layer, residual adds close their block, and every block
   boundary (ResNet/MobileNet/EfficientNet blocks, ViT encoder layers) is a
   cut: there only the block output is live.
3. MAC-free nodes before the first anchor join the first layer; those after
   the last anchor join the last layer.
4. A block (a module call spanning several nodes) that ends with only its
   output live is always followed by a cut, even where rule 2 chose a smaller
   cut a little later (before global pooling, the last block's output and the
   pooled vector are both kept). Such a layer may have no MACs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from torch import fx

from .capture import Capture

#: Positions within this fraction of the smallest cut between two anchors may
#: be chosen for being on a module boundary (readability over a few bytes).
BOUNDARY_TOLERANCE = 0.01

_PLUMBING = re.compile(r"^(getitem|getattr|size|view|reshape|contiguous|flatten|permute|transpose|expand|_assert)$")

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}


@dataclass
class Layer:
    """One cut position: the nodes from ``start`` to ``end`` (inclusive) and the cut after them.

    Byte figures are element counts so they can be priced at any dtype
    (:meth:`Chain.out_bytes` and friends).
    """

    index: int
    name: str
    start: int
    end: int
    macs: int
    elementwise_flops: int
    params: int
    param_tensors: list = field(default_factory=list)
    op_types: list[str] = field(default_factory=list)


@dataclass
class Chain:
    """A captured model as a chain of layers, with live sets at every cut.

    Attributes
    ----------
    capture : Capture
        The graph and its recorded figures.
    layers : list of Layer
        The chain, in execution order.
    live_after : list of list of fx.Node
        For every position p, the values live across the cut after p
        (inputs included), in a stable order.
    """

    capture: Capture
    layers: list[Layer]
    live_after: list[list[fx.Node]]

    @property
    def nodes(self) -> list[fx.Node]:
        return self.capture.nodes

    def cut_values(self, layer: int) -> list[fx.Node]:
        """Values live across the cut after ``layer`` (what a head returns)."""
        return self.live_after[self.layers[layer].end]

    def values_bytes(self, values: list[fx.Node], elem_size: int) -> int:
        return sum(self.capture.values[v].nbytes(elem_size) for v in values)

    def out_bytes(self, layer: int, elem_size: int = 4) -> int:
        """Bytes of every tensor live across the cut after ``layer``."""
        return self.values_bytes(self.cut_values(layer), elem_size)

    def input_bytes(self, elem_size: int = 4) -> int:
        return self.values_bytes(self.capture.inputs, elem_size)

    def peak_activation_bytes(self, layer: int, elem_size: int = 4) -> int:
        """Largest working set while the layer runs: live values (each storage once)
        plus the node's output, or plus its largest kernel temporary."""
        lay = self.layers[layer]
        best = 0
        for p in range(lay.start, lay.end + 1):
            before = self.live_after[p - 1] if p > 0 else list(self.capture.inputs)
            node = self.nodes[p]
            storages: dict[int, tuple[int, int]] = {}
            for v in [*before, node]:
                for key, size in self.capture.values[v].storages.items():
                    storages[key] = size
            held = sum(fe * elem_size + ob for fe, ob in storages.values())
            temp = self.values_bytes(before, elem_size) + self.capture.workspace[node] * elem_size
            best = max(best, held, temp)
        return best

    def param_bytes(self, layer: int, dtype: str = "float32") -> int:
        """Bytes of the layer's parameters stored at ``dtype``.

        int8 storage keeps 1-D parameters (biases, norm scales) at 4 bytes,
        as int8 runtimes (CMSIS-NN, TFLite Micro) keep int32 biases.
        """
        return sum(param_storage_bytes(p.shape, dtype) for _, p in self.layers[layer].param_tensors)


def param_storage_bytes(shape, dtype: str) -> int:
    """Bytes of one parameter tensor of ``shape`` stored at ``dtype``."""
    numel = 1
    for s in shape:
        numel *= int(s)
    if dtype == "int8" and len(shape) <= 1:
        return 4 * numel
    return DTYPE_BYTES[dtype] * numel


def _liveness(cap: Capture) -> list[list[fx.Node]]:
    pos = {n: i for i, n in enumerate(cap.nodes)}
    end = len(cap.nodes)
    last_use: dict[fx.Node, int] = {}
    for v in [*cap.inputs, *cap.nodes]:
        uses = [end if u.op == "output" else pos[u] for u in v.users if u.op == "output" or u in pos]
        if uses:
            last_use[v] = max(uses)
    live: list[fx.Node] = [v for v in cap.inputs if last_use.get(v, -1) >= 0]
    out = []
    for p, node in enumerate(cap.nodes):
        if node in last_use:
            live.append(node)
        live = [v for v in live if last_use[v] > p]
        out.append(list(live))
    return out


def _module_spans(cap: Capture) -> tuple[list[int], list[int]]:
    """Per position: how many multi-node module calls end there / start there."""
    n = len(cap.nodes)
    ends, starts = [0] * n, [0] * n
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    count: dict[str, int] = {}
    for p, node in enumerate(cap.nodes):
        for key in cap.module_stacks[node]:
            first.setdefault(key, p)
            last[key] = p
            count[key] = count.get(key, 0) + 1
    for key, c in count.items():
        # a span that is not contiguous is not a block; a single node is a leaf call
        if c >= 2 and last[key] - first[key] + 1 == c:
            ends[last[key]] += 1
            starts[first[key]] += 1
    return ends, starts


def _choose_cut(lo: int, hi: int, sizes: list[int], ends: list[int], starts: list[int]) -> int:
    """The cut position in [lo, hi] (cut after it) between two anchors."""
    smallest = min(sizes[lo : hi + 1])
    best, best_key = lo, None
    for p in range(lo, hi + 1):
        if sizes[p] > smallest * (1 + BOUNDARY_TOLERANCE):
            continue
        strength = ends[p] + (starts[p + 1] if p + 1 < len(starts) else 0)
        key = (strength, p)
        if best_key is None or key > best_key:
            best, best_key = p, key
    return best


def _add_block_ends(cuts: list[int], live: list[list[fx.Node]], sizes: list[int], ends: list[int]) -> list[int]:
    """Also cut where a block ends with only its output live, when that cut differs
    in size from the next cut (e.g. before global pooling: the last block's output
    and the pooled vector are both useful split points)."""
    out: list[int] = []
    prev = -1
    for cut in cuts:
        for p in range(prev + 1, cut):
            if ends[p] and len(live[p]) == 1 and abs(sizes[p] - sizes[cut]) > BOUNDARY_TOLERANCE * sizes[cut]:
                out.append(p)
        out.append(cut)
        prev = cut
    return out


def _part_name(cap: Capture, node: fx.Node) -> str:
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    paths = [v[0] if isinstance(v, tuple) else str(v) for v in stack.values()]
    path = paths[-1] if paths else ""
    op = re.sub(r"_\d+$", "", node.name)
    return f"{path}.{op}" if path else op


def _layer_name(parts: list[str]) -> str:
    """Join node names, dropping the module path a name shares with the previous one.

    ``layer1.0.conv2``, ``layer1.0.bn2``, ``layer1.0.relu`` -> ``layer1.0.conv2.bn2.relu``.
    """
    out: list[str] = []
    prev: list[str] = []
    for part in parts:
        tokens = part.split(".")
        k = 0
        while k < min(len(prev), len(tokens)) - 1 and prev[k] == tokens[k]:
            k += 1
        piece = tokens[k:]
        if out and ".".join(piece) == out[-1]:
            continue
        out.append(".".join(piece))
        prev = tokens
    if len(out) > 7:
        out = out[:4] + ["..."] + out[-2:]
    return ".".join(out)


def build_chain(cap: Capture, dtype_elem_size: int = 4) -> Chain:
    """Group the captured nodes into the chain of DESIGN.md.

    Parameters
    ----------
    cap : Capture
        From :func:`profiling.capture.capture`.
    dtype_elem_size : int
        Bytes per floating-point element used to compare cut sizes.

    Returns
    -------
    Chain
    """
    live = _liveness(cap)
    n = len(cap.nodes)
    sizes = [sum(cap.values[v].nbytes(dtype_elem_size) for v in live[p]) for p in range(n)]
    anchors = [p for p, node in enumerate(cap.nodes) if cap.costs[node].macs > 0]
    ends, starts = _module_spans(cap)
    cuts = [_choose_cut(a, b - 1, sizes, ends, starts) for a, b in zip(anchors, anchors[1:])]
    cuts.append(n - 1)
    cuts = _add_block_ends(cuts, live, sizes, ends)
    layers: list[Layer] = []
    start = 0
    for i, end in enumerate(cuts):
        nodes = cap.nodes[start : end + 1]
        costs = [cap.costs[x] for x in nodes]
        tensors = [t for x in nodes for t in cap.params[x]]
        parts = [_part_name(cap, x) for x in nodes]
        shown = [p for p in parts if not _PLUMBING.match(p.rsplit(".", 1)[-1])] or parts
        op_types = sorted({cat for c in costs for cat, oc in c.by_category.items() if cat != "view" and (oc.macs or oc.elementwise_flops or cat == "copy")})
        layers.append(
            Layer(
                index=i,
                name=_layer_name(shown),
                start=start,
                end=end,
                macs=sum(c.macs for c in costs),
                elementwise_flops=sum(c.elementwise_flops for c in costs),
                params=sum(p.numel() for _, p in tensors),
                param_tensors=tensors,
                op_types=op_types,
            )
        )
        start = end + 1
    _dedupe_names(layers)
    return Chain(capture=cap, layers=layers, live_after=live)


def _dedupe_names(layers: list[Layer]) -> None:
    seen: dict[str, int] = {}
    for lay in layers:
        k = seen.get(lay.name, 0)
        seen[lay.name] = k + 1
        if k:
            lay.name = f"{lay.name}#{k + 1}"


