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

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=False)

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Ident = Annotated[str, Field(min_length=1)]

TIERS = ("device", "access", "edge", "regional", "cloud")
Tier = Literal["device", "access", "edge", "regional", "cloud"]
Source = Literal["measured", "estimated"]


class Strict(BaseModel):
    """Base: unknown fields refused, no silent type coercion."""

    model_config = _STRICT


class DeviceSpec(Strict):
    """A device type: a catalog entry, or an entry of an instance's ``devices``.

    For a device type defined only in an instance, ``memory_bytes`` and
    ``active_power_w`` are required and throughput (``effective_macs_per_s``
    or ``peak_flops``) is optional; without it every layer computed on such a
    device must give ``latency_s`` for it. An instance entry whose name is in
    the built-in catalog overrides just the fields it sets.
    """

    description: str | None = None
    kind: Literal["mcu", "sbc", "edge-gpu", "server-cpu", "server-gpu", "other"] | None = None
    clock_hz: PosFloat | None = None
    cores: Annotated[int, Field(ge=1)] | None = None
    precision: Literal["int8", "float16", "bfloat16", "float32"] | None = None
    runtime: str | None = None
    macs_per_cycle: PosFloat | None = Field(
        default=None, description="Sustained MACs per clock cycle of the named runtime (MCUs)."
    )
    peak_flops: PosFloat | None = Field(
        default=None, description="Peak operations/s at `precision` (2 per MAC)."
    )
    effective_macs_per_s: PosFloat | None = Field(
        default=None, description="Sustained MAC/s at batch 1 used for latency estimates."
    )
    memory_bytes: PosFloat | None = Field(
        default=None,
        description="Capacity for stored model parameters (flash on MCUs, RAM otherwise).",
    )
    ram_bytes: PosFloat | None = Field(
        default=None, description="Working memory for activations (SRAM on MCUs)."
    )
    storage_bytes: PosFloat | None = Field(default=None, description="Persistent storage.")
    memory_bandwidth_bytes_per_s: PosFloat | None = Field(
        default=None, description="Main-memory bandwidth in bytes/s."
    )
    active_power_w: NonNegFloat | None = None
    idle_power_w: NonNegFloat | None = None
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str | None = None


class NodeSpec(Strict):
    """A node of the network. ``memory_bytes`` overrides the device's; null = unbounded."""

    id: Ident
    device: Ident
    tier: Tier | None = None
    memory_bytes: PosFloat | None = None
    kind: str | None = Field(default=None, description="Free-form label, e.g. 'gateway'.")


class LinkSpec(Strict):
    """A full-duplex link: each direction has the full bandwidth."""

    u: Ident
    v: Ident
    bandwidth_bytes_per_s: PosFloat = Field(description="Bandwidth of each direction in BYTES per second (10 Mbit/s = 1.25e6).")
    latency_s: NonNegFloat = Field(description="Propagation latency in seconds; 0 for co-located nodes.")
    energy_j_per_byte: NonNegFloat = 0.0
    kind: str | None = Field(default=None, description="Link class label, e.g. 'wifi'.")


class LayerSpec(Strict):
    """One cut position of a model: the layers up to here, and the cut after them."""

    name: str
    macs: NonNegFloat
    param_bytes: NonNegFloat
    out_bytes: PosFloat
    latency_s: dict[str, NonNegFloat] = Field(default_factory=dict)
    latency_source: dict[str, Source] = Field(default_factory=dict)
    energy_j: dict[str, NonNegFloat] = Field(default_factory=dict)
    energy_source: dict[str, Source] = Field(default_factory=dict)
    peak_activation_bytes: NonNegFloat | None = None
    params: Annotated[int, Field(ge=0)] | None = None
    flops: NonNegFloat | None = None
    elementwise_flops: NonNegFloat | None = None
    op_types: list[str] | None = None
    latency_spread_s: dict[str, NonNegFloat] = Field(
        default_factory=dict, description="Interquartile range of measured latencies, per device."
    )
    param_bytes_by_dtype: dict[str, NonNegFloat] = Field(
        default_factory=dict,
        description="Parameter bytes stored at another precision (int8: int32 biases), e.g. an MCU's flash footprint.",
    )
    peak_activation_bytes_by_dtype: dict[str, NonNegFloat] = Field(
        default_factory=dict, description="peak_activation_bytes with activations at another precision."
    )


class GraphNodeSpec(Strict):
    """One operator (or fused group) of a model's dataflow graph."""

    name: str
    inputs: list[str] = Field(description="Names of earlier nodes whose outputs it reads; 'input' is the model input")
    macs: NonNegFloat
    param_bytes: NonNegFloat = 0.0
    out_bytes: NonNegFloat = Field(description="Bytes of the tensor(s) this node outputs")
    latency_s: dict[str, NonNegFloat] = Field(default_factory=dict)
    layer: Annotated[int, Field(ge=0)] | None = Field(default=None, description="Index of the chain layer that contains this node")


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


class ModelSpec(Strict):
    """A model of the catalog: inline ``layers`` or a ``profile`` file, not both."""

    id: Ident
    task: Ident
    accuracy: Fraction
    input_bytes: PosFloat
    profile: str | None = None
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
    rate_rps: PosFloat
    max_latency_s: PosFloat
    min_accuracy: Fraction = 0.0
    name: str | None = None


class Weights(Strict):
    latency: NonNegFloat = 1.0
    inaccuracy: NonNegFloat = 1.0
    energy: NonNegFloat = 0.0
    #: online setting only: cost per parameter byte newly stored in a slot
    update: NonNegFloat = 0.0


class ObjectiveSpec(Strict):
    weights: Weights = Field(default_factory=Weights)


class OptionsSpec(Strict):
    routing: Literal["splittable", "unsplittable"] = "splittable"
    max_segments: Annotated[int, Field(ge=1)] = 2
    max_utilization: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.8
    queueing: Literal["none", "ps"] = Field(
        default="none",
        description="Congestion model: 'none' (load-independent) or 'ps' (every node and link direction a "
        "processor-sharing server: service s takes s / (1 - utilization)); 'ps' needs max_utilization < 1.",
    )


class InstanceSpec(Strict):
    """An instance file: network, model catalog, demand, objective and options."""

    name: Ident
    description: str | None = None
    devices: dict[str, DeviceSpec] = Field(default_factory=dict)
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

    device: str
    threads: Annotated[int, Field(ge=1)] | None = None
    measured_latency_s: NonNegFloat | None = None
    latency_spread_s: NonNegFloat | None = None
    repeats: Annotated[int, Field(ge=1)] | None = None
    warmup: Annotated[int, Field(ge=0)] | None = None
    cpu: str | None = None
    gpu: str | None = None
    torch_version: str | None = None
    energy_source: str | None = None
    latency_min_s: NonNegFloat | None = None
    latency_max_s: NonNegFloat | None = None
    layer_latency_sum_s: NonNegFloat | None = Field(
        default=None, description="Sum of the layers' measured median latencies (compare with measured_latency_s)."
    )
    energy_j: NonNegFloat | None = Field(default=None, description="Energy per inference; energy_source says how it was obtained.")
    power_w: NonNegFloat | None = None


class ProfileSpec(Strict):
    """A profile file, as written by ``idnplan profile``."""

    model: Ident
    source: str | None = None
    input_shape: list[int] | None = None
    dtype: str | None = None
    input_bytes: PosFloat
    macs: NonNegFloat | None = None
    flops: NonNegFloat | None = None
    elementwise_flops: NonNegFloat | None = None
    params: Annotated[int, Field(ge=0)] | None = None
    param_bytes: NonNegFloat | None = None
    accuracy: Fraction | None = None
    task: str | None = None
    published_macs: NonNegFloat | None = Field(default=None, description="MACs as published for the model (e.g. torchvision's _ops).")
    tracer: str | None = None
    host: HostInfo | None = None
    assumptions: dict[str, str] = Field(default_factory=dict)
    layers: list[LayerSpec] = Field(min_length=1)
    graph: GraphSpec | None = None
    notes: str | None = None
