"""The instance: loading, validation and the resolved, typed view solvers use.

``load_instance(path)`` parses a YAML/JSON instance file, resolves profile
files relative to it, merges the device catalog, checks every cross reference
and returns an :class:`Instance`. Everything past this point trusts its data.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .catalog import Device, builtin_catalog, catalog_devices, merge_devices
from .errors import InputError, Problem
from .fileio import atomic_write_text, dump_json, dump_yaml, lookup_line, parse_model, read_document, reference_from
from .memo import Memo
from .network import Link, Network
from .schema import GraphSpec, InstanceSpec, LayerSpec, ProfileSpec
from .validate import check_references, check_semantics


@dataclass(frozen=True)
class Node:
    """A resolved node: its device type and its parameter-memory budget in bytes."""

    index: int
    id: str
    device: Device
    tier: str | None
    memory_bytes: float  # math.inf when unbounded

    @property
    def ram_bytes(self) -> float:
        return self.device.ram_bytes


@dataclass(frozen=True)
class Demand:
    """A request class; ``index`` is its position in the instance's ``demand``."""

    index: int
    origin: str
    task: str
    rate_rps: float
    max_latency_s: float
    min_accuracy: float
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or f"{self.origin}/{self.task}"


@dataclass
class Model:
    """A model as arrays over its layers (its chain of cut positions).

    Layer latency on a device type comes from the layer's ``latency_s`` when
    given, else from the catalog's simple estimate ``macs / effective_macs_per_s``.
    """

    id: str
    task: str
    accuracy: float
    input_bytes: float
    layers: list[LayerSpec]
    profile_path: str | None = None
    graph: GraphSpec | None = None
    macs: np.ndarray = field(init=False)
    param_bytes: np.ndarray = field(init=False)
    out_bytes: np.ndarray = field(init=False)
    peak_activation_bytes: np.ndarray = field(init=False)
    _latency: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    _cum_latency: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    _source: dict[str, list[str]] = field(init=False, default_factory=dict)
    #: Derived tables per model (segment tables, cumulative latencies), see :mod:`placement.memo`.
    cache: Memo = field(init=False, default_factory=Memo, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.macs = np.array([l.macs for l in self.layers], dtype=float)
        self.param_bytes = np.array([l.param_bytes for l in self.layers], dtype=float)
        self.out_bytes = np.array([l.out_bytes for l in self.layers], dtype=float)
        self.peak_activation_bytes = np.array(
            [0.0 if l.peak_activation_bytes is None else l.peak_activation_bytes for l in self.layers]
        )
        self.cum_param_bytes = np.concatenate([[0.0], np.cumsum(self.param_bytes)])

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def total_param_bytes(self) -> float:
        return float(self.cum_param_bytes[-1])

    def latency(self, device: Device) -> np.ndarray:
        """Per-layer latency in seconds on ``device`` (given, or estimated)."""
        cached = self._latency.get(device.name)
        if cached is not None:
            return cached
        out = np.empty(self.n_layers)
        sources = []
        for i, layer in enumerate(self.layers):
            given = layer.latency_s.get(device.name)
            if given is not None:
                out[i] = given
                sources.append(layer.latency_source.get(device.name, "given"))
            else:
                if device.effective_macs_per_s is None:  # ruled out by validation
                    raise InputError(f"model {self.id}: layer {i} has no latency for {device.name}")
                out[i] = layer.macs / device.effective_macs_per_s
                sources.append("estimated")
        self._latency[device.name] = out
        self._cum_latency[device.name] = np.concatenate([[0.0], np.cumsum(out)])
        self._source[device.name] = sources
        return out

    def cum_latency(self, device: Device) -> np.ndarray:
        """Prefix sums of :meth:`latency`: layers a..b take ``c[b+1] - c[a]`` seconds."""
        if device.name not in self._cum_latency:
            self.latency(device)
        return self._cum_latency[device.name]

    def segment_latency(self, device: Device, first: int, last: int) -> float:
        """Seconds to compute layers ``first..last`` (inclusive) on ``device``."""
        c = self.cum_latency(device)
        return float(c[last + 1] - c[first])

    def latency_sources(self, device: Device) -> list[str]:
        """Per layer: 'measured', 'estimated' or 'given' (a figure without a label)."""
        self.latency(device)
        return self._source[device.name]

    def segment_param_bytes(self, first: int, last: int) -> float:
        return float(self.cum_param_bytes[last + 1] - self.cum_param_bytes[first])

    def segment_peak_activation(self, first: int, last: int) -> float:
        return float(self.peak_activation_bytes[first : last + 1].max())


#: Bytes of origin trees kept per topology (see :class:`placement.memo.Memo`).
TREE_CACHE_BYTES = 1 << 30


class Topology:
    """Everything an instance fixes apart from demand: nodes, devices, network and
    paths, models, and caches of derived tables (origin trees, segment tables).

    Built once per instance file; an :class:`Instance` with other rates
    (:meth:`Instance.with_rates`) shares it, so an online method or a sweep can
    cost thousands of demand vectors without re-reading profiles or paths.
    """

    def __init__(self, spec: InstanceSpec, layers: dict[int, list[LayerSpec]], profile_paths: dict[int, str] | None = None, network: Network | None = None, graphs: dict[int, GraphSpec] | None = None):
        self.devices: dict[str, Device] = catalog_devices(spec.devices)
        self.nodes: list[Node] = []
        for i, n in enumerate(spec.nodes):
            dev = self.devices[n.device]
            if "memory_bytes" in n.model_fields_set:
                mem = math.inf if n.memory_bytes is None else float(n.memory_bytes)
            else:
                mem = dev.memory_bytes
            self.nodes.append(Node(i, n.id, dev, n.tier, mem))
        self.node: dict[str, Node] = {n.id: n for n in self.nodes}
        if network is None:
            network = Network([n.id for n in self.nodes], _links(spec))
        self.network = network
        self.links = network.links
        profile_paths = profile_paths or {}
        graphs = graphs or {i: m.graph for i, m in enumerate(spec.models) if m.graph is not None}
        self.models: dict[str, Model] = {}
        for i, m in enumerate(spec.models):
            self.models[m.id] = Model(m.id, m.task, float(m.accuracy), float(m.input_bytes), layers[i], profile_paths.get(i), graphs.get(i))
        self.tasks: dict[str, list[str]] = {}
        for m in spec.models:
            self.tasks.setdefault(m.task, []).append(m.id)
        #: Derived, demand-independent data kept for methods (node arrays, ...), see :mod:`placement.memo`.
        self.cache = Memo()
        #: Origin trees (large: one per origin), least recently used dropped beyond ``TREE_CACHE_BYTES``.
        self.trees = Memo(max_bytes=TREE_CACHE_BYTES)


class Instance:
    """A validated instance: a :class:`Topology` plus demand, objective and options.

    Build one with :func:`load_instance` or :meth:`Instance.from_spec`.

    Attributes
    ----------
    spec : InstanceSpec
        The parsed file, as given (its demand rates are the file's, see :meth:`with_rates`).
    topology : Topology
        Nodes, devices, network, models and caches, shared by every demand vector.
    nodes, demands : list
        Resolved :class:`Node` and :class:`Demand` objects, in file order.
    models : dict
        Model id -> :class:`Model`.
    network : Network
        Graph, links and the path rule.
    warnings : list of str
        Legal but questionable input found while loading.
    """

    def __init__(self, spec: InstanceSpec, layers: dict[int, list[LayerSpec]], source: str | None, warnings: list[str], profile_paths: dict[int, str] | None = None, network: Network | None = None, graphs: dict[int, GraphSpec] | None = None, topology: Topology | None = None):
        self.spec = spec
        self.source = source
        self.warnings = warnings
        self.topology = topology if topology is not None else Topology(spec, layers, profile_paths, network, graphs)
        self.demands = [
            Demand(i, d.origin, d.task, float(d.rate_rps), float(d.max_latency_s), float(d.min_accuracy), d.name)
            for i, d in enumerate(spec.demand)
        ]
        w = spec.objective.weights
        self.w_latency, self.w_inaccuracy, self.w_energy = float(w.latency), float(w.inaccuracy), float(w.energy)
        self.routing = spec.options.routing
        self.max_segments = spec.options.max_segments
        self.max_utilization = float(spec.options.max_utilization)
        self.queueing = spec.options.queueing
        self.total_rate_rps = float(sum(d.rate_rps for d in self.demands))

    # -- the topology, shared -------------------------------------------------------
    @property
    def devices(self) -> dict[str, Device]:
        return self.topology.devices

    @property
    def nodes(self) -> list[Node]:
        return self.topology.nodes

    @property
    def node(self) -> dict[str, Node]:
        return self.topology.node

    @property
    def network(self) -> Network:
        return self.topology.network

    @property
    def links(self) -> list[Link]:
        return self.topology.links

    @property
    def models(self) -> dict[str, Model]:
        return self.topology.models

    @property
    def tasks(self) -> dict[str, list[str]]:
        return self.topology.tasks

    @property
    def cache(self) -> Memo:
        return self.topology.cache

    @property
    def weights(self) -> tuple[float, float, float]:
        """(w_latency, w_inaccuracy, w_energy)."""
        return (self.w_latency, self.w_inaccuracy, self.w_energy)

    @property
    def rates(self) -> np.ndarray:
        """Request rate of every demand class (requests/s), in class order."""
        return np.array([d.rate_rps for d in self.demands])

    def nearest_of_tier(self, origin: str, tier: str) -> str | None:
        """The node of ``tier`` with the smallest path latency from ``origin`` (ties: by id); None if none."""
        reach = self.network.reachable(origin)
        found = [(reach[n.id], n.id) for n in self.nodes if n.tier == tier and n.id in reach]
        return min(found)[1] if found else None

    def with_rates(self, rates) -> Instance:
        """The same instance with other demand rates (requests/s per class), sharing the topology.

        Cheap (no profile, path or tree is rebuilt): for online slots and sweeps
        over demand draws. Rates must be finite and positive.
        """
        rates = np.asarray(rates, dtype=float)
        if rates.shape != (len(self.demands),):
            raise ValueError(f"expected {len(self.demands)} rates, got shape {rates.shape}")
        if not np.all(np.isfinite(rates)) or np.any(rates <= 0):
            raise ValueError("rates must be finite and > 0")
        other = copy.copy(self)
        other.demands = [dataclasses.replace(d, rate_rps=float(r)) for d, r in zip(self.demands, rates)]
        other.total_rate_rps = float(rates.sum())
        return other

    # -- construction ------------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: InstanceSpec, base_dir: str | os.PathLike | None = None, source: str | None = None) -> Instance:
        """Validate and resolve an already parsed spec (profiles relative to ``base_dir``)."""
        found = check_references(spec.model_dump(mode="json"), set(builtin_catalog()), source)
        if found:
            raise InputError(found)
        return _build(spec, Path(base_dir) if base_dir is not None else Path.cwd(), source, {})

    @property
    def name(self) -> str:
        return self.spec.name

    def path(self, source: str, target: str) -> tuple[str, ...]:
        """The path of DESIGN.md between two nodes."""
        return self.network.path(source, target)

    def models_for(self, demand: Demand) -> list[Model]:
        """Models of the demand's task, in file order."""
        return [self.models[m] for m in self.tasks.get(demand.task, [])]

    def summary(self) -> str:
        return (
            f"{self.name}: {len(self.nodes)} nodes, {len(self.links)} links, "
            f"{len(self.models)} models, {len(self.tasks)} tasks, {len(self.demands)} demand classes "
            f"({self.total_rate_rps:g} req/s), routing {self.routing}, max_segments {self.max_segments}"
        )


def _links(spec: InstanceSpec) -> list[Link]:
    return [Link(i, l.u, l.v, float(l.bandwidth_bytes_per_s), float(l.latency_s), float(l.energy_j_per_byte)) for i, l in enumerate(spec.links)]


def _build(spec: InstanceSpec, base_dir: Path, source: str | None, lines: dict) -> Instance:
    problems: list[Problem] = []
    layers: dict[int, tuple[list[LayerSpec], str | None, str]] = {}
    profile_paths: dict[int, str] = {}
    graphs: dict[int, GraphSpec] = {i: m.graph for i, m in enumerate(spec.models) if m.graph is not None}
    for i, m in enumerate(spec.models):
        if m.layers is not None:
            layers[i] = (m.layers, source, f"models[{i}].layers")
            continue
        ppath = Path(m.profile)  # type: ignore[arg-type]
        full = ppath if ppath.is_absolute() else base_dir / ppath
        display = str(full) if ppath.is_absolute() else os.path.normpath(os.path.join(os.path.dirname(source or "."), ppath))
        try:
            data, plines = read_document(full, display=display)
            prof = parse_model(ProfileSpec, data, display, plines)
        except InputError as exc:
            if any(p.message == "no such file" for p in exc.problems):
                problems.append(Problem(source, f"models[{i}].profile", f"profile file not found: {display}", _line_for(lines, f"models[{i}].profile")))
            else:
                problems.extend(Problem(p.file, p.path, f"{p.message} (profile of models[{i}] '{m.id}')", p.line) for p in exc.problems)
            continue
        layers[i] = (prof.layers, display, "layers")  # type: ignore[union-attr]
        profile_paths[i] = str(full)
        if prof.graph is not None and i not in graphs:  # type: ignore[union-attr]
            graphs[i] = prof.graph  # type: ignore[union-attr]
    if problems:
        raise InputError(problems)
    merged = merge_devices(spec.devices)
    network = Network([n.id for n in spec.nodes], _links(spec))
    found, warnings = check_semantics(spec, layers, merged, set(builtin_catalog()), source, network, graphs)
    if found:
        raise InputError(_with_lines(found, source, lines))
    return Instance(spec, {i: v[0] for i, v in layers.items()}, source, warnings, profile_paths, network, graphs)


def _with_lines(problems: list[Problem], source: str | None, lines: dict) -> list[Problem]:
    """Fill in line numbers of problems in ``source`` and sort them by position."""
    out = [
        Problem(p.file, p.path, p.message, _line_for(lines, p.path)) if p.line is None and p.file == source and lines else p
        for p in problems
    ]
    return sorted(out, key=lambda p: (p.file != source, p.file or "", p.line or 0))


def _line_for(lines: dict, path: str) -> int | None:
    loc: list = []
    for name, idx in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        loc.append(int(idx) if idx else name)
    return lookup_line(lines, tuple(loc))


def load_instance(path: str | os.PathLike) -> Instance:
    """Load, validate and resolve an instance file (YAML or JSON).

    Profile files named by models are resolved relative to the instance file.
    Raises :class:`~placement.errors.InputError` listing every problem found,
    each naming the file, the field and, where known, the line.
    """
    display = str(path)
    data, lines = read_document(path, display=display)
    problems: list[Problem] = []
    spec = None
    try:
        spec = parse_model(InstanceSpec, data, display, lines)
    except InputError as exc:
        problems.extend(exc.problems)
    problems.extend(check_references(data, set(builtin_catalog()), display))
    if problems:
        raise InputError(_with_lines(problems, display, lines))
    assert isinstance(spec, InstanceSpec)
    return _build(spec, Path(path).resolve().parent, display, lines)


def save_instance(spec: InstanceSpec, path: str | os.PathLike, source_dir: str | os.PathLike | None = None) -> None:
    """Write an instance spec as YAML or JSON (by suffix), atomically.

    Relative ``profile`` paths in ``spec`` are read relative to ``source_dir``
    (the folder of the file the spec came from; default: the destination's
    folder, i.e. written unchanged). When the two folders differ, each such
    path is rewritten so it still names the same file from ``path``.
    """
    data = spec.model_dump(mode="json", exclude_unset=True)
    if source_dir is not None:
        dest_dir = Path(path).resolve().parent
        src = Path(source_dir).resolve()
        if src != dest_dir:
            for m in data.get("models", []):
                ref = m.get("profile")
                if isinstance(ref, str) and not Path(ref).is_absolute():
                    m["profile"] = reference_from(dest_dir, src / ref)
    # objective and options are written in full, so a file says what it means
    data["objective"] = spec.objective.model_dump(mode="json")
    data["options"] = spec.options.model_dump(mode="json")
    text = dump_json(data) if str(path).lower().endswith(".json") else dump_yaml(data)
    atomic_write_text(path, text)
