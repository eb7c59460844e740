"""Online suites (``kind: online``): traces, the run of one policy on one trace, the regret figure.

An online suite names instances, ``traces`` and online policies (methods of
kind ``online``, with their typed options). Each trace entry is a CSV file or
a generator spec (kind, slots, requests per slot, seeds), optionally with a
resource trace (file or generator). A run = instance x trace x policy x
seed x repeat; the worker regenerates (or parses) the trace from its
description, computes the exact hindsight cost at ``curve_points`` prefix
lengths, runs the policy and returns one row (total cost, regret, regret/T,
ratio to hindsight, bytes fetched, mean update time) plus the online-run JSON,
which the sweep stores beside the database by its SHA-256
(``RESULTS.sqlite.files/online-runs/<sha256>.json``). ``objective`` of an
online row is its total cost per request (objective units, estimated).

The ``online-tree`` factory builds the benchmark instances of the online
docs: a shipped instance or a generated tiered tree with every cache node's
memory cut to ``memory_fraction`` of the bytes of the models it could hold.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from placement.errors import InputError, Problem
from placement.generate.traces import DEMAND_KINDS, RESOURCE_KINDS
from placement.schema import InstanceSpec, PosFloat, Strict

ROOT = Path(__file__).resolve().parents[1]


class ResourceEntry(Strict):
    """A resource trace: a CSV file or a generator kind."""

    file: str | None = None
    generator: Literal[RESOURCE_KINDS] | None = None  # type: ignore[valid-type]
    factor: PosFloat | None = None
    period: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _one(self) -> ResourceEntry:
        if (self.file is None) == (self.generator is None):
            raise ValueError("give exactly one of 'file', 'generator'")
        return self


class TraceEntry(Strict):
    """A demand trace of an online suite: a CSV file or a generator spec (one trace per seed)."""

    file: str | None = None
    generator: Literal[DEMAND_KINDS] | None = None  # type: ignore[valid-type]
    slots: Annotated[int, Field(ge=1)] | None = None
    requests: PosFloat = 100.0
    zipf: PosFloat | None = None
    period: Annotated[int, Field(ge=1)] | None = None
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    resources: ResourceEntry | None = None
    curve_points: Annotated[int, Field(ge=1, le=100)] = 10
    label: str | None = None

    @model_validator(mode="after")
    def _one(self) -> TraceEntry:
        if (self.file is None) == (self.generator is None):
            raise ValueError("give exactly one of 'file', 'generator'")
        if self.generator is not None and self.slots is None:
            raise ValueError("a generated trace needs 'slots'")
        if self.file is not None and self.slots is not None:
            raise ValueError("'slots' applies to generated traces only (a file sets its own length)")
        return self


def resolve_traces(entries: list[TraceEntry], base: Path, problem) -> list[dict]:
    """Every trace of the suite as plain data (file contents inlined), with its label and hash."""
    from .suite import canonical_json, sha256

    out = []
    for i, e in enumerate(entries):
        desc: dict[str, Any] = {"curve_points": e.curve_points}
        if e.file is not None:
            path = base / e.file
            if not path.is_file():
                problem(("traces", i, "file"), f"trace file not found: {path}")
                continue
            desc["csv"] = path.read_text(encoding="utf-8")
            seeds: list[int | None] = [None]
            label = e.label or Path(e.file).stem
        else:
            desc.update(generator=e.generator, slots=e.slots, requests=e.requests, zipf=e.zipf, period=e.period)
            seeds = list(e.seeds)
            label = e.label or e.generator
        if e.resources is not None:
            r = e.resources
            if r.file is not None:
                rpath = base / r.file
                if not rpath.is_file():
                    problem(("traces", i, "resources", "file"), f"resource trace file not found: {rpath}")
                    continue
                desc["resources"] = {"csv": rpath.read_text(encoding="utf-8")}
            else:
                desc["resources"] = {"generator": r.generator, "factor": r.factor, "period": r.period}
            label += f"+{r.generator or Path(r.file or '').stem}"
        for seed in seeds:
            d = dict(desc, seed=seed, label=label if seed is None or len(seeds) == 1 else f"{label}@{seed}")
            d["sha256"] = sha256(canonical_json(d))
            out.append(d)
    return out


def _csv_file(text: str, reader, *args):
    fd, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return reader(path, *args)
    finally:
        os.unlink(path)


def build_traces(inst, desc: dict):
    """The demand and resource traces a trace description names, for ``inst``."""
    from placement.generate.traces import generate_demand_trace, generate_resource_trace
    from placement.traces import read_demand_trace, read_resource_trace
    from solvers.online.costs import instance_pairs

    if "csv" in desc:
        demand = _csv_file(desc["csv"], read_demand_trace, instance_pairs(inst), set(inst.node))
    else:
        demand = generate_demand_trace(inst, desc["generator"], desc["slots"], desc["seed"] or 0, desc["requests"], desc.get("zipf"), desc.get("period"))
    res = desc.get("resources")
    resources = None
    if res is not None:
        if "csv" in res:
            dirs = {f"{link.u}->{link.v}" for link in inst.links} | {f"{link.v}->{link.u}" for link in inst.links}
            resources = _csv_file(res["csv"], read_resource_trace, set(inst.node), dirs)
        else:
            resources = generate_resource_trace(inst, res["generator"], demand.n_slots, desc["seed"] or 0, res.get("factor"), res.get("period"))
    return demand, resources


def execute_online(desc: dict) -> dict:
    """One online run (the worker's ``_solve`` for ``kind: online``): a row of plain data."""
    from placement.instance import Instance
    from solvers.online.runner import checkpoints_for, hindsight_costs, prepare, run_online

    t = time.perf_counter()
    inst = Instance.from_spec(InstanceSpec.model_validate_json(desc["instance_json"]), None, desc["instance_label"])
    trace = desc["trace"]
    demand, resources = build_traces(inst, trace)
    setting = prepare(inst, demand, resources)
    out: dict = {"load_s": time.perf_counter() - t}
    t = time.perf_counter()
    hind = hindsight_costs(setting, checkpoints_for(demand.n_slots, trace["curve_points"])) if demand.n_slots else None
    out["build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    run = run_online(setting, desc["method"], desc["options"], desc["seed"], hind)
    out["method_s"] = time.perf_counter() - t
    s = run.summary
    out.update(
        status="feasible", objective=s.total_cost / s.total_requests if s.total_requests else None,
        total_cost=s.total_cost, regret=s.regret, regret_per_slot=s.regret_per_slot, ratio_to_hindsight=s.ratio_to_hindsight,
        fetched_bytes=s.fetched_bytes, update_time_s=s.mean_update_time_s, online_run_json=run.model_dump_json(),
    )
    return out


def online_tree(instance: str | None = None, fanout: str | None = None, tasks: int = 5, models_per_task: int = 4,
                memory_fraction: float = 0.15, update: float = 0.0, seed: int = 0) -> InstanceSpec:
    """A shipped instance (``instance``: a name under instances/) or a generated tiered tree
    (``fanout``, e.g. "4,4,4,4", with ``tasks`` x ``models_per_task`` synthetic models), with every
    cache node's memory at ``memory_fraction`` of its candidate models' bytes and update cost ``update``."""
    from placement.instance import Instance, load_instance
    from solvers.online.costs import build_table

    from .instances import inline_profiles

    if (instance is None) == (fanout is None):
        raise TypeError("give exactly one of 'instance' and 'fanout'")
    if instance is not None:
        path = ROOT / "instances" / f"{instance}.yaml"
        if not path.is_file():
            raise TypeError(f"no shipped instance '{instance}' (looked for {path})")
        spec = inline_profiles(load_instance(path).spec, path.parent)
    else:
        import argparse

        from placement.generate import GeneratorConfig, generate
        from placement.generate.cli import add_generate_parser, config_from_args

        parser = argparse.ArgumentParser()
        add_generate_parser(parser.add_subparsers(dest="command"))
        name = f"tree-{_count([int(f) for f in str(fanout).split(',')])}"
        args = parser.parse_args(["generate", "tiered", "-o", "unused.yaml", "--fanout", str(fanout), "--tasks", str(tasks),
                                  "--models-per-task", str(models_per_task), "--seed", str(seed), "--name", name])
        spec, _ = generate(GeneratorConfig.model_validate(config_from_args(args)), ROOT)
    inst = Instance.from_spec(spec, None, spec.name)
    table = build_table(inst)
    need: dict[str, float] = {}
    for k in range(table.n_items):
        v = table.nodes[table.item_node[k]]
        need[v] = need.get(v, 0.0) + float(table.item_bytes[k])
    data = spec.model_dump(mode="json")  # unset fields stay unset (schema.SetFieldsOnly)
    for n in data["nodes"]:
        if n["id"] in need and n["id"] not in table.repository:
            n["memory_bytes"] = memory_fraction * need[n["id"]]
    data.setdefault("objective", {}).setdefault("weights", {})["update"] = update
    return InstanceSpec.model_validate(data)


def _count(levels: list[int]) -> int:
    total, width = 1, 1
    for f in levels:
        width *= f
        total += width
    return total


def regret_figure(ax, rows: list[dict], fig, order: list[str], files: Path) -> None:
    """Regret per slot against t (exact hindsight at each point), mean over seeds; one line per method
    (and per instance and trace when several are drawn; ``instances``, ``traces`` and ``methods`` of the
    figure select them by label pattern)."""
    import fnmatch
    import json
    import statistics
    from collections import defaultdict

    def wanted(value: str, patterns: list[str] | None) -> bool:
        return patterns is None or any(fnmatch.fnmatchcase(value, p) for p in patterns)

    curves: dict = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.get("kind") != "online" or not r.get("run_sha256") or r["status"] != "feasible":
            continue
        if not (wanted(r["instance"], fig.instances) and wanted(r["trace"], fig.traces) and wanted(r["method_label"], fig.methods)):
            continue
        path = files / "online-runs" / f"{r['run_sha256']}.json"
        if not path.is_file():
            raise InputError(Problem(str(path), "", "online-run file missing beside the database"))
        run = json.loads(path.read_text(encoding="utf-8"))
        for p in run["summary"]["regret_curve"]:
            curves[(r["method_label"], r["instance"], r["trace"])][p["t_slots"]].append(p["regret_per_slot"])
    if not curves:
        raise InputError(Problem(None, f"figures.{fig.name}", "no online runs with regret curves in this database"))
    several = len({(i, t) for _, i, t in curves}) > 1
    for key in sorted(curves, key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k)):
        method, inst, trace = key
        pts = sorted((t, statistics.fmean(v)) for t, v in curves[key].items())
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{method} ({inst}, {trace})" if several else method)
    ax.set_xscale("log")
    ax.set_xlabel("t (slots)")
    ax.set_ylabel("regret / t (objective units per slot; estimated costs)")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0) if len(curves) > 6 else None)
