"""Latency, energy and memory estimates for catalogued target devices.

Every figure here is an *estimate* from a device model, never a measurement;
the profile labels it ``estimated`` and records the assumptions below in its
``assumptions`` section.

Device models
-------------
MCUs (catalog ``kind: mcu``, int8): MAC work runs at the catalog's
``macs_per_cycle`` of the named runtime (CMSIS-NN, ESP-NN, TinyEngine) times
``clock_hz``; element-wise work that the runtime does not fuse into the
preceding kernel (residual adds, pooling, softmax, layer norm) costs
:data:`MCU_CYCLES_PER_ELEMENT` cycles per element.

Other devices: a roofline per operator category. Each graph node costs the
larger of its compute time and its memory time, plus a fixed per-kernel
overhead:

- compute: MACs / (``effective_macs_per_s`` x :data:`COMPUTE_EFFICIENCY` of
  the category); the catalog's ``effective_macs_per_s`` is the sustained
  batch-1 throughput of the named runtime on dense convolutions, so dense
  conv/linear have factor 1;
- memory: bytes read and written (activations and weights at the device's
  precision) / (``memory_bandwidth_bytes_per_s`` x :data:`MEMORY_EFFICIENCY`);
- batch norms and single-input activations directly after a MAC node are
  fused into it (no extra memory traffic or kernel), as TensorRT, XNNPACK,
  oneDNN and CMSIS-NN do.

Memory: per layer the parameter bytes at the device's precision (the flash
footprint on an MCU: int8 weights, int32 biases) and the peak activation
bytes at that precision. A segment's footprint is the sum of its layers'
parameter bytes and the maximum of their peak activation bytes
(:func:`segment_footprint`).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import fx

from placement.schema import DeviceSpec

from .chain import DTYPE_BYTES, Chain

MAC_CATEGORIES = ("conv", "dwconv", "matmul", "attention")

#: Fraction of the device's effective MAC/s reached, by operator category.
COMPUTE_EFFICIENCY = {"conv": 1.0, "matmul": 1.0, "attention": 0.5, "dwconv": 0.25}
#: Fraction of theoretical memory bandwidth sustained by streaming kernels.
MEMORY_EFFICIENCY = 0.6
#: Fixed cost per kernel launch / operator dispatch, by device kind (seconds).
KERNEL_OVERHEAD_S = {"mcu": 0.0, "sbc": 2e-6, "server-cpu": 2e-6, "edge-gpu": 1e-5, "server-gpu": 5e-6, "other": 0.0}
#: Cycles per element of unfused element-wise work on MCUs (int8 SIMD kernels).
MCU_CYCLES_PER_ELEMENT = 2.0

_FUSABLE = {"batchnorm", "elementwise"}


@dataclass(frozen=True)
class DeviceEstimate:
    """Estimated figures of one layer on one device."""

    latency_s: float
    energy_j: float
    param_bytes: int
    peak_activation_bytes: int


def _tensor_inputs(node: fx.Node) -> list[fx.Node]:
    return [d for d in node.all_input_nodes if d.op != "get_attr"]


def fused_nodes(chain: Chain) -> set[fx.Node]:
    """Nodes a deployment runtime fuses into the MAC node they follow.

    A MAC-free node of only batch-norm / element-wise work, with a single
    tensor input produced by a MAC node or by another fused node of the same
    layer, is fused.
    """
    fused: set[fx.Node] = set()
    cap = chain.capture
    for lay in chain.layers:
        owners: set[fx.Node] = set()
        for node in cap.nodes[lay.start : lay.end + 1]:
            cost = cap.costs[node]
            if cost.macs > 0:
                owners.add(node)
                continue
            cats = {c for c, oc in cost.by_category.items() if c != "view" and oc.ops}
            inputs = _tensor_inputs(node)
            if cats and cats <= _FUSABLE and len(inputs) == 1 and inputs[0] in owners:
                fused.add(node)
                owners.add(node)
            elif not cats and len(inputs) == 1 and inputs[0] in owners:
                owners.add(node)  # a view or a no-op (eval dropout) keeps the chain fusable
    return fused


def _mcu_node_time(cost, fused: bool, spec: DeviceSpec) -> tuple[float, int]:
    clock = spec.clock_hz or 1.0
    macs_per_s = (spec.macs_per_cycle or 0) * clock or spec.effective_macs_per_s or 1.0
    t = cost.macs / macs_per_s
    if not fused and cost.macs == 0:
        t += cost.elementwise_flops * MCU_CYCLES_PER_ELEMENT / clock
    return t, 0


def _roofline_node_time(cost, fused: bool, spec: DeviceSpec, scale: float) -> tuple[float, int]:
    eff_macs = spec.effective_macs_per_s or (spec.peak_flops or 1.0) / 2
    bandwidth = (spec.memory_bandwidth_bytes_per_s or float("inf")) * MEMORY_EFFICIENCY
    peak = spec.peak_flops or 2 * eff_macs
    compute = sum(c.macs / (eff_macs * COMPUTE_EFFICIENCY.get(cat, 1.0)) for cat, c in cost.by_category.items() if c.macs)
    kernels = sum(c.ops for cat, c in cost.by_category.items() if cat in MAC_CATEGORIES)
    if fused:
        return compute, kernels
    moved = sum(c.bytes_moved for c in cost.by_category.values()) * scale
    if cost.macs == 0:
        compute += cost.elementwise_flops / peak
        kernels += sum(c.ops for cat, c in cost.by_category.items() if cat != "view")
    return max(compute, moved / bandwidth), kernels


def estimate_nodes(chain: Chain, spec: DeviceSpec, capture_elem_size: int = 4) -> list[float]:
    """Estimated latency (s) of every compute node of ``chain``'s graph on a device type.

    The same per-op model as :func:`estimate_layers` (which sums these over
    each layer): MAC/cycle figures on MCUs, the roofline elsewhere, plus a
    fixed cost per kernel launched. Nodes fused into a preceding MAC kernel
    cost nothing of their own.
    """
    precision = spec.precision or "float32"
    scale = DTYPE_BYTES[precision] / capture_elem_size
    mcu = spec.kind == "mcu"
    overhead = KERNEL_OVERHEAD_S.get(spec.kind or "other", 0.0)
    fused = fused_nodes(chain)
    cap = chain.capture
    out = []
    for node in cap.nodes:
        cost = cap.costs[node]
        if mcu:
            t, kernels = _mcu_node_time(cost, node in fused, spec)
        else:
            t, kernels = _roofline_node_time(cost, node in fused, spec, scale)
        out.append(t + kernels * overhead)
    return out


def estimate_layers(
    chain: Chain, name: str, spec: DeviceSpec, capture_elem_size: int = 4, node_latency_s: list[float] | None = None
) -> list[DeviceEstimate]:
    """Estimated figures of every layer of ``chain`` on device type ``name``.

    Parameters
    ----------
    chain : Chain
        The model's chain.
    name : str
        Catalog name of the device type.
    spec : DeviceSpec
        Its catalog entry.
    capture_elem_size : int
        Bytes per floating-point element of the run that recorded the traffic.
    node_latency_s : list of float, optional
        :func:`estimate_nodes` for this device, when already computed.

    Returns
    -------
    list of DeviceEstimate
    """
    precision = spec.precision or "float32"
    elem = DTYPE_BYTES[precision]
    power = spec.active_power_w or 0.0
    node_s = node_latency_s if node_latency_s is not None else estimate_nodes(chain, spec, capture_elem_size)
    out = []
    for i, lay in enumerate(chain.layers):
        total = float(sum(node_s[lay.start : lay.end + 1]))
        out.append(
            DeviceEstimate(
                latency_s=total,
                energy_j=total * power,
                param_bytes=chain.param_bytes(i, precision),
                peak_activation_bytes=chain.peak_activation_bytes(i, elem),
            )
        )
    return out


def device_assumptions(name: str, spec: DeviceSpec) -> str:
    """One line stating the model and figures behind a device's estimates."""
    precision = spec.precision or "float32"
    if spec.kind == "mcu":
        return (
            f"estimated, {precision} on {spec.runtime}: MACs / ({spec.macs_per_cycle} MAC/cycle x {spec.clock_hz:.4g} Hz); "
            f"unfused element-wise work {MCU_CYCLES_PER_ELEMENT} cycles/element; energy = active_power_w {spec.active_power_w} W x latency"
        )
    eff = ", ".join(f"{k} {v:g}" for k, v in COMPUTE_EFFICIENCY.items())
    return (
        f"estimated, {precision} on {spec.runtime}: per-node roofline max(MACs / (effective_macs_per_s {spec.effective_macs_per_s:.4g} x "
        f"efficiency [{eff}]), bytes / (memory_bandwidth_bytes_per_s {spec.memory_bandwidth_bytes_per_s:.4g} x {MEMORY_EFFICIENCY})) + "
        f"{KERNEL_OVERHEAD_S.get(spec.kind or 'other', 0.0):g} s per kernel; batch norm and activations after a MAC node fused; "
        f"energy = active_power_w {spec.active_power_w} W x latency"
    )


def segment_footprint(profile, first: int, last: int, dtype: str | None = None) -> tuple[float, float]:
    """Parameter (flash) bytes and peak activation (RAM) bytes of layers ``first..last``.

    Parameters
    ----------
    profile : placement.schema.ProfileSpec
        A profile.
    first, last : int
        Inclusive layer range.
    dtype : str, optional
        Precision of the device (``"int8"`` for MCUs); default: the profile's own.

    Returns
    -------
    param_bytes, peak_activation_bytes : float
        Sum of parameter bytes and maximum of peak activation bytes.
    """
    layers = profile.layers[first : last + 1]
    if dtype is None or dtype == profile.dtype:
        params = sum(lay.param_bytes for lay in layers)
        peak = max((lay.peak_activation_bytes or 0.0) for lay in layers)
        return float(params), float(peak)
    try:
        params = sum(lay.param_bytes_by_dtype[dtype] for lay in layers)
        peak = max(lay.peak_activation_bytes_by_dtype[dtype] for lay in layers)
    except (KeyError, TypeError):
        raise KeyError(f"the profile has no figures at {dtype}; profile with a device of that precision") from None
    return float(params), float(peak)
