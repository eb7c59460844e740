"""Benchmark suites: the YAML format, its validation and its expansion into runs.

A suite is data: instances x methods x seeds x repeats, plus the tables and
figures made from its results. :func:`load_suite` parses and checks a suite
file completely (unknown fields, methods, options, files) before anything
runs, raising :class:`~placement.errors.InputError` with one problem per
mistake, each naming the file, the field and the line.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from placement.errors import IdnplanError, InputError, Problem
from placement.fileio import lookup_line, parse_model, read_document
from placement.schema import NonNegFloat, PosFloat, Strict

from .instances import ResolvedInstance, resolve_entry
from .online import TraceEntry, resolve_traces

#: Result fields a table or figure may show (all numbers of a run row).
VALUES = (
    "objective", "bound", "gap", "mean_latency_s", "mean_inaccuracy", "mean_energy_j", "network_bytes_per_s",
    "load_s", "build_s", "solve_s", "method_s", "wall_s", "peak_memory_bytes",
    "total_cost", "regret", "regret_per_slot", "ratio_to_hindsight", "fetched_bytes", "update_time_s",
    "hypervolume", "common_hypervolume", "front_points", "macs", "published_macs", "macs_error_pct",
)
#: Run fields a table may group rows by.
GROUPS = ("instance", "instance_group", "method", "nodes", "classes", "layers", "seed", "trace", "objectives")


class Modify(Strict):
    """Changes applied to an instance before it is solved (the content hash covers them)."""

    weights: dict[Literal["latency", "inaccuracy", "energy"], Annotated[float, Field(ge=0)]] | None = None
    rate_scale: PosFloat | None = Field(default=None, description="Multiply every class's rate_rps")
    max_latency_s: PosFloat | None = Field(default=None, description="Set every class's SLO (e.g. 1e6 to lift SLOs)")
    options: dict[str, Any] | None = Field(default=None, description="Merged into the instance's options")


class InstanceEntry(Strict):
    """One instance source: a file, a generator config, or a named factory."""

    file: str | None = None
    generator: str | dict[str, Any] | None = None
    factory: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict, description="Factory args varied as a grid")
    seeds: list[int] | None = Field(default=None, description="Generator seeds (one instance each)")
    label: str | None = None
    modify: Modify | None = None

    @model_validator(mode="after")
    def _one_source(self) -> InstanceEntry:
        given = [k for k in ("file", "generator", "factory") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of 'file', 'generator', 'factory' (got {', '.join(given) or 'none'})")
        if self.seeds is not None and self.generator is None:
            raise ValueError("'seeds' applies to 'generator' entries only")
        if (self.args or self.grid) and self.factory is None:
            raise ValueError("'args' and 'grid' apply to 'factory' entries only")
        return self


class MethodEntry(Strict):
    """One method with its options; ``instances`` limits it to labels matching these patterns."""

    method: str
    label: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    time_limit_s: PosFloat | None = None
    mip_gap: NonNegFloat | None = None
    threads: Annotated[int, Field(ge=1)] | None = None
    instances: list[str] | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return self.method + "".join(f" {k}={v}" for k, v in sorted(self.options.items()))


class TableSpec(Strict):
    """A table: one row per ``rows`` group, one column per method, cells = mean +- 95 % CI of ``value``."""

    name: str
    title: str | None = None
    rows: list[Literal[GROUPS]] = Field(default_factory=lambda: ["instance_group"])  # type: ignore[valid-type]
    value: Literal[VALUES] = "objective"  # type: ignore[valid-type]
    better: Literal["lower", "higher"] = "lower"
    scale: PosFloat = 1.0
    unit: str | None = None
    digits: Annotated[int, Field(ge=0, le=12)] = 3
    reference: str | None = Field(default=None, description="Add a column 'X / reference' for every other method")
    methods: list[str] | None = Field(default=None, description="Columns (method labels) in this order; default all")


class FigureSpec(Strict):
    """A standard figure made by ``idnplan bench plot``."""

    name: str
    kind: Literal["time-vs-size", "gains", "regret", "front", "bars"]
    x: Literal["nodes", "classes", "layers"] = "nodes"
    value: Literal[VALUES] = "wall_s"  # type: ignore[valid-type]
    reference: str | None = None
    methods: list[str] | None = None
    instances: list[str] | None = Field(default=None, description="regret and front figures: instance labels (patterns) to draw")
    traces: list[str] | None = Field(default=None, description="regret figures: trace labels (patterns) to draw")


class SuiteSpec(Strict):
    """A benchmark suite file."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str | None = None
    kind: Literal["static", "online", "pareto", "profile"] = "static"
    plugins: list[str] = Field(default_factory=list, description="Python files registering extra methods")
    instances: list[InstanceEntry] = Field(default_factory=list, description="Every kind but 'profile'")
    objectives: list[str | list[str]] = Field(default_factory=list, description="Pareto suites: objective sets, e.g. 'latency,energy'")
    models: list[str] = Field(default_factory=list, description="Profile suites: torchvision model names")
    methods: list[MethodEntry] = Field(min_length=1)
    traces: list[TraceEntry] = Field(default_factory=list, description="Online suites: demand traces (files or generators)")
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    repeats: Annotated[int, Field(ge=1)] = 1
    time_limit_s: PosFloat | None = Field(default=None, description="Given to every method (its own limit)")
    timeout_s: PosFloat | None = Field(default=None, description="Wall-clock limit per run; the run is killed after it")
    memory_limit_gb: PosFloat | None = None
    tables: list[TableSpec] = Field(default_factory=list)
    figures: list[FigureSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class Run:
    """One run: what a worker needs, as plain data, plus the key that names it."""

    key: str
    suite: str
    kind: str
    instance: ResolvedInstance
    method: str
    method_label: str
    options: dict
    seed: int
    repeat: int
    plugins: tuple[str, ...]
    trace: dict | None = None  # online suites: the trace as data (bench.online.resolve_traces)
    objectives: str | None = None  # pareto suites: "latency,energy"

    def describe(self) -> dict:
        """The small serialisable description a worker runs (the instance as data, never solver state)."""
        out = {
            "key": self.key, "kind": self.kind, "method": self.method, "options": self.options, "seed": self.seed,
            "instance_json": self.instance.json, "instance_label": self.instance.label, "plugins": list(self.plugins),
        }
        if self.trace is not None:
            out["trace"] = self.trace
        if self.objectives is not None:
            out["objectives"] = self.objectives
        return out


@dataclass
class Suite:
    """A validated suite: its spec, where it came from, its instances and runs."""

    spec: SuiteSpec
    path: Path
    text: str
    instances: list[ResolvedInstance]
    runs: list[Run]

    @property
    def name(self) -> str:
        return self.spec.name


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no spaces: the text every hash is taken of."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_suite_text(text: str, display: str = "<suite>") -> SuiteSpec:
    """Parse suite text (no file or method checks): what reports need.

    Read with the project's YAML loader (as ``load_suite`` reads the file), so
    numbers such as ``1.0e6`` stay numbers.
    """
    from placement.fileio import _parse_yaml

    return parse_model(SuiteSpec, _parse_yaml(text, display)[0], display)  # type: ignore[return-value]


def load_suite(path: str | Path) -> Suite:
    """Read, validate and expand a suite file; every problem is reported before anything runs."""
    display = str(path)
    data, lines = read_document(path, display=display)
    spec: SuiteSpec = parse_model(SuiteSpec, data, display, lines)  # type: ignore[assignment]
    base = Path(path).resolve().parent
    problems: list[Problem] = []

    def problem(loc: tuple, message: str) -> None:
        from placement.fileio import format_path

        problems.append(Problem(display, format_path(loc), message, lookup_line(lines, loc)))

    _check_kind(spec, problem)
    traces = resolve_traces(spec.traces, base, problem)
    plugins = []
    for i, p in enumerate(spec.plugins):
        full = (base / p).resolve()
        if not full.is_file():
            problem(("plugins", i), f"plugin file not found: {full}")
            continue
        plugins.append(str(full))
    from .worker import load_plugins, method_options

    if not problems:
        try:
            load_plugins(plugins)
        except Exception as exc:  # noqa: BLE001 - a broken plugin is bad input
            problem(("plugins",), f"cannot import a plugin: {type(exc).__name__}: {exc}")
    if spec.kind == "profile":
        _check_profilers(spec, problem)
    else:
        _check_methods(spec, problem, method_options)
    from .profile import model_instance

    instances: list[ResolvedInstance] = [model_instance(m) for m in spec.models]
    for i, entry in enumerate(spec.instances):
        try:
            instances.extend(resolve_entry(entry, base, ("instances", i)))
        except InputError as exc:
            problems.extend(Problem(p.file or display, p.path, p.message, p.line if p.file else lookup_line(lines, ("instances", i))) for p in exc.problems)
    labels = [r.label for r in instances]
    for dup in sorted({x for x in labels if labels.count(x) > 1}):
        problem(("instances",), f"two instances have the label '{dup}'; give each entry a distinct 'label'")
    names = [m.name for m in spec.methods]
    for dup in sorted({x for x in names if names.count(x) > 1}):
        problem(("methods",), f"two methods have the label '{dup}'; give each a distinct 'label'")
    for i, t in enumerate(spec.tables):
        for field in ("reference",):
            ref = getattr(t, field)
            if ref is not None and ref not in names:
                problem(("tables", i, field), f"'{ref}' is not a method label of this suite ({', '.join(names)})")
        for j, m in enumerate(t.methods or []):
            if m not in names:
                problem(("tables", i, "methods", j), f"'{m}' is not a method label of this suite ({', '.join(names)})")
    if problems:
        raise InputError(problems)
    runs = expand(spec, instances, tuple(plugins), traces)
    return Suite(spec, Path(path), Path(path).read_text(encoding="utf-8"), instances, runs)


def _check_kind(spec: SuiteSpec, problem) -> None:
    """Fields that belong to one kind of suite only, and what each kind needs."""
    if spec.kind != "profile" and not spec.instances:
        problem(("instances",), f"a{'n' if spec.kind == 'online' else ''} {spec.kind} suite needs 'instances'")
    if spec.kind == "profile" and not spec.models:
        problem(("models",), "a profile suite needs 'models' (torchvision model names)")
    if spec.kind == "profile" and spec.instances:
        problem(("instances",), "a profile suite profiles 'models'; 'instances' apply to the other kinds")
    if spec.kind != "profile" and spec.models:
        problem(("models",), f"'models' apply to profile suites only (this suite is '{spec.kind}')")
    if spec.kind == "online" and not spec.traces:
        problem(("traces",), "an online suite needs 'traces' (files or generators)")
    if spec.kind != "online" and spec.traces:
        problem(("traces",), f"'traces' apply to online suites only (this suite is '{spec.kind}')")
    if spec.kind == "pareto":
        from placement.kernel import OBJECTIVES

        from .pareto import parse_objectives

        if not spec.objectives:
            problem(("objectives",), f"a pareto suite needs 'objectives' (sets of {', '.join(OBJECTIVES)}, e.g. 'latency,energy')")
        for i, entry in enumerate(spec.objectives):
            names = parse_objectives(entry)
            bad = [n for n in names if n not in OBJECTIVES]
            if bad or len(names) < 2 or len(set(names)) != len(names):
                problem(("objectives", i), f"expected two or more distinct objectives of {', '.join(OBJECTIVES)}, got '{','.join(names)}'")
        for i, m in enumerate(spec.methods):
            if "objectives" in m.options:
                problem(("methods", i, "options", "objectives"), "a pareto suite gives the objectives in its 'objectives' field (one run per set)")
    elif spec.objectives:
        problem(("objectives",), f"'objectives' apply to pareto suites only (this suite is '{spec.kind}')")


def _check_profilers(spec: SuiteSpec, problem) -> None:
    from .profile import PROFILERS, missing

    for i, m in enumerate(spec.methods):
        if m.method not in PROFILERS:
            problem(("methods", i, "method"), f"unknown profiler '{m.method}'; a profile suite's methods: {', '.join(PROFILERS)}")
        elif missing(m.method):
            problem(("methods", i, "method"), f"profiler '{m.method}' needs {', '.join(missing(m.method))}, which is not installed")
        elif m.options or m.time_limit_s or m.mip_gap or m.threads:
            problem(("methods", i), f"profiler '{m.method}' takes no options")
    if spec.models:
        import importlib.util

        if importlib.util.find_spec("torchvision") is not None:
            import torchvision

            known = set(torchvision.models.list_models())
            for i, name in enumerate(spec.models):
                if name not in known:
                    problem(("models", i), f"unknown torchvision model '{name}' (see torchvision.models.list_models())")


def _check_methods(spec: SuiteSpec, problem, method_options) -> None:
    from solvers import methods

    known = {m.name: m for m in methods()}
    for i, m in enumerate(spec.methods):
        if m.method not in known:
            problem(("methods", i, "method"), f"unknown method '{m.method}'; registered: {', '.join(sorted(known))}")
            continue
        if not known[m.method].available():
            problem(("methods", i, "method"), f"method '{m.method}' needs {', '.join(known[m.method].requires)}, which is not installed")
        if known[m.method].kind != spec.kind:
            problem(("methods", i, "method"), f"method '{m.method}' is a {known[m.method].kind} method; this is a{'n' if spec.kind == 'online' else ''} {spec.kind} suite")
            continue
        allowed = method_options(m.method)
        typed = {o.name: o for o in known[m.method].options}
        for key, value in m.options.items():
            if key not in allowed:
                hint = f"; its options: {', '.join(sorted(allowed))}" if allowed else "; it takes no options"
                problem(("methods", i, "options", key), f"method '{m.method}' has no option '{key}'{hint}")
            elif key in typed:
                try:
                    typed[key].parse(value, m.method)
                except IdnplanError as exc:
                    problem(("methods", i, "options", key), str(exc))


def expand(spec: SuiteSpec, instances: list[ResolvedInstance], plugins: tuple[str, ...], traces: list[dict] | None = None) -> list[Run]:
    """Every (instance, [trace | objectives,] method, seed, repeat) of the suite, in a stable order."""
    from .pareto import parse_objectives

    objective_sets = [",".join(parse_objectives(o)) for o in spec.objectives] if spec.kind == "pareto" else [None]
    runs = []
    for inst, trace, objs in [(i, t, o) for i in instances for t in (traces or [None]) for o in objective_sets]:
        for m in spec.methods:
            if m.instances is not None and not any(fnmatch.fnmatchcase(inst.label, pat) for pat in m.instances):
                continue
            options = dict(m.options)
            limit = m.time_limit_s or spec.time_limit_s
            for key, value in (("time_limit_s", limit), ("mip_gap", m.mip_gap), ("threads", m.threads)):
                if value is not None and spec.kind in ("static", "pareto"):
                    options[key] = value
            for seed in spec.seeds:
                for rep in range(spec.repeats):
                    ident = {"suite": spec.name, "kind": spec.kind, "instance": inst.sha256, "label": inst.label,
                             "method": m.method, "method_label": m.name, "options": options, "seed": seed, "repeat": rep}
                    if trace is not None:
                        ident["trace"] = trace["sha256"]
                    if objs is not None:
                        ident["objectives"] = objs
                    runs.append(Run(sha256(canonical_json(ident)), spec.name, spec.kind, inst, m.method, m.name, options, seed, rep, plugins, trace, objs))
    return runs
