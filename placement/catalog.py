"""The device catalog: built-in device types, extended or overridden by instances.

The built-in catalog lives in ``placement/data/devices.yaml`` with the source
of every figure. An instance's ``devices`` section adds new types or overrides
single fields of built-in ones.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from importlib import resources

from .errors import InputError
from .fileio import parse_model, read_document
from .schema import DeviceSpec

#: Fields every built-in catalog entry must give (checked by the tests).
REQUIRED_CATALOG_FIELDS = (
    "description",
    "kind",
    "clock_hz",
    "precision",
    "runtime",
    "peak_flops",
    "effective_macs_per_s",
    "memory_bytes",
    "ram_bytes",
    "memory_bandwidth_bytes_per_s",
    "active_power_w",
    "idle_power_w",
)


@dataclass(frozen=True)
class Device:
    """A resolved device type, as the evaluator and solvers use it.

    ``effective_macs_per_s`` is None when the type gives no throughput; then
    every layer computed on it needs a ``latency_s`` entry (validated).
    ``memory_bytes`` and ``ram_bytes`` are ``math.inf`` when unbounded/unknown.
    """

    name: str
    spec: DeviceSpec
    effective_macs_per_s: float | None
    memory_bytes: float
    ram_bytes: float
    active_power_w: float
    idle_power_w: float
    builtin: bool


@functools.lru_cache(maxsize=1)
def builtin_catalog() -> dict[str, DeviceSpec]:
    """The built-in device types, parsed and validated once."""
    ref = resources.files("placement") / "data" / "devices.yaml"
    with resources.as_file(ref) as path:
        data, lines = read_document(path, display="placement/data/devices.yaml")
    out = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise InputError(f"placement/data/devices.yaml: {name}: expected a mapping")
        out[name] = parse_model(DeviceSpec, entry, "placement/data/devices.yaml", {
            k[1:]: v for k, v in lines.items() if k[:1] == (name,)
        })
    return out


def merge_devices(overrides: dict[str, DeviceSpec]) -> dict[str, DeviceSpec]:
    """Built-in catalog with an instance's ``devices`` applied.

    A name already in the catalog keeps every field the override does not set;
    a new name is taken as given.
    """
    merged = dict(builtin_catalog())
    for name, spec in overrides.items():
        if name in merged:
            base = merged[name].model_dump()
            base.update(spec.model_dump(include=spec.model_fields_set))
            merged[name] = DeviceSpec.model_validate(base)
        else:
            merged[name] = spec
    return merged


def resolve_device(name: str, spec: DeviceSpec, builtin: bool) -> Device:
    """Turn a (validated) device spec into a :class:`Device`."""
    if spec.effective_macs_per_s is not None:
        eff = spec.effective_macs_per_s
    elif spec.peak_flops is not None:
        eff = spec.peak_flops / 2.0
    else:
        eff = None
    return Device(
        name=name,
        spec=spec,
        effective_macs_per_s=eff,
        memory_bytes=math.inf if spec.memory_bytes is None else float(spec.memory_bytes),
        ram_bytes=math.inf if spec.ram_bytes is None else float(spec.ram_bytes),
        active_power_w=float(spec.active_power_w or 0.0),
        idle_power_w=float(spec.idle_power_w or 0.0),
        builtin=builtin,
    )


def catalog_devices(overrides: dict[str, DeviceSpec] | None = None) -> dict[str, Device]:
    """Every device type available to an instance, resolved."""
    overrides = overrides or {}
    builtin = builtin_catalog()
    return {
        name: resolve_device(name, spec, name in builtin)
        for name, spec in merge_devices(overrides).items()
    }
