"""Tracing a model into one fx graph: torch.fx first, torch.export where fx cannot.

torch.fx symbolic tracing keeps ``nn`` modules as nodes, so layer names read
like the model's attributes; ``torch.export`` (non-strict) takes over where fx
cannot trace, e.g. Python control flow on tensor shapes. When both fail,
:class:`CaptureError` names the construct (file, line and source text of the
user's code) and what each tracer said.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import logging
import os
import traceback

import torch
from torch import fx
from torch.utils._pytree import tree_unflatten

from placement.errors import IdnplanError

_TORCH_DIR = os.path.dirname(torch.__file__)
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


class CaptureError(IdnplanError):
    """Neither torch.fx nor torch.export could capture the model's graph (exit code 2)."""

    exit_code = 2


def _user_frame(exc: BaseException) -> str | None:
    """``file:line: source`` of the deepest traceback frame outside torch."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(_TORCH_DIR) or frame.filename.startswith("<"):
            continue
        if os.path.dirname(os.path.abspath(frame.filename)) == _OWN_DIR:
            continue
        line = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
        found = f"{os.path.basename(frame.filename)}:{frame.lineno}: {line}"
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _trace_fx(model: torch.nn.Module) -> fx.GraphModule:
    tracer = fx.Tracer()
    graph = tracer.trace(model)
    return fx.GraphModule(tracer.root, graph, model.__class__.__name__)


@contextlib.contextmanager
def _quiet_logs():
    """torch.export logs and prints whole graphs when it fails; the caller reports the failure itself."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logging.disable(previous)


def _trace_export(model: torch.nn.Module, args: tuple) -> fx.GraphModule:
    with _quiet_logs():
        program = torch.export.export(model, args, strict=False)
    gm = program.module()
    # The exported module carries a guard node re-checking input shapes; the
    # capture is specialised to these shapes already, so it is dropped.
    for node in list(gm.graph.nodes):
        if node.op == "call_module" and node.target == "_guards_fn":
            gm.graph.erase_node(node)
    # Its graph returns flat outputs and a pytree codegen rebuilds the model's
    # output structure; the structure goes into the graph itself so that the
    # pieces cut from it (profiling.split) return what the model returns.
    codegen = gm.graph._codegen
    spec = getattr(getattr(codegen, "pytree_info", None), "out_spec", None)
    if spec is not None:
        out = next(n for n in gm.graph.nodes if n.op == "output")
        flat = out.args[0] if isinstance(out.args[0], (tuple, list)) else (out.args[0],)
        out.args = (tree_unflatten(list(flat), spec),)
        gm.graph._codegen = fx.graph.CodeGen()
    gm.recompile()
    return gm


def trace(model: torch.nn.Module, args: tuple, tracer: str = "auto") -> tuple[fx.GraphModule, str, list[str]]:
    """Trace ``model`` with torch.fx, else torch.export.

    Parameters
    ----------
    model : torch.nn.Module
        The model, in eval mode.
    args : tuple of torch.Tensor
        Example inputs.
    tracer : {"auto", "fx", "export"}
        Force one tracer; "auto" tries fx first.

    Returns
    -------
    gm, name, notes
        The graph module, the tracer that produced it and notes for the profile.

    Raises
    ------
    CaptureError
        When no tracer can capture the model, naming the construct.
    """
    errors: list[tuple[str, BaseException]] = []
    if tracer in ("auto", "fx"):
        try:
            return _trace_fx(model), "torch.fx", []
        except Exception as exc:  # noqa: BLE001 - any trace failure means: try the next tracer
            errors.append(("torch.fx", exc))
    if tracer in ("auto", "export"):
        try:
            gm = _trace_export(model, args)
            notes = []
            if errors:
                where = _user_frame(errors[0][1]) or "unknown location"
                notes.append(f"torch.fx could not trace ({where}; {_first_line(errors[0][1])}); captured with torch.export")
            return gm, "torch.export", notes
        except Exception as exc:  # noqa: BLE001
            errors.append(("torch.export", exc))
    parts = []
    for name, exc in errors:
        where = _user_frame(exc)
        parts.append(f"{name} failed at {where or 'an unknown location'} ({_first_line(exc)})")
    raise CaptureError(
        f"cannot capture the graph of {type(model).__name__}: " + "; ".join(parts)
        + ". Data-dependent Python control flow cannot be traced: express it with torch.where or torch.cond,"
        " or move it out of forward()."
    )
