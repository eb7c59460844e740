"""Build an instance in Python, one node, link, model and demand class at a time.

:class:`InstanceBuilder` collects plain data in the instance file format
(docs/formats.md), so every field means what it means in a file; ``build``
validates it exactly as ``idnplan validate`` does (every problem at once, as
an :class:`~placement.errors.InputError`), ``instance`` resolves it, and
``save`` writes it as YAML or JSON::

    b = InstanceBuilder("my-net")
    b.add_node("cam1", "cortex-m7", tier="device")
    b.add_node("edge1", "jetson-orin-nano", tier="edge")
    b.add_link("cam1", "edge1", bandwidth_bytes_per_s=1.25e6, latency_s=0.005)
    b.add_model("tiny", "image-cls", accuracy=0.7, input_bytes=12288,
                layers=[{"name": "conv", "macs": 2e6, "param_bytes": 900, "out_bytes": 4096},
                        {"name": "fc", "macs": 5e3, "param_bytes": 20520, "out_bytes": 40}])
    b.add_demand("cam1", "image-cls", rate_rps=2.0, max_latency_s=0.5)
    inst = b.instance()
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from .errors import InputError
from .fileio import parse_model
from .schema import InstanceSpec

_SOURCE = "InstanceBuilder"


class InstanceBuilder:
    """Collects the sections of an instance; fields as in the instance file format.

    Parameters
    ----------
    name : str
        The instance's name.
    description : str, optional
        Free text.

    Notes
    -----
    Every ``add_*`` method returns the builder, so calls chain. Keyword
    arguments beyond the named ones are passed through as fields of the
    section (e.g. ``memory_bytes=None`` for an unbounded node, ``kind=``);
    unknown fields are refused by :meth:`build`, like in a file.
    """

    def __init__(self, name: str, description: str | None = None):
        self._data: dict[str, Any] = {"name": name, "devices": {}, "nodes": [], "links": [], "models": [], "demand": []}
        if description is not None:
            self._data["description"] = description

    def add_device(self, name: str, **fields: Any) -> InstanceBuilder:
        """A new device type, or an override of single fields of a catalog type (``idnplan devices``)."""
        self._data["devices"][name] = dict(fields)
        return self

    def add_node(self, id: str, device: str, tier: str | None = None, **fields: Any) -> InstanceBuilder:
        """A node running ``device`` (a catalog or ``add_device`` type); ``memory_bytes=None`` = unbounded."""
        node = {"id": id, "device": device, **fields}
        if tier is not None:
            node["tier"] = tier
        self._data["nodes"].append(node)
        return self

    def add_link(self, u: str, v: str, bandwidth_bytes_per_s: float, latency_s: float, energy_j_per_byte: float = 0.0, **fields: Any) -> InstanceBuilder:
        """A full-duplex link; ``bandwidth_bytes_per_s`` in BYTES per second, each direction."""
        self._data["links"].append({"u": u, "v": v, "bandwidth_bytes_per_s": bandwidth_bytes_per_s, "latency_s": latency_s,
                                    "energy_j_per_byte": energy_j_per_byte, **fields})
        return self

    def add_model(self, id: str, task: str, accuracy: float, input_bytes: float, layers: list[dict] | None = None,
                  profile: str | os.PathLike | None = None, **fields: Any) -> InstanceBuilder:
        """A model of ``task``: inline ``layers`` (dicts with name, macs, param_bytes, out_bytes, ...) or a ``profile`` file."""
        model: dict[str, Any] = {"id": id, "task": task, "accuracy": accuracy, "input_bytes": input_bytes, **fields}
        if layers is not None:
            model["layers"] = [dict(layer) for layer in layers]
        if profile is not None:
            model["profile"] = str(profile)
        self._data["models"].append(model)
        return self

    def add_demand(self, origin: str, task: str, rate_rps: float, max_latency_s: float, min_accuracy: float = 0.0, **fields: Any) -> InstanceBuilder:
        """A request class: ``rate_rps`` requests/s of ``task`` at ``origin``, each within ``max_latency_s``."""
        self._data["demand"].append({"origin": origin, "task": task, "rate_rps": rate_rps, "max_latency_s": max_latency_s,
                                     "min_accuracy": min_accuracy, **fields})
        return self

    def set_weights(self, **weights: float) -> InstanceBuilder:
        """Objective weights: ``latency``, ``inaccuracy``, ``energy``, ``update`` (others keep their defaults)."""
        self._data.setdefault("objective", {}).setdefault("weights", {}).update(weights)
        return self

    def set_options(self, **options: Any) -> InstanceBuilder:
        """Options: ``routing``, ``max_segments``, ``max_utilization``, ``queueing``."""
        self._data.setdefault("options", {}).update(options)
        return self

    def data(self) -> dict[str, Any]:
        """A copy of the plain data collected so far (the instance file's content)."""
        return copy.deepcopy(self._data)

    def build(self) -> InstanceSpec:
        """The validated spec; raises :class:`InputError` listing every problem (schema and references)."""
        from .catalog import builtin_catalog
        from .validate import check_references

        data = self.data()
        problems = []
        spec = None
        try:
            spec = parse_model(InstanceSpec, data, _SOURCE)
        except InputError as exc:
            problems.extend(exc.problems)
        problems.extend(check_references(data, set(builtin_catalog()), _SOURCE))
        if problems:
            raise InputError(problems)
        assert isinstance(spec, InstanceSpec)
        return spec

    def instance(self, base_dir: str | os.PathLike = "."):
        """The resolved :class:`~placement.instance.Instance` (profile paths relative to ``base_dir``)."""
        from .instance import Instance

        return Instance.from_spec(self.build(), Path(base_dir), _SOURCE)

    def save(self, path: str | os.PathLike, base_dir: str | os.PathLike = ".") -> None:
        """Validate, then write the instance file (YAML or JSON by suffix) atomically.

        Relative ``profile`` paths are read relative to ``base_dir`` and
        rewritten so that they still name the same files from ``path``.
        """
        from .instance import save_instance

        self.instance(base_dir)  # refuse what would not load
        save_instance(self.build(), path, source_dir=base_dir)


__all__ = ["InstanceBuilder"]
