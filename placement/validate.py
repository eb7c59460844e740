"""Cross-reference checks of an instance: everything a schema alone cannot see.

Two passes, so that one run reports every problem it can:

- :func:`check_references` works on the raw parsed document (robust to
  entries the schema rejects) and finds duplicate ids, unknown nodes, device
  types and tasks, self-loops and duplicate links. It runs together with the
  schema validation.
- :func:`check_semantics` needs a schema-valid instance: device types without
  throughput that lack per-layer latencies, new device types missing required
  fields, and origins that cannot reach nodes able to hold a model of their task.

Each problem names the file and the field path.
"""

from __future__ import annotations

import bisect
import difflib
import math
from collections import defaultdict
from typing import Any

import networkx as nx

from .errors import Problem
from .network import Link, Network
from .schema import DeviceSpec, InstanceSpec, LayerSpec, graph_layer_problems


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _items(data: dict, key: str) -> list[tuple[int, dict]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _ids(items: list[tuple[int, dict]], section: str, file: str | None, out: list[Problem]) -> set[str]:
    first: dict[str, int] = {}
    for i, item in items:
        ident = item.get("id")
        if not isinstance(ident, str):
            continue
        if ident in first:
            out.append(Problem(file, f"{section}[{i}].id", f"duplicate id '{ident}' (first at {section}[{first[ident]}])"))
        else:
            first[ident] = i
    return set(first)


def check_references(data: Any, builtin_devices: set[str], file: str | None) -> list[Problem]:
    """Reference checks on the raw document (see module docstring)."""
    out: list[Problem] = []
    if not isinstance(data, dict):
        return out
    nodes = _items(data, "nodes")
    node_ids = _ids(nodes, "nodes", file, out)
    node_list = sorted(node_ids)
    extra_devices = data.get("devices") if isinstance(data.get("devices"), dict) else {}
    devices = sorted(builtin_devices | {k for k in extra_devices if isinstance(k, str)})
    for i, node in nodes:
        dev = node.get("device")
        if isinstance(dev, str) and dev and dev not in devices:
            out.append(Problem(file, f"nodes[{i}].device", f"unknown device type '{dev}'{_suggest(dev, devices)}; known: {', '.join(devices)}"))

    seen: dict[frozenset, int] = {}
    for i, link in _items(data, "links"):
        u, v = link.get("u"), link.get("v")
        ok = True
        for end, ident in (("u", u), ("v", v)):
            if isinstance(ident, str) and ident and ident not in node_ids:
                out.append(Problem(file, f"links[{i}].{end}", f"unknown node '{ident}'{_suggest(ident, node_list)}"))
                ok = False
        if not (isinstance(u, str) and isinstance(v, str)):
            continue
        if u == v:
            out.append(Problem(file, f"links[{i}].v", f"self-loop: the link joins '{u}' to itself"))
        elif ok:
            pair = frozenset((u, v))
            if pair in seen:
                out.append(Problem(file, f"links[{i}]", f"duplicate link between '{u}' and '{v}' (first at links[{seen[pair]}])"))
            else:
                seen[pair] = i

    models = _items(data, "models")
    _ids(models, "models", file, out)
    tasks = sorted({m["task"] for _, m in models if isinstance(m.get("task"), str)})
    for i, dem in _items(data, "demand"):
        origin, task = dem.get("origin"), dem.get("task")
        if isinstance(origin, str) and origin and origin not in node_ids:
            out.append(Problem(file, f"demand[{i}].origin", f"unknown node '{origin}'{_suggest(origin, node_list)}"))
        if isinstance(task, str) and task and task not in tasks:
            out.append(Problem(file, f"demand[{i}].task", f"no model serves task '{task}'{_suggest(task, tasks)}; tasks with models: {', '.join(tasks) or 'none'}"))
    return out


def check_semantics(
    spec: InstanceSpec,
    layers: dict[int, tuple[list[LayerSpec], str | None, str]],
    devices: dict[str, DeviceSpec],
    builtin: set[str],
    file: str | None,
    network: Network | None = None,
    graphs: dict | None = None,
) -> tuple[list[Problem], list[str]]:
    """Checks that need a schema-valid instance; returns problems and warnings.

    ``layers`` maps a model index to (its layers, the file they come from, the
    field path prefix for messages); ``devices`` is the merged catalog;
    ``graphs`` maps a model index to the graph of its profile file, if any.
    """
    problems: list[Problem] = []
    warnings: list[str] = []
    if spec.options.queueing == "ps" and spec.options.max_utilization >= 1:
        problems.append(Problem(file, "options.max_utilization", f"must be < 1 with queueing 'ps' (a processor-sharing server at utilization 1 never empties: its waiting time is infinite), got {spec.options.max_utilization:g}"))
    for name, dev in spec.devices.items():
        if name in builtin:
            continue
        for field in ("memory_bytes", "active_power_w"):
            if field not in dev.model_fields_set:
                problems.append(Problem(file, f"devices.{name}.{field}", "required for a device type that is not in the built-in catalog (memory_bytes may be null = unbounded)"))

    used: dict[str, str] = {}
    for node in spec.nodes:
        used.setdefault(node.device, node.id)
    no_throughput = [d for d in used if devices[d].effective_macs_per_s is None and devices[d].peak_flops is None]
    known = sorted(devices)
    for i, model in enumerate(spec.models):
        model_layers, lfile, prefix = layers[i]
        for dev in no_throughput:
            missing = [j for j, layer in enumerate(model_layers) if dev not in layer.latency_s]
            if missing:
                more = f" (and {len(missing) - 1} more layers)" if len(missing) > 1 else ""
                problems.append(Problem(lfile, f"{prefix}[{missing[0]}].latency_s", f"no latency for device type '{dev}' (used by node '{used[dev]}'), which has no throughput figure in the catalog; give latency_s['{dev}'] for every layer of model '{model.id}', or effective_macs_per_s / peak_flops for the device type{more}"))
        problems.extend(_unknown_devices(model_layers, lfile, prefix, devices, known))
        if model.graph is not None:
            _check_graph(model.graph, len(model_layers), f"models[{i}].graph", file, problems)
            problems.extend(_unknown_devices(model.graph.nodes, file, f"models[{i}].graph.nodes", devices, known))
        elif graphs and i in graphs:
            problems.extend(_unknown_devices(graphs[i].nodes, lfile, "graph.nodes", devices, known))
    if problems:
        return problems, warnings

    if network is None:
        network = Network([n.id for n in spec.nodes], [
            Link(i, l.u, l.v, l.bandwidth_bytes_per_s, l.latency_s, l.energy_j_per_byte) for i, l in enumerate(spec.links)
        ])
    memory = {}
    for node in spec.nodes:
        if "memory_bytes" in node.model_fields_set:
            memory[node.id] = math.inf if node.memory_bytes is None else node.memory_bytes
        else:
            mem = devices[node.device].memory_bytes
            memory[node.id] = math.inf if mem is None else mem
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, m in enumerate(spec.models):
        by_task[m.task].append(i)
    # Fast path: a component with one node that can hold a whole model of the
    # task serves it; the path search below runs only where none can.
    component = {}
    for k, comp in enumerate(nx.connected_components(network.graph)):
        for node in comp:
            component[node] = k
    biggest: dict[int, float] = defaultdict(float)
    for node, mem in memory.items():
        biggest[component[node]] = max(biggest[component[node]], mem)
    smallest_model = {
        task: min(sum(l.param_bytes for l in layers[m][0]) for m in idx) for task, idx in by_task.items()
    }
    checked: dict[tuple[str, str], bool] = {}
    for i, dem in enumerate(spec.demand):
        key = (dem.origin, dem.task)
        if key not in checked and biggest[component[dem.origin]] >= smallest_model[dem.task]:
            checked[key] = True
        if key not in checked:
            checked[key] = any(
                storable_on_some_path(network, dem.origin, [l.param_bytes for l in layers[m][0]], memory, spec.options.max_segments)
                for m in by_task[dem.task]
            )
        if not checked[key]:
            problems.append(Problem(file, f"demand[{i}].origin", f"node '{dem.origin}' cannot reach any node (or chain of up to {spec.options.max_segments} nodes along a path) with the memory to store a model of task '{dem.task}'"))
    return problems, warnings


_PER_DEVICE = ("latency_s", "latency_source", "latency_spread_s", "energy_j", "energy_source")


def _unknown_devices(items, file: str | None, prefix: str, devices: dict, known: list[str]) -> list[Problem]:
    """Per-device figures (of layers or graph nodes) must name a device type of the
    catalog (or the profiling host, ``host-*``): a misspelt name would silently
    fall back to the catalog's estimate. One problem per field and name."""
    out: list[Problem] = []
    reported: set[tuple[str, str]] = set()
    for j, item in enumerate(items):
        for field in _PER_DEVICE:
            for dev in getattr(item, field, None) or {}:
                if dev in devices or dev.startswith("host-") or (field, dev) in reported:
                    continue
                reported.add((field, dev))
                out.append(Problem(file, f"{prefix}[{j}].{field}", f"unknown device type '{dev}'{_suggest(dev, known)}: per-device figures must name a device type of the catalog or the instance's devices, or the profiling host (host-*)"))
    return out


def _check_graph(graph, n_layers: int, prefix: str, file: str | None, out: list[Problem]) -> None:
    """Graph nodes must map into the chain consistently: a node's inputs lie in its layer or earlier."""
    out.extend(Problem(file, f"{prefix}.{path}", message) for path, message in graph_layer_problems(graph, n_layers))


def storable_on_some_path(
    network: Network, origin: str, param_bytes: list[float], memory: dict[str, float], max_segments: int
) -> bool:
    """Whether the layers can be stored in <= ``max_segments`` contiguous pieces
    on nodes along some path from ``origin``, each piece within its node's memory.

    Memory only: compute, links, latency and the other demand classes are the
    solver's business. Paths are tried nearest first.
    """
    n = len(param_bytes)
    prefix = [0.0]
    for b in param_bytes:
        prefix.append(prefix[-1] + b)

    def reach(start: int, cap: float) -> int:
        """Largest end index e such that layers start..e-1 fit in cap."""
        if cap == math.inf:
            return n
        return max(start, bisect.bisect_right(prefix, prefix[start] + cap * (1 + 1e-12), lo=start) - 1)

    dist = network.reachable(origin)
    for target in sorted(dist, key=lambda t: (dist[t], t)):
        covered = [0] + [-1] * max_segments  # covered[j]: most layers stored with j pieces
        for node in network.path(origin, target):
            cap = memory[node]
            for j in range(max_segments - 1, -1, -1):
                if covered[j] < 0:
                    continue
                end = reach(covered[j], cap)
                if end > covered[j] and end > covered[j + 1]:
                    covered[j + 1] = end
            if max(covered) >= n:
                return True
    return False
