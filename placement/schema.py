"""File formats as typed models: instances, device types and model profiles.

These pydantic models are the single definition of what an instance file and a
profile file may contain (``extra="forbid"``: unknown fields are refused, so a
typo never passes silently). Numbers are strict (a quoted ``"5"`` is refused)
and every unit is in the field name, as DESIGN.md asks. Cross-references
between sections (node ids, device types, tasks) are checked afterwards by
:mod:`placement.validate`, which sees the whole file.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from .limits import control_chars

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=False)

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def _no_control(value: str) -> str:
    found = control_chars(value)
    if found:
        raise ValueError(f"must not contain control characters (found {', '.join(found)}), got {value!r}")
    return value


#: Free text shown on one line (names, labels): no control characters.
Name = Annotated[str, Field(max_length=1000), AfterValidator(_no_control)]
#: An identifier that other fields refer to: non-empty, no control characters.
Ident = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_no_control)]


def _range(lo: float, hi: float, lo_open: bool = False) -> object:
    """A finite float in [lo, hi] (or (lo, hi] with ``lo_open``): the accepted range."""
    low = {"gt": lo} if lo_open else {"ge": lo}
    return Annotated[float, Field(le=hi, allow_inf_nan=False, **low)]


# Accepted ranges (docs/formats.md, "Accepted ranges"): beyond them a problem is
# numerically meaningless (a solver divides, multiplies and compares these).
MAX_LATENCY_S = 1e6
LinkLatency = _range(0, MAX_LATENCY_S)
Latency = _range(1e-9, MAX_LATENCY_S)
LayerTime = _range(0, MAX_LATENCY_S)
Bandwidth = _range(1, 1e13)
Rate = _range(1e-9, 1e9)
Memory = _range(0, 1e15, lo_open=True)
Bytes = _range(0, 1e15)
PosBytes = _range(0, 1e15, lo_open=True)
Count = _range(0, 1e18)
Speed = _range(0, 1e20, lo_open=True)
Power = _range(0, 1e7)
Energy = _range(0, 1e9)
EnergyPerByte = _range(0, 1)
Weight = _range(0, 1e9)
Utilization = _range(1e-6, 1)
BigInt = Annotated[int, Field(ge=0, le=10**15)]
DTYPE_NAMES = Literal["float32", "float16", "bfloat16", "int8"]

TIERS = ("device", "access", "edge", "regional", "cloud")
Tier = Literal["device", "access", "edge", "regional", "cloud"]
Source = Literal["measured", "estimated"]


class Strict(BaseModel):
    """Base: unknown fields refused, no silent type coercion."""

    model_config = _STRICT


class SetFieldsOnly(Strict):
    """A model whose *unset* fields mean something else than an explicit null.

    A node's ``memory_bytes: null`` means unbounded while a missing one means
    the device's; an instance's device entry overrides only the catalog fields
    it sets. Every dump therefore leaves out the fields that are None and were
    never set, whatever the caller's options, so that dumping and validating
    again (JSON to a benchmark worker, a saved instance) keeps the meaning.
    """

    @model_serializer(mode="wrap")
    def _set_fields_only(self, handler):
        data = handler(self)
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if v is not None or k in self.model_fields_set}


class DeviceSpec(SetFieldsOnly):
    """A device type: a catalog entry, or an entry of an instance's ``devices``.

    For a device type defined only in an instance, ``memory_bytes`` and
    ``active_power_w`` are required and throughput (``effective_macs_per_s``
    or ``peak_flops``) is optional; without it every layer computed on such a
    device must give ``latency_s`` for it. An instance entry whose name is in
    the built-in catalog overrides just the fields it sets.
    """

    description: str | None = None
    kind: Literal["mcu", "sbc", "edge-gpu", "server-cpu", "server-gpu", "other"] | None = None
    clock_hz: Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)] | None = None
    cores: Annotated[int, Field(ge=1, le=10**7)] | None = None
    precision: Literal["int8", "float16", "bfloat16", "float32"] | None = None
    runtime: Name | None = None
    macs_per_cycle: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)] | None = Field(
        default=None, description="Sustained MACs per clock cycle of the named runtime (MCUs)."
    )
    peak_flops: Speed | None = Field(
        default=None, description="Peak operations/s at `precision` (2 per MAC)."
    )
    effective_macs_per_s: Speed | None = Field(
        default=None, description="Sustained MAC/s at batch 1 used for latency estimates."
    )
    memory_bytes: Memory | None = Field(
        default=None,
        description="Capacity for stored model parameters (flash on MCUs, RAM otherwise).",
    )
    ram_bytes: Memory | None = Field(
        default=None, description="Working memory for activations (SRAM on MCUs)."
    )
    storage_bytes: Annotated[float, Field(gt=0, le=1e18, allow_inf_nan=False)] | None = Field(default=None, description="Persistent storage.")
    memory_bandwidth_bytes_per_s: Speed | None = Field(
        default=None, description="Main-memory bandwidth in bytes/s."
    )
    active_power_w: Power | None = None
    idle_power_w: Power | None = None
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str | None = None


class NodeSpec(SetFieldsOnly):
    """A node of the network. ``memory_bytes`` overrides the device's; null = unbounded."""

    id: Ident
    device: Ident
    tier: Tier | None = None
    memory_bytes: Memory | None = None
    kind: Name | None = Field(default=None, description="Free-form label, e.g. 'gateway'.")


class LinkSpec(Strict):
    """A full-duplex link: each direction has the full bandwidth."""

    u: Ident
    v: Ident
    bandwidth_bytes_per_s: Bandwidth = Field(description="Bandwidth of each direction in BYTES per second (10 Mbit/s = 1.25e6).")
    latency_s: LinkLatency = Field(description="Propagation latency in seconds; 0 for co-located nodes.")
    energy_j_per_byte: EnergyPerByte = 0.0
    kind: Name | None = Field(default=None, description="Link class label, e.g. 'wifi'.")


class LayerSpec(Strict):
    """One cut position of a model: the layers up to here, and the cut after them."""

    name: Name
    macs: Count
    param_bytes: Bytes
    out_bytes: PosBytes
    latency_s: dict[Ident, LayerTime] = Field(default_factory=dict)
    latency_source: dict[Ident, Source] = Field(default_factory=dict)
    energy_j: dict[Ident, Energy] = Field(default_factory=dict)
    energy_source: dict[Ident, Source] = Field(default_factory=dict)
    peak_activation_bytes: Bytes | None = None
    params: BigInt | None = None
    flops: Count | None = None
    elementwise_flops: Count | None = None
    op_types: list[Name] | None = None
    latency_spread_s: dict[Ident, LayerTime] = Field(
        default_factory=dict, description="Interquartile range of measured latencies, per device."
    )
    param_bytes_by_dtype: dict[DTYPE_NAMES, Bytes] = Field(
        default_factory=dict,
        description="Parameter bytes stored at another precision (int8: int32 biases), e.g. an MCU's flash footprint.",
    )
    peak_activation_bytes_by_dtype: dict[DTYPE_NAMES, Bytes] = Field(
        default_factory=dict, description="peak_activation_bytes with activations at another precision."
    )


class GraphNodeSpec(Strict):
    """One operator (or fused group) of a model's dataflow graph."""

    name: Name
    inputs: list[Name] = Field(description="Names of earlier nodes whose outputs it reads; 'input' is the model input")
    macs: Count
    param_bytes: Bytes = 0.0
    out_bytes: Bytes = Field(description="Bytes of the tensor(s) this node outputs")
    latency_s: dict[Ident, LayerTime] = Field(default_factory=dict)
    layer: Annotated[int, Field(ge=0, le=10**9)] | None = Field(default=None, description="Index of the chain layer that contains this node")


class GraphSpec(Strict):
    """A model's dataflow graph in topological order; the last node is the output.

    The chain of ``layers`` is one topological order of these nodes grouped
    into cut positions; the graph lets DAG-aware methods (``dag-mincut``)
    consider every device/server partition, not only prefixes of that order.
    """

    nodes: list[GraphNodeSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _topological(self) -> GraphSpec:
        seen = {"input"}
        for i, node in enumerate(self.nodes):
            if node.name in seen:
                raise ValueError(f"nodes[{i}].name: duplicate or reserved name '{node.name}'")
            for src in node.inputs:
                if src not in seen:
                    raise ValueError(f"nodes[{i}].inputs: '{src}' is not an earlier node (nodes must be in topological order)")
            seen.add(node.name)
        return self


def graph_layer_problems(graph: GraphSpec, n_layers: int) -> list[tuple[str, str]]:
    """(field path under ``graph``, message) for graph nodes that do not map into
    a chain of ``n_layers`` layers: a layer beyond the chain, or a node that
    reads the output of a later layer."""
    out = []
    layer = {"input": -1}
    for j, node in enumerate(graph.nodes):
        if node.layer is None:
            continue
        if node.layer >= n_layers:
            out.append((f"nodes[{j}].layer", f"layer {node.layer} does not exist (the model has {n_layers} layers)"))
            continue
        layer[node.name] = node.layer
        for src in node.inputs:
            if layer.get(src, -1) > node.layer:
                out.append((f"nodes[{j}].layer", f"node '{node.name}' in layer {node.layer} reads '{src}' from the later layer {layer[src]}"))
    return out


class ModelSpec(Strict):
    """A model of the catalog: inline ``layers`` or a ``profile`` file, not both."""

    id: Ident
    task: Ident
    accuracy: Fraction
    input_bytes: PosBytes
    profile: Annotated[Ident, Field(max_length=4096)] | None = None
    layers: list[LayerSpec] | None = None
    graph: GraphSpec | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _layers_or_profile(self) -> ModelSpec:
        if self.profile is None and self.layers is None:
            raise ValueError("give either 'layers' or 'profile'")
        if self.profile is not None and self.layers is not None:
            raise ValueError("give 'layers' or 'profile', not both")
        if self.layers is not None and len(self.layers) == 0:
            raise ValueError("'layers' must not be empty")
        return self


class DemandSpec(Strict):
    """A request class: requests of one task arriving at one origin node."""

    origin: Ident
    task: Ident
    rate_rps: Rate
    max_latency_s: Latency
    min_accuracy: Fraction = 0.0
    name: Name | None = None


class Weights(Strict):
    latency: Weight = 1.0
    inaccuracy: Weight = 1.0
    energy: Weight = 0.0
    #: online setting only: cost per parameter byte newly stored in a slot
    update: Weight = 0.0


class ObjectiveSpec(Strict):
    weights: Weights = Field(default_factory=Weights)


class OptionsSpec(Strict):
    routing: Literal["splittable", "unsplittable"] = "splittable"
    max_segments: Annotated[int, Field(ge=1, le=1000)] = 2
    max_utilization: Utilization = 0.8
    queueing: Literal["none", "ps"] = Field(
        default="none",
        description="Congestion model: 'none' (load-independent) or 'ps' (every node and link direction a "
        "processor-sharing server: service s takes s / (1 - utilization)); 'ps' needs max_utilization < 1.",
    )


class InstanceSpec(Strict):
    """An instance file: network, model catalog, demand, objective and options."""

    name: Ident
    description: str | None = None
    devices: dict[Ident, DeviceSpec] = Field(default_factory=dict)
    nodes: list[NodeSpec] = Field(min_length=1)
    links: list[LinkSpec]
    models: list[ModelSpec] = Field(min_length=1)
    demand: list[DemandSpec] = Field(min_length=1)
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)
    options: OptionsSpec = Field(default_factory=OptionsSpec)

    @field_validator("devices")
    @classmethod
    def _device_names(cls, v: dict[str, DeviceSpec]) -> dict[str, DeviceSpec]:
        for name in v:
            if not name:
                raise ValueError("device type names must not be empty")
        return v


class HostInfo(Strict):
    """Where a profile's measured figures come from."""

    device: Ident
    threads: Annotated[int, Field(ge=1, le=10**6)] | None = None
    measured_latency_s: LayerTime | None = None
    latency_spread_s: LayerTime | None = None
    repeats: Annotated[int, Field(ge=1, le=10**9)] | None = None
    warmup: Annotated[int, Field(ge=0, le=10**9)] | None = None
    cpu: str | None = None
    gpu: str | None = None
    torch_version: str | None = None
    energy_source: str | None = None
    latency_min_s: LayerTime | None = None
    latency_max_s: LayerTime | None = None
    layer_latency_sum_s: LayerTime | None = Field(
        default=None, description="Sum of the layers' measured median latencies (compare with measured_latency_s)."
    )
    energy_j: Energy | None = Field(default=None, description="Energy per inference; energy_source says how it was obtained.")
    power_w: Power | None = None
    notes: str | None = Field(
        default=None, description="Warnings about the measurement, e.g. a spread or machine load that makes the measured figures unreliable."
    )


class ProfileSpec(Strict):
    """A profile file, as written by ``idnplan profile``."""

    model: Ident
    source: Name | None = None
    input_shape: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = None
    dtype: DTYPE_NAMES | None = None
    input_bytes: PosBytes
    macs: Count | None = None
    flops: Count | None = None
    elementwise_flops: Count | None = None
    params: BigInt | None = None
    param_bytes: Bytes | None = None
    accuracy: Fraction | None = None
    task: Ident | None = None
    published_macs: Count | None = Field(default=None, description="MACs as published for the model (e.g. torchvision's _ops).")
    tracer: Name | None = None
    host: HostInfo | None = None
    assumptions: dict[str, str] = Field(default_factory=dict)
    layers: list[LayerSpec] = Field(min_length=1)
    graph: GraphSpec | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _graph_in_chain(self) -> ProfileSpec:
        if self.graph is not None:
            found = graph_layer_problems(self.graph, len(self.layers))
            if found:
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                raise ValueError(f"graph.{found[0][0]}: {found[0][1]}{more}")
        return self
