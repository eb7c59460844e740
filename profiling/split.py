"""Runnable pieces of a captured model: heads, tails and contiguous segments.

Every piece is a :class:`torch.fx.GraphModule` built from the nodes of the
captured graph; all pieces share the original model's parameters (nothing is
copied). A piece returns a tuple of the values live across its last cut, so
pieces compose: ``tail(*head(x))`` runs the whole model, and so does
``s3(*s2(*s1(x)))`` for consecutive segments.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import fx

from placement.errors import InputError

from .chain import Chain, build_chain


def build_segment(chain: Chain, first: int, last: int) -> fx.GraphModule:
    """A module computing layers ``first..last`` (inclusive) of ``chain``.

    Parameters
    ----------
    chain : Chain
        The model's chain (:func:`profiling.chain.build_chain`).
    first, last : int
        Layer indices, ``0 <= first <= last < len(chain.layers)``.

    Returns
    -------
    torch.fx.GraphModule
        Takes the values live across the cut before ``first`` (the model's
        inputs when ``first == 0``) as positional arguments; returns a tuple
        of the values live across the cut after ``last``, or the model's own
        output when ``last`` is the final layer.
    """
    n = len(chain.layers)
    if not 0 <= first <= last < n:
        raise InputError(f"segment {first}..{last} is outside the model's layers 0..{n - 1}")
    cap = chain.capture
    src = cap.gm.graph
    start = chain.layers[first].start
    end = chain.layers[last].end
    inputs = list(cap.inputs) if first == 0 else chain.live_after[start - 1]

    graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    for v in inputs:
        env[v] = graph.placeholder(_placeholder_name(v))
    attrs: dict[fx.Node, fx.Node] = {}
    # Submodules and attributes are registered under flat names on a fresh root:
    # the generated code then does one attribute lookup per call instead of a
    # chain of nn.Module.__getattr__ calls, which matters when small layers are
    # timed one by one (see profiling.latency).
    root = torch.nn.Module()

    def flat(target: str) -> str:
        return "m_" + target.replace(".", "_")

    def lookup(x: fx.Node) -> fx.Node:
        if x in env:
            return env[x]
        if x.op == "get_attr":  # parameters and buffers: re-read in every piece that uses them
            if x not in attrs:
                name = flat(x.target)
                if not hasattr(root, name):
                    _set_flat_attr(root, name, _get_attr(cap.gm, x.target))
                attrs[x] = graph.get_attr(name)
            return attrs[x]
        raise RuntimeError(f"value {x.name} is not available in segment {first}..{last}")  # pragma: no cover

    for node in cap.nodes[start : end + 1]:
        copied = graph.node_copy(node, lookup)
        if node.op == "call_module":
            name = flat(node.target)
            if not hasattr(root, name):
                root.add_module(name, cap.gm.get_submodule(node.target))
            copied.target = name
        env[node] = copied
    if last == n - 1:
        out = next(x for x in src.nodes if x.op == "output")
        graph.output(fx.node.map_arg(out.args[0], lookup))
    else:
        graph.output(tuple(lookup(v) for v in chain.live_after[end]))
    graph.lint()
    return fx.GraphModule(root, graph, f"{type(cap.gm).__name__}_{first}_{last}")


def _get_attr(module: torch.nn.Module, target: str):
    owner, _, name = target.rpartition(".")
    return getattr(module.get_submodule(owner) if owner else module, name)


def _set_flat_attr(root: torch.nn.Module, name: str, value) -> None:
    if isinstance(value, torch.nn.Parameter):
        root.register_parameter(name, value)
    elif isinstance(value, torch.Tensor):
        root.register_buffer(name, value)
    elif isinstance(value, torch.nn.Module):
        root.add_module(name, value)
    else:
        setattr(root, name, value)


def _placeholder_name(v: fx.Node) -> str:
    return v.name if v.op == "placeholder" else f"in_{v.name}"


class _Identity(torch.nn.Module):
    """Tail after the last layer: hands the head's outputs back as the model's output."""

    def __init__(self, spec: Any):
        super().__init__()
        self.spec = spec

    def forward(self, *values):
        return self.spec(values)


def split_model(
    model: torch.nn.Module,
    example_input: torch.Tensor | tuple,
    cut: int,
    *,
    chain: Chain | None = None,
) -> tuple[fx.GraphModule, torch.nn.Module]:
    """Split ``model`` after layer ``cut`` of its profile.

    Parameters
    ----------
    model : torch.nn.Module
        The model (put in eval mode).
    example_input : torch.Tensor or tuple of torch.Tensor
        An input of the shape the profile was made for.
    cut : int
        Layer index of the profile: the head computes layers ``0..cut``.
    chain : Chain, optional
        A chain already built for this model and input (e.g.
        ``capture_model(...).chain``), to skip capturing again.

    Returns
    -------
    head, tail : torch.nn.Module
        ``head(x)`` returns a tuple of the tensors live across the cut (their
        bytes are the profile's ``out_bytes[cut]``); ``tail(*head(x))``
        equals ``model(x)``. For the last layer the tail just returns the
        head's output in the model's output structure.

    Examples
    --------
    >>> head, tail = split_model(torchvision.models.resnet18(), torch.randn(1, 3, 224, 224), 8)
    >>> y = tail(*head(x))
    """
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    if chain is None:
        from .capture import capture

        chain = build_chain(capture(model, args))
    n = len(chain.layers)
    if not isinstance(cut, int) or not 0 <= cut < n:
        raise InputError(f"cut must be a layer index in 0..{n - 1}, got {cut!r}")
    if cut == n - 1:
        head = _full_as_tuple(chain)
        out = next(x for x in chain.capture.gm.graph.nodes if x.op == "output").args[0]
        flat, spec = torch.utils._pytree.tree_flatten(out)

        def rebuild(values, spec=spec):
            return torch.utils._pytree.tree_unflatten(list(values), spec)

        return head, _Identity(rebuild)
    return build_segment(chain, 0, cut), build_segment(chain, cut + 1, n - 1)


def _full_as_tuple(chain: Chain) -> fx.GraphModule:
    """The whole model, returning its output leaves as a flat tuple."""
    gm = build_segment(chain, 0, len(chain.layers) - 1)
    out = next(x for x in gm.graph.nodes if x.op == "output")
    leaves, _ = torch.utils._pytree.tree_flatten(out.args[0])
    out.args = (tuple(leaves),)
    gm.recompile()
    return gm


def head_output_bytes(outputs: tuple, elem_size: int | None = None) -> int:
    """Bytes of a head's outputs (tensors at their own dtype, or at ``elem_size`` for floats)."""
    total = 0
    for t in torch.utils._pytree.tree_flatten(outputs)[0]:
        if isinstance(t, torch.Tensor):
            size = elem_size if (elem_size and t.is_floating_point()) else t.element_size()
            total += t.numel() * size
        elif isinstance(t, (int, float, bool)):
            total += 8
    return total
