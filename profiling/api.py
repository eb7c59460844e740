"""The profiler's front door: model in, :class:`~placement.schema.ProfileSpec` out."""

from __future__ import annotations

import copy
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import torch

from placement.catalog import builtin_catalog
from placement.errors import InputError
from placement.fileio import atomic_write_text, parse_model, read_document
from placement.schema import ProfileSpec

from .capture import capture
from .chain import DTYPE_BYTES, Chain, build_chain
from .counting import ELEMENTWISE_COST
from .energy import estimated_host_power_w, open_meter
from .estimate import device_assumptions, estimate_layers, estimate_nodes
from .graph import graph_section
from .latency import HostTiming, measure_host, reliability_warnings
from .loader import LoadedModel, load_model

DTYPES = ("float32", "float16", "int8")


def _sig(x: float, digits: int = 6) -> float:
    """Round to ``digits`` significant digits (keeps profile files small and stable)."""
    return float(f"{x:.{digits}g}")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _resolve_devices(devices) -> list[str]:
    catalog = builtin_catalog()
    if devices is None or devices == "all":
        return list(catalog)
    if not isinstance(devices, str) and len(devices) == 0:
        return []  # the API's way to skip device estimates
    names = [d.strip() for d in (devices.split(",") if isinstance(devices, str) else devices) if d.strip()]
    if not names:
        raise InputError(f"--devices names no device type (got {devices!r}); leave it out for the whole catalog, or name some of: {', '.join(catalog)}")
    unknown = [d for d in names if d not in catalog]
    if unknown:
        raise InputError(f"unknown device type(s) {', '.join(unknown)}; known: {', '.join(catalog)}")
    return names


def _example_inputs(shapes, example_input) -> tuple:
    if example_input is not None:
        return example_input if isinstance(example_input, tuple) else (example_input,)
    if shapes and isinstance(shapes[0], int):
        shapes = [tuple(shapes)]
    gen = torch.Generator().manual_seed(0)  # fixed input, global RNG untouched
    try:
        return tuple(torch.randn(tuple(s), generator=gen) for s in shapes)
    except (RuntimeError, ValueError, OverflowError) as exc:  # the allocator, or a dimension torch cannot index
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot create an input of shape {[list(s) for s in shapes]}: {first[:200]}") from None


def _shared_params(chain: Chain) -> dict[str, list[int]]:
    """Parameters read by nodes of more than one layer -> the layers reading them."""
    cap = chain.capture
    layer_of = {n: i for i, lay in enumerate(chain.layers) for n in cap.nodes[lay.start : lay.end + 1]}
    users: dict[str, set[int]] = {}
    for node, names in cap.param_users.items():
        for name in names:
            users.setdefault(name, set()).add(layer_of[node])
    return {k: sorted(v) for k, v in users.items() if len(v) > 1}


def _measure(model, chain, args, dtype, device, warmup, repeats, threads, notes) -> tuple[HostTiming | None, object]:
    """Host timing in the profile's dtype, where the host can run it natively."""
    if dtype == "int8":
        notes["latency.host"] = "not measured: int8 profiles re-price bytes only; the host runs no int8 kernels of this model"
        return None, None
    if dtype == "float16" and device == "cpu":
        notes["latency.host"] = (
            "not measured: float16 on this CPU runs emulated kernels (10-100x slower than float32), "
            "which would not describe a float16 deployment; profile on a GPU or use the estimates"
        )
        return None, None
    if device == "cuda":
        if not torch.cuda.is_available():
            raise InputError("device 'cuda' asked for, but torch.cuda.is_available() is False")
        if dtype == "float16":
            model = copy.deepcopy(model).to(torch.float16)
            args = tuple(a.to(torch.float16) for a in args)
            half_chain = build_chain(capture(model, args))
            if [lay.name for lay in half_chain.layers] != [lay.name for lay in chain.layers]:  # pragma: no cover
                raise InputError("the float16 copy of the model groups into other layers; profile in float32")
            chain = half_chain
        model.to("cuda")
        chain.capture.gm.to("cuda")
        args = tuple(a.to("cuda") for a in args)
    meter = open_meter(torch.cuda.current_device() if device == "cuda" else None)
    timing = measure_host(model, chain, args, warmup=warmup, repeats=repeats, threads=threads, meter=meter)
    return timing, meter


@dataclass(frozen=True)
class Timing:
    """How host latency and energy are measured.

    ``measure`` False skips measurement (counts and device estimates only);
    ``warmup``/``repeats``/``threads`` are the settings of
    :func:`profiling.latency.measure_host`; ``device`` is where the model runs
    (``cpu`` or ``cuda``); ``power_w`` is the host power to assume when energy
    cannot be read.
    """

    measure: bool = True
    warmup: int = 3
    repeats: int = 20
    threads: int | None = None
    device: str = "cpu"
    power_w: float | None = None


#: No host measurement: counts and device estimates only (fast and deterministic).
NO_TIMING = Timing(measure=False)


@dataclass(frozen=True)
class Meta:
    """Profile metadata; each field left None is filled from torchvision's weight metadata when known."""

    name: str | None = None
    source: str | None = None
    accuracy: float | None = None
    task: str | None = None


@dataclass(frozen=True)
class Captured:
    """A model captured once: the loaded model, its chain of cut positions and the example inputs."""

    loaded: LoadedModel
    chain: Chain
    args: tuple


def capture_model(model, input_shape=(1, 3, 224, 224), *, example_input=None, tracer: str = "auto") -> Captured:
    """Step 1: load (a module, a MODEL string or a :class:`LoadedModel`) and capture the chain of cuts.

    ``input_shape`` gives the shape(s) of a fixed random normal input (seed
    0) unless ``example_input`` is given; ``tracer`` is ``auto``, ``fx`` or
    ``export`` (:func:`profiling.capture.trace`).
    """
    if isinstance(model, str):
        loaded = load_model(model)
    elif isinstance(model, LoadedModel):
        loaded = model
    else:
        loaded = LoadedModel(model=model, name=type(model).__name__, source=f"{type(model).__module__}.{type(model).__qualname__}")
    args = _example_inputs(input_shape, example_input)
    cap = capture(loaded.model, args, tracer)
    if not cap.nodes:
        raise InputError(f"model '{loaded.name}' computes nothing from its input (no operators were captured: an identity, or a forward() that returns a constant); nothing to profile")
    return Captured(loaded, build_chain(cap), args)


def profile_model(model, input_shape=(1, 3, 224, 224), *, example_input=None, devices=None, dtype: str = "float32",
                  timing: Timing = Timing(), meta: Meta = Meta(), tracer: str = "auto", graph: bool = True) -> ProfileSpec:
    """Profile a PyTorch model layer by layer: :func:`capture_model`, then :func:`profile_captured`.

    Parameters
    ----------
    model : torch.nn.Module, str or LoadedModel
        A module, a MODEL string (``torchvision:resnet18``,
        ``package.module:callable``) resolved by :func:`profiling.loader.load_model`,
        or what that function returned (its metadata fills the profile).
    input_shape : tuple of int, or list of tuples
        Shape(s) of the example input(s); a fixed random normal input (seed 0).
    example_input : torch.Tensor or tuple, optional
        Use these inputs instead of random ones.
    devices, dtype, timing, meta, graph
        See :func:`profile_captured`.
    tracer : {"auto", "fx", "export"}
        Graph capture (see :func:`profiling.capture.trace`).

    Returns
    -------
    ProfileSpec
        The profile (``capture_model`` + ``profile_captured`` also give the
        :class:`~profiling.chain.Chain`, for :func:`split_model`).
    """
    captured = capture_model(model, input_shape, example_input=example_input, tracer=tracer)
    return profile_captured(captured, devices=devices, dtype=dtype, timing=timing, meta=meta, graph=graph)


def profile_captured(captured: Captured, *, devices=None, dtype: str = "float32", timing: Timing = Timing(),
                     meta: Meta = Meta(), graph: bool = True) -> ProfileSpec:
    """Step 2: count, measure (``timing``) and estimate (``devices``) a captured model.

    Parameters
    ----------
    devices : "all", list of str, comma-separated str, or None
        Catalog device types to estimate for (None or "all": the whole
        catalog; an empty list: none).
    dtype : {"float32", "float16", "int8"}
        Precision the byte figures describe (and the host runs, where native).
    timing : Timing
        Host measurement settings (:data:`NO_TIMING` to skip it).
    meta : Meta
        Profile metadata (name, source, accuracy, task).
    graph : bool
        Include the dataflow graph (``graph`` section, one entry per compute
        node) for DAG-aware methods such as ``dag-mincut``.
    """
    loaded, chain, args = captured.loaded, captured.chain, captured.args
    name, source, accuracy, task = meta.name, meta.source, meta.accuracy, meta.task
    latency, warmup, repeats, threads, device, host_power_w = timing.measure, timing.warmup, timing.repeats, timing.threads, timing.device, timing.power_w
    if dtype not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got '{dtype}'")
    if device not in ("cpu", "cuda"):
        raise InputError(f"device must be 'cpu' or 'cuda', got '{device}'")
    module = loaded.model
    device_names = _resolve_devices(devices)
    cap = chain.capture
    elem = DTYPE_BYTES[dtype]
    notes: dict[str, str] = {}

    timing, meter = _measure(module, chain, args, dtype, device, warmup, repeats, threads, notes) if latency else (None, None)
    host = _host_figures(timing, meter, host_power_w, device, notes)
    catalog = builtin_catalog()
    node_s = {d: estimate_nodes(chain, catalog[d]) for d in device_names}
    estimates = {d: estimate_layers(chain, d, catalog[d], node_latency_s=node_s[d]) for d in device_names}
    for d in device_names:
        notes[f"estimate.{d}"] = device_assumptions(d, catalog[d])
    other_dtypes = sorted({catalog[d].precision or "float32" for d in device_names} - {dtype})
    layers = [_layer_entry(chain, i, dtype, other_dtypes, timing, host, estimates) for i in range(len(chain.layers))]
    notes.update(_method_notes(chain, dtype, elem, args))
    graph_data = None
    if graph:
        graph_data, notes["graph"] = graph_section(chain, dtype, {d: [_sig(t) for t in ts] for d, ts in node_s.items()})

    total_macs = sum(lay.macs for lay in chain.layers)
    total_ew = sum(lay.elementwise_flops for lay in chain.layers)
    data = {
        "model": name or loaded.name,
        "source": source or loaded.source,
        "input_shape": list(args[0].shape) if len(args) == 1 else None,
        "dtype": dtype,
        "input_bytes": chain.input_bytes(elem),
        "macs": total_macs,
        "flops": 2 * total_macs + total_ew,
        "elementwise_flops": total_ew,
        "params": cap.total_params,
        "param_bytes": sum(lay["param_bytes"] for lay in layers),
        "accuracy": accuracy if accuracy is not None else loaded.accuracy,
        "task": task or loaded.task,
        "published_macs": loaded.published_macs,
        "tracer": cap.tracer,
        "host": host["info"],
        "assumptions": notes,
        "layers": layers,
        "graph": graph_data,
        "notes": f"input shapes {[list(a.shape) for a in args]}" if len(args) > 1 else None,
    }
    return parse_model(ProfileSpec, {k: v for k, v in data.items() if v is not None}, "the profile", None)


def _host_figures(timing: HostTiming | None, meter, host_power_w: float | None, device: str, notes: dict) -> dict:
    """The profile's ``host`` section, the host power used for energy, and their notes."""
    name = timing.device if timing else ("host-cuda" if device == "cuda" else "host-cpu")
    info: dict = {"device": name, "cpu": _cpu_name(), "torch_version": torch.__version__}
    if device == "cuda" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    if timing is None:
        return {"name": name, "info": info, "power_w": None, "measured_energy": False}
    measured = meter is not None and bool(meter.power_w)
    if measured:
        power, energy_note = meter.power_w, (
            f"measured: {meter.source}, {meter.runs} whole-model runs, {meter.power_w:.2f} W average; per layer = "
            "that average power x the layer's measured latency; the counter covers the whole package (other processes included)"
        )
    elif host_power_w is not None:
        power, energy_note = host_power_w, f"estimated: host_power_w {host_power_w} W (given) x measured latency"
    else:
        power, energy_note = estimated_host_power_w(timing.threads)
    notes[f"latency.{name}"] = (
        f"measured on this host ({_cpu_name()}), batch 1, {timing.threads} threads, torch {torch.__version__}: "
        f"median of {timing.repeats} timed runs after {timing.warmup} warm-up runs, spread = interquartile range; "
        f"per layer: each layer a runnable segment, segments timed back to back in one pass, passes interleaved "
        f"with whole-model runs, {timing.call_overhead_s * 1e6:.1f} us segment-call overhead subtracted; "
        f"sum of layers / whole model = {timing.sum_ratio:.3f}"
    )
    notes[f"energy.{name}"] = energy_note
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        load = None
    warned = reliability_warnings(timing.model_median_s, timing.model_spread_s, load, os.cpu_count())
    if warned:
        info["notes"] = "; ".join(warned)
    info.update(
        threads=timing.threads,
        measured_latency_s=_sig(timing.model_median_s),
        latency_spread_s=_sig(timing.model_spread_s),
        latency_min_s=_sig(timing.model_min_s),
        latency_max_s=_sig(timing.model_max_s),
        repeats=timing.repeats,
        warmup=timing.warmup,
        layer_latency_sum_s=_sig(timing.layer_sum_s),
        energy_source=energy_note,
        energy_j=_sig(meter.joules_per_run if measured else power * timing.model_median_s),
        power_w=_sig(power),
    )
    return {"name": name, "info": info, "power_w": power, "measured_energy": measured}


def _layer_entry(chain: Chain, i: int, dtype: str, other_dtypes: list[str], timing, host: dict, estimates: dict) -> dict:
    """One layer of the profile: counts, bytes, measured host and estimated device figures."""
    lay = chain.layers[i]
    elem = DTYPE_BYTES[dtype]
    entry: dict = {
        "name": lay.name,
        "macs": lay.macs,
        "param_bytes": chain.param_bytes(i, dtype),
        "out_bytes": chain.out_bytes(i, elem),
        "peak_activation_bytes": chain.peak_activation_bytes(i, elem),
        "params": lay.params,
        "flops": 2 * lay.macs + lay.elementwise_flops,
        "elementwise_flops": lay.elementwise_flops,
        "op_types": lay.op_types,
        "latency_s": {},
        "latency_source": {},
        "latency_spread_s": {},
        "energy_j": {},
        "energy_source": {},
        "param_bytes_by_dtype": {p: chain.param_bytes(i, p) for p in other_dtypes},
        "peak_activation_bytes_by_dtype": {p: chain.peak_activation_bytes(i, DTYPE_BYTES[p]) for p in other_dtypes},
    }
    if timing is not None:
        name, t = host["name"], timing.layer_median_s[i]
        entry["latency_s"][name] = _sig(t)
        entry["latency_source"][name] = "measured"
        entry["latency_spread_s"][name] = _sig(timing.layer_spread_s[i])
        entry["energy_j"][name] = _sig(t * host["power_w"])
        entry["energy_source"][name] = "measured" if host["measured_energy"] else "estimated"
    for d, per_layer in estimates.items():
        est = per_layer[i]
        entry["latency_s"][d] = _sig(est.latency_s)
        entry["latency_source"][d] = "estimated"
        entry["energy_j"][d] = _sig(est.energy_j)
        entry["energy_source"][d] = "estimated"
    return entry


def _method_notes(chain: Chain, dtype: str, elem: int, args: tuple) -> dict[str, str]:
    cap = chain.capture
    ew = ", ".join(f"{k} {v}" for k, v in ELEMENTWISE_COST.items())
    notes = {
        "capture": f"graph captured with {cap.tracer} in eval mode on a fixed random input (seed 0) of shape(s) "
        f"{[list(a.shape) for a in args]}; shape arithmetic folded to constants" + ("; " + "; ".join(cap.notes) if cap.notes else ""),
        "macs": "one multiply-accumulate = 1 MAC (torchvision's GFLOPS convention), counted per ATen kernel: convolutions "
        "(grouped, depthwise, transposed), mm/addmm/bmm/baddbmm (linear, matmul, einsum), fused attention kernels "
        "(scaled_dot_product_attention variants, nn.MultiheadAttention's _native_multi_head_attention fast path)",
        "flops": f"flops = 2 x macs + elementwise_flops; element-wise FLOPs per element: {ew}; pooling = window size per "
        "output; reductions and adaptive pooling = 1 per input element; conv/linear bias adds 1 per output",
        "chain": "layers are the graph's nodes in topological order, one layer per MAC node with the MAC-free nodes around it; "
        "between two MAC nodes the cut with the fewest live bytes is kept (a module boundary within 1 % of it preferred)",
        "out_bytes": f"bytes of every tensor live across the cut after the layer, at {dtype} ({elem} B per floating-point element)",
        "peak_activation_bytes": "largest working set while the layer runs: live tensors (each storage once) plus the node's "
        "output or its largest kernel temporary; kernel-internal scratch (im2col, fused-attention internals) and parameters excluded; "
        "a segment needs the maximum over its layers",
        "param_bytes": f"parameters at {dtype}; buffers (batch-norm running statistics) excluded, as they fold into the "
        "preceding weights; at int8, 1-D parameters (biases, norm scales) count 4 bytes (int32), as in CMSIS-NN/TFLite Micro; "
        "a segment needs the sum over its layers",
    }
    shared = _shared_params(chain)
    if shared:
        items = "; ".join(f"{k}: layers {v}" for k, v in sorted(shared.items())[:20])
        notes["shared_params"] = f"parameters read by several layers are counted once, at the first: {items}"
    if cap.unused_params:
        notes["unused_params"] = f"{len(cap.unused_params)} parameter tensors are never used by forward(): " + ", ".join(cap.unused_params[:10])
    if cap.uncounted_ops:
        notes["uncounted_ops"] = "ATen operators without a MAC/FLOP formula (counted as 0): " + ", ".join(cap.uncounted_ops)
    return notes


def _plain(value):
    """Integral floats as ints (``1814073344``, not ``1814073344.0``): shorter, same value."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def profile_json(profile: ProfileSpec) -> str:
    """JSON text of a profile: one field per line, one layer (and graph node) per line (small, diff-friendly)."""
    data = _plain(profile.model_dump(mode="json", exclude_none=True))
    items = []
    for key, value in data.items():
        if key == "layers":
            rows = ",\n".join("    " + json.dumps(lay, allow_nan=False) for lay in value)
            items.append(f'  "layers": [\n{rows}\n  ]')
        elif key == "graph":
            rows = ",\n".join("      " + json.dumps(n, allow_nan=False) for n in value["nodes"])
            items.append(f'  "graph": {{"nodes": [\n{rows}\n  ]}}')
        elif isinstance(value, dict) and value:
            inner = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v, allow_nan=False)}" for k, v in value.items())
            items.append(f"  {json.dumps(key)}: {{\n{inner}\n  }}")
        else:
            items.append(f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False)}")
    return "{\n" + ",\n".join(items) + "\n}\n"


def write_profile(profile: ProfileSpec, path: str | os.PathLike) -> None:
    """Write ``profile`` to ``path`` as JSON, atomically (the old file or the new one, never half)."""
    atomic_write_text(path, profile_json(profile))


def read_profile(path: str | os.PathLike) -> ProfileSpec:
    """Read and validate a profile file (:class:`~placement.errors.InputError` on problems)."""
    data, lines = read_document(path, display=str(path))
    return parse_model(ProfileSpec, data, str(Path(path)), lines)  # type: ignore[return-value]
