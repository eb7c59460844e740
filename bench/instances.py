"""Suite instances resolved to self-contained data, and their content hash.

Every instance of a suite becomes one JSON document with its profiles inlined
(each ``profile:`` replaced by the profile's ``layers`` and ``graph``), so a
worker on any machine rebuilds the same instance from the data alone, and the
SHA-256 of its canonical JSON changes whenever anything that defines the
instance changes, profile contents included.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from placement.errors import InputError, Problem
from placement.fileio import format_path, parse_model, read_document
from placement.instance import Instance, load_instance
from placement.schema import InstanceSpec, ProfileSpec

from .factories import FACTORIES

if TYPE_CHECKING:
    from .suite import InstanceEntry, Modify


@dataclass(frozen=True)
class ResolvedInstance:
    """An instance as data: label, entry label, canonical JSON, hash and size figures."""

    label: str
    group: str
    json: str
    sha256: str
    nodes: int
    classes: int
    layers: int


def inline_profiles(spec: InstanceSpec, base_dir: Path) -> InstanceSpec:
    """A copy of ``spec`` with every ``profile:`` file replaced by its layers and graph."""
    data = spec.model_dump(mode="json", exclude_unset=True)  # keeps explicit nulls (unbounded memory)
    for m in data["models"]:
        ref = m.pop("profile", None)
        if ref is None:
            continue
        full = Path(ref) if Path(ref).is_absolute() else base_dir / ref
        doc, lines = read_document(full, display=str(full))
        prof: ProfileSpec = parse_model(ProfileSpec, doc, str(full), lines)  # type: ignore[assignment]
        m["layers"] = [layer.model_dump(mode="json", exclude_none=True) for layer in prof.layers]
        if "graph" not in m and prof.graph is not None:
            m["graph"] = prof.graph.model_dump(mode="json", exclude_none=True)
    return InstanceSpec.model_validate(data)


def apply_modify(spec: InstanceSpec, mod: Modify | None) -> InstanceSpec:
    """``spec`` with a suite entry's ``modify`` applied (a new object)."""
    if mod is None:
        return spec
    data = spec.model_dump(mode="json", exclude_unset=True)  # keeps explicit nulls (unbounded memory)
    if mod.weights is not None:
        data.setdefault("objective", {}).setdefault("weights", {}).update(mod.weights)
    for d in data["demand"]:
        if mod.rate_scale is not None:
            d["rate_rps"] = d["rate_rps"] * mod.rate_scale
        if mod.max_latency_s is not None:
            d["max_latency_s"] = mod.max_latency_s
    if mod.options:
        data.setdefault("options", {}).update(mod.options)
    return InstanceSpec.model_validate(data)


def resolved(spec: InstanceSpec, label: str, group: str) -> ResolvedInstance:
    """Check that ``spec`` (profiles inlined) builds an instance, and describe it as data."""
    from .suite import canonical_json, sha256

    inst = Instance.from_spec(spec, None, label)
    text = canonical_json(spec.model_dump(mode="json"))
    layers = max(m.n_layers for m in inst.models.values())
    return ResolvedInstance(label, group, text, sha256(text), len(inst.nodes), len(inst.demands), layers)


def resolve_entry(entry: InstanceEntry, base: Path, loc: tuple) -> list[ResolvedInstance]:
    """The instances one suite entry names (several for generator seeds or factory grids)."""
    where = format_path(loc)
    if entry.file is not None:
        path = base / entry.file
        if not path.is_file():
            raise InputError(Problem(None, f"{where}.file", f"instance file not found: {path}"))
        inst = load_instance(path)
        spec = inline_profiles(inst.spec, path.resolve().parent)
        label = entry.label or Path(entry.file).stem
        return [resolved(apply_modify(spec, entry.modify), label, label)]
    if entry.generator is not None:
        return _generated(entry, base, where)
    return _factory(entry, where)


def _generated(entry: InstanceEntry, base: Path, where: str) -> list[ResolvedInstance]:
    from placement.generate import GeneratorConfig, generate

    if isinstance(entry.generator, str):
        path = base / entry.generator
        if not path.is_file():
            raise InputError(Problem(None, f"{where}.generator", f"generator config not found: {path}"))
        data, lines = read_document(path, display=str(path))
        cfg_base, display, default_label = path.resolve().parent, str(path), Path(entry.generator).stem
    else:
        data, lines, cfg_base, display, default_label = copy.deepcopy(entry.generator), {}, base, f"{where}.generator", None
    cfg: GeneratorConfig = parse_model(GeneratorConfig, data, display, lines)  # type: ignore[assignment]
    group = entry.label or default_label or cfg.name
    out = []
    for seed in entry.seeds if entry.seeds is not None else [cfg.seed]:
        spec, _warnings = generate(cfg.model_copy(update={"seed": seed}), cfg_base)
        spec = inline_profiles(spec, Path.cwd())  # generate() names profiles relative to the working folder
        label = group if entry.seeds is None else f"{group}@{seed}"
        out.append(resolved(apply_modify(spec, entry.modify), label, group))
    return out


def _factory(entry: InstanceEntry, where: str) -> list[ResolvedInstance]:
    func = FACTORIES.get(entry.factory or "")
    if func is None:
        raise InputError(Problem(None, f"{where}.factory", f"unknown factory '{entry.factory}'; known: {', '.join(sorted(FACTORIES))}"))
    keys = list(entry.grid)
    out = []
    for values in itertools.product(*(entry.grid[k] for k in keys)) if keys else [()]:
        args: dict[str, Any] = {**entry.args, **dict(zip(keys, values))}
        try:
            spec = func(**args)
        except TypeError as exc:
            raise InputError(Problem(None, f"{where}.args", f"factory '{entry.factory}': {exc}")) from None
        group = entry.label or entry.factory or "factory"
        label = group + "".join(f" {k}={v}" for k, v in zip(keys, values))
        out.append(resolved(apply_modify(spec, entry.modify), label, group))
    return out
