"""The generator's configuration: one typed model for CLI flags and config files."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ..schema import NonNegFloat, ObjectiveSpec, OptionsSpec, PosFloat, Strict, Tier

Range = Annotated[list[Annotated[float, Field(ge=0, allow_inf_nan=False)]], Field(min_length=2, max_length=2)]


def _known_devices(names: list[str]) -> list[str]:
    from ..catalog import builtin_catalog

    known = builtin_catalog()
    for name in names:
        if name not in known:
            raise ValueError(f"unknown device type '{name}'; known: {', '.join(known)}")
    return names


def _known_link(name: str) -> str:
    from .links import LINK_CLASSES

    if name not in LINK_CLASSES:
        raise ValueError(f"unknown link class '{name}'; known: {', '.join(LINK_CLASSES)}")
    return name


def _ordered(r: list[float], what: str) -> None:
    if r[0] > r[1]:
        raise ValueError(f"{what}: lower bound {r[0]} > upper bound {r[1]}")


class Level(Strict):
    """One level of a tree: ``fanout`` children per node of the level above.

    ``devices`` are the device types its nodes draw from (uniformly, with the
    seed); ``link`` is the link class up to the parent, or a mapping from
    device type to link class with ``"*"`` as the default (e.g.
    ``{cortex-m4: ble, "*": wifi}``). Both default to the tier's defaults
    (:data:`TIER_DEFAULTS`), as on the command line. ``memory_bytes``
    overrides the devices' memory.
    """

    tier: Tier
    fanout: Annotated[int, Field(ge=1)]
    devices: list[str] | None = Field(default=None, min_length=1)
    link: str | dict[str, str] | None = None
    memory_bytes: PosFloat | None = None

    @model_validator(mode="after")
    def _tier_defaults(self) -> Level:
        dflt_dev, dflt_link = TIER_DEFAULTS[self.tier]
        if self.devices is None:
            self.devices = list(dflt_dev)
        if self.link is None:
            self.link = dflt_link
        return self

    _devices = field_validator("devices")(classmethod(lambda cls, v: v if v is None else _known_devices(v)))

    @field_validator("link")
    @classmethod
    def _links(cls, v: str | dict[str, str] | None) -> str | dict[str, str] | None:
        for name in [] if v is None else [v] if isinstance(v, str) else v.values():
            _known_link(name)
        return v


class Root(Strict):
    tier: Tier = "cloud"
    devices: list[str] = Field(default_factory=lambda: ["a100"], min_length=1)
    unbounded_memory: bool = True

    _devices = field_validator("devices")(classmethod(lambda cls, v: _known_devices(v)))


class Backbone(Strict):
    """A backbone graph replacing the upper tiers; trees hang below each backbone node."""

    kind: Literal["waxman", "barabasi-albert", "file"]
    nodes: Annotated[int, Field(ge=2)] | None = None
    alpha: Annotated[float, Field(gt=0, le=1)] = 0.4
    beta: Annotated[float, Field(gt=0, le=1)] = 0.2
    m: Annotated[int, Field(ge=1)] = 2
    file: str | None = None
    km_per_unit: PosFloat = 2000.0
    tier: Tier = "regional"
    devices: list[str] = Field(default_factory=lambda: ["x86-server"], min_length=1)
    link: str = "fibre-backbone"
    cloud_link: str = "fibre-backbone"

    _devices = field_validator("devices")(classmethod(lambda cls, v: _known_devices(v)))
    _links = field_validator("link", "cloud_link")(classmethod(lambda cls, v: _known_link(v)))

    @model_validator(mode="after")
    def _needs(self) -> Backbone:
        if self.kind == "file" and not self.file:
            raise ValueError("a 'file' backbone needs 'file' (a GML or GraphML topology)")
        if self.kind != "file" and self.nodes is None:
            raise ValueError(f"a '{self.kind}' backbone needs 'nodes'")
        return self


class SyntheticModels(Strict):
    """Synthetic model families; task k takes ``input_bytes[k % len(input_bytes)]`` inputs."""

    tasks: Annotated[int, Field(ge=1)] = 2
    per_task: Annotated[int, Field(ge=1)] = 3
    layers: Annotated[int, Field(ge=1)] = 12
    # a 224x224 RGB uint8 image, a 96x96 RGB image, 1 s of 16 kHz int8 audio, a float32 224x224 image
    input_bytes: list[PosFloat] = Field(default_factory=lambda: [150528.0, 27648.0, 16000.0, 602112.0], min_length=1)


class ProfileModel(Strict):
    profile: str
    task: str = "imagenet-cls"
    id: str | None = None
    accuracy: Annotated[float, Field(ge=0, le=1)] | None = None


class Models(Strict):
    synthetic: SyntheticModels | None = None
    profiles: list[ProfileModel] | None = None

    @model_validator(mode="after")
    def _one(self) -> Models:
        if (self.synthetic is None) == (self.profiles is None):
            raise ValueError("give exactly one of 'synthetic' or 'profiles'")
        return self


class DemandConfig(Strict):
    origin_tier: Tier | None = Field(default=None, description="Default: the bottom level's tier")
    classes_per_origin: Annotated[int, Field(ge=1)] = 1
    zipf_s: NonNegFloat = 0.8
    rate_rps: Range = Field(default_factory=lambda: [0.5, 2.0])
    max_latency_s: Range = Field(default_factory=lambda: [0.2, 1.0])
    min_accuracy: Range = Field(default_factory=lambda: [0.0, 0.0])

    @model_validator(mode="after")
    def _ranges(self) -> DemandConfig:
        _ordered(self.rate_rps, "rate_rps")
        _ordered(self.max_latency_s, "max_latency_s")
        _ordered(self.min_accuracy, "min_accuracy")
        if self.rate_rps[0] <= 0 or self.max_latency_s[0] <= 0:
            raise ValueError("rate_rps and max_latency_s ranges must be > 0")
        return self


class GeneratorConfig(Strict):
    """Everything ``idnplan generate`` needs; the same seed gives the same file."""

    name: str = "generated"
    description: str | None = None
    seed: int = 0
    root: Root = Field(default_factory=Root)
    backbone: Backbone | None = None
    levels: list[Level] = Field(min_length=1)
    models: Models = Field(default_factory=lambda: Models(synthetic=SyntheticModels()))
    demand: DemandConfig = Field(default_factory=DemandConfig)
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)
    options: OptionsSpec = Field(default_factory=OptionsSpec)


#: Default device types and link classes per tier (used by the CLI).
TIER_DEFAULTS: dict[str, tuple[list[str], str | dict[str, str]]] = {
    "cloud": (["a100"], "fibre-backbone"),
    "regional": (["x86-server"], "fibre-backbone"),
    "edge": (["t4", "jetson-orin-nano"], "fibre-metro"),
    "access": (["rpi5", "rpi4"], "fibre-access"),
    "device": (["cortex-m7", "esp32-s3", "rpi4"], {"cortex-m4": "ble", "*": "wifi"}),
}
