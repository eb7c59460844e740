"""Graph capture: trace a model into one fx graph (:mod:`profiling.tracing`)
and run it once, recording every node's value sizes, storage, MACs,
element-wise FLOPs and parameters.

Capture specialises the graph to the example input: values that are pure
shape metadata (``x.shape[0]``, ``x.size(1) // 4``) are folded into
constants, so cut sets contain only tensors. A profile is per input shape
anyway.
"""

from __future__ import annotations

import builtins
import operator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx
from torch.utils._pytree import tree_flatten

from placement.errors import InputError

from .counting import CountingMode, NodeCost
from .tracing import CaptureError, trace

__all__ = ["Capture", "CaptureError", "ValueInfo", "capture", "trace"]
_COMPUTE_OPS = ("call_function", "call_method", "call_module")
_META_ATTRS = {"shape", "dtype", "device", "ndim", "is_cuda", "layout", "requires_grad"}
_META_METHODS = {"size", "dim", "numel", "nelement", "type", "get_device", "element_size"}
_PURE_FUNCS = {
    operator.getitem, operator.add, operator.sub, operator.mul, operator.floordiv, operator.truediv,
    operator.mod, operator.pow, operator.eq, operator.ne, operator.lt, operator.le, operator.gt,
    operator.ge, operator.neg, operator.not_, operator.and_, operator.or_, builtins.len, builtins.int,
    builtins.float, builtins.min, builtins.max, builtins.tuple, builtins.list, builtins.abs,
}
_CONSTANT_TYPES = (int, float, bool, str, torch.dtype, torch.device, torch.Size, type(None))


@dataclass
class ValueInfo:
    """Size of one graph value (a node's result), split so it can be re-priced per dtype.

    Attributes
    ----------
    float_elems : int
        Floating-point tensor elements (their bytes depend on the profile dtype).
    other_bytes : int
        Bytes of integer/bool tensors, plus 8 bytes per Python scalar.
    storages : dict
        Storage id -> (float_elems, other_bytes) of the storages the value
        refers to; two values that alias (views, in-place ops) share an id.
    """

    float_elems: int = 0
    other_bytes: int = 0
    storages: dict[int, tuple[int, int]] = field(default_factory=dict)

    def nbytes(self, elem_size: int) -> int:
        return self.float_elems * elem_size + self.other_bytes


@dataclass
class Capture:
    """A traced, executed and constant-folded model graph.

    Attributes
    ----------
    gm : torch.fx.GraphModule
        The graph; shares parameters with the original model.
    tracer : str
        ``"torch.fx"`` or ``"torch.export"``.
    inputs : list of fx.Node
        Placeholder nodes, in call order.
    nodes : list of fx.Node
        Compute nodes in the graph's (topological) order.
    values : dict
        Node -> :class:`ValueInfo` for inputs and compute nodes.
    costs : dict
        Node -> :class:`~profiling.counting.NodeCost`.
    params : dict
        Node -> list of (qualified name, parameter) first used at that node.
    param_users : dict
        Node -> names of every parameter the node reads (shared ones included).
    workspace : dict
        Node -> floating-point elements of the largest tensor an ATen kernel
        inside the node produced (temporaries that never become graph values).
    module_stacks : dict
        Node -> list of module-call keys enclosing the node, outermost first.
    total_params : int
        Parameters of the model (``sum(p.numel())``, each tensor once).
    unused_params : list of str
        Parameters the traced forward pass never used.
    notes : list of str
        What the capture had to do (e.g. why fx was not used).
    """

    gm: fx.GraphModule
    tracer: str
    inputs: list[fx.Node]
    nodes: list[fx.Node]
    values: dict[fx.Node, ValueInfo]
    costs: dict[fx.Node, NodeCost]
    params: dict[fx.Node, list[tuple[str, torch.Tensor]]]
    param_users: dict[fx.Node, list[str]]
    workspace: dict[fx.Node, int]
    module_stacks: dict[fx.Node, list[str]]
    total_params: int
    unused_params: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def output(self) -> fx.Node:
        return next(n for n in reversed(self.gm.graph.nodes) if n.op == "output")

    @property
    def uncounted_ops(self) -> list[str]:
        """ATen operators met that have neither a formula nor a known zero cost."""
        return sorted({op for c in self.costs.values() for op in c.uncounted})


# -- execution and recording ------------------------------------------------------------


def _value_info(value: Any) -> ValueInfo:
    info = ValueInfo()
    leaves, _ = tree_flatten(value)
    for leaf in leaves:
        if isinstance(leaf, torch.Tensor):
            if leaf.is_floating_point():
                fe, ob = leaf.numel(), 0
            else:
                fe, ob = 0, leaf.numel() * leaf.element_size()
            info.float_elems += fe
            info.other_bytes += ob
            try:
                storage = leaf.untyped_storage()
                key, size = storage.data_ptr(), storage.nbytes() // max(leaf.element_size(), 1)
            except (RuntimeError, NotImplementedError):  # tensors without a storage
                key, size = id(leaf), leaf.numel()
            prev = info.storages.get(key, (0, 0))
            per = (size, 0) if leaf.is_floating_point() else (0, size * leaf.element_size())
            info.storages[key] = (max(prev[0], per[0]), max(prev[1], per[1]))
        elif isinstance(leaf, (int, float, bool)):
            info.other_bytes += 8
    return info


class _Recorder(fx.Interpreter):
    """Runs the graph node by node under :class:`CountingMode`, keeping every value."""

    def __init__(self, gm: fx.GraphModule, mode: CountingMode):
        super().__init__(gm, garbage_collect_values=False)
        self.mode = mode
        self.costs: dict[fx.Node, NodeCost] = {}
        self.current: fx.Node | None = None

    def run_node(self, n: fx.Node) -> Any:
        self.current = n
        if n.op not in _COMPUTE_OPS:
            return super().run_node(n)
        cost = NodeCost()
        self.costs[n] = cost
        self.mode.current = cost
        try:
            return super().run_node(n)
        finally:
            self.mode.current = None


def _is_constant(value: Any) -> bool:
    leaves, _ = tree_flatten(value)
    return all(isinstance(x, _CONSTANT_TYPES) for x in leaves)


def _foldable(node: fx.Node, env: dict, folded: set) -> bool:
    """A node computing shape metadata only, whose value is a Python constant."""
    if node.op not in ("call_function", "call_method") or not _is_constant(env[node]):
        return False
    deps = node.all_input_nodes
    if node.op == "call_function" and node.target is builtins.getattr:
        return node.args[1] in _META_ATTRS
    if node.op == "call_method" and node.target in _META_METHODS:
        return all(d in folded or d.op == "placeholder" or isinstance(env.get(d), torch.Tensor) for d in deps)
    if node.op == "call_function" and node.target in _PURE_FUNCS:
        return all(d in folded for d in deps)
    if node.op == "call_function" and node.target is torch._assert:
        return all(d in folded for d in deps)
    return False


def _fold_constants(gm: fx.GraphModule, env: dict) -> set[fx.Node]:
    """Replace shape-metadata nodes by their values; drop asserts on them."""
    folded: set[fx.Node] = set()
    for node in gm.graph.nodes:
        if _foldable(node, env, folded):
            folded.add(node)
    for node in folded:
        value = env[node]
        for user in list(node.users):
            user.args = fx.node.map_arg(user.args, lambda a, n=node, v=value: v if a is n else a)
            user.kwargs = fx.node.map_arg(user.kwargs, lambda a, n=node, v=value: v if a is n else a)
    for node in reversed(list(gm.graph.nodes)):
        if node in folded and not node.users:
            gm.graph.erase_node(node)
    gm.recompile()
    return folded


def _module_stack(node: fx.Node) -> list[str]:
    stack = node.meta.get("nn_module_stack") or {}
    return list(stack.keys())


def capture(model: torch.nn.Module, args: tuple, tracer: str = "auto") -> Capture:
    """Trace ``model``, run it once on ``args`` and record what the profile needs.

    Parameters
    ----------
    model : torch.nn.Module
        The model; it is put in eval mode (profiles describe inference).
    args : tuple of torch.Tensor
        Example inputs, on the device the model lives on.
    tracer : {"auto", "fx", "export"}
        See :func:`trace`.

    Returns
    -------
    Capture
    """
    model.eval()
    gm, name, notes = trace(model, args, tracer)
    mode = CountingMode()
    rec = _Recorder(gm, mode)
    try:
        with torch.no_grad(), mode:
            rec.run(*args)
    except Exception as exc:  # noqa: BLE001 - the model rejects this input: the user's input error
        shapes = ", ".join(str(list(a.shape)) for a in args if isinstance(a, torch.Tensor))
        where = rec.current.name if rec.current is not None else "?"
        raise InputError(
            f"{type(model).__name__} cannot run on input shape(s) {shapes}: node '{where}' raised "
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        ) from None
    env = rec.env
    folded = _fold_constants(gm, env)

    params_by_id = {id(p): (n, p) for n, p in gm.named_parameters(remove_duplicate=False)}
    seen: set[int] = set()
    inputs, nodes = [], []
    values: dict[fx.Node, ValueInfo] = {}
    params: dict[fx.Node, list] = {}
    param_users: dict[fx.Node, list[str]] = {}
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            inputs.append(node)
            values[node] = _value_info(env[node])
        elif node.op in _COMPUTE_OPS and node not in folded:
            nodes.append(node)
            values[node] = _value_info(env[node])
            params[node] = []
            tensors = []
            if node.op == "call_module":
                tensors = [(f"{node.target}.{k}", p) for k, p in gm.get_submodule(node.target).named_parameters()]
            for dep in node.all_input_nodes:
                if dep.op == "get_attr" and id(env[dep]) in params_by_id:
                    tensors.append(params_by_id[id(env[dep])])
            param_users[node] = [params_by_id[id(p)][0] for _, p in tensors if id(p) in params_by_id]
            for pname, p in tensors:
                if id(p) not in seen:
                    seen.add(id(p))
                    params[node].append((pname, p))
    unique = {id(p): (n, p) for n, p in model.named_parameters()}
    total = sum(p.numel() for _, p in unique.values())
    unused = sorted(n for i, (n, _) in unique.items() if i not in seen and i in params_by_id)
    return Capture(
        gm=gm,
        tracer=name,
        inputs=inputs,
        nodes=nodes,
        values=values,
        costs={n: rec.costs[n] for n in nodes},
        params=params,
        param_users=param_users,
        workspace={n: rec.costs[n].max_out_float_elems for n in nodes},
        module_stacks={n: _module_stack(n) for n in nodes},
        total_params=total,
        unused_params=unused,
        notes=notes,
    )
