"""Cross-reference checks of an instance: everything a schema alone cannot see.

Each check appends one :class:`~placement.errors.Problem` naming the file and
the field path; :func:`check_instance` returns them all at once, together with
warnings (questionable but legal input).
"""

from __future__ import annotations

import difflib
import math
from collections import defaultdict

from .errors import Problem
from .network import Link, Network
from .schema import DeviceSpec, InstanceSpec, LayerSpec


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _duplicates(ids: list[str], section: str, file: str | None, out: list[Problem]) -> None:
    first: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in first:
            out.append(Problem(file, f"{section}[{i}].id", f"duplicate id '{ident}' (first at {section}[{first[ident]}])"))
        else:
            first[ident] = i


def check_instance(
    spec: InstanceSpec,
    layers: dict[int, tuple[list[LayerSpec], str | None, str]],
    devices: dict[str, DeviceSpec],
    builtin: set[str],
    file: str | None,
) -> tuple[list[Problem], list[str]]:
    """Check cross references and reachability.

    Parameters
    ----------
    spec : InstanceSpec
        The parsed instance.
    layers : dict
        Model index -> (layers, file they come from, path prefix for messages).
    devices : dict
        Every device type available (built-in catalog merged with the instance's).
    builtin : set of str
        Names of built-in device types.
    file : str or None
        The instance file, for messages.

    Returns
    -------
    problems, warnings
    """
    problems: list[Problem] = []
    warnings: list[str] = []

    # -- device types defined by the instance ---------------------------------
    for name, dev in spec.devices.items():
        if name in builtin:
            continue
        for field in ("memory_bytes", "active_power_w"):
            if field not in dev.model_fields_set:
                problems.append(Problem(file, f"devices.{name}.{field}", "required for a device type that is not in the built-in catalog (memory_bytes may be null = unbounded)"))

    # -- nodes -----------------------------------------------------------------
    node_ids = [n.id for n in spec.nodes]
    _duplicates(node_ids, "nodes", file, problems)
    known_devices = sorted(devices)
    for i, node in enumerate(spec.nodes):
        if node.device not in devices:
            problems.append(Problem(file, f"nodes[{i}].device", f"unknown device type '{node.device}'{_suggest(node.device, known_devices)}; known: {', '.join(known_devices)}"))
    node_set = set(node_ids)

    # -- links -----------------------------------------------------------------
    seen_pairs: dict[frozenset, int] = {}
    for i, link in enumerate(spec.links):
        bad = False
        for end in ("u", "v"):
            ident = getattr(link, end)
            if ident not in node_set:
                problems.append(Problem(file, f"links[{i}].{end}", f"unknown node '{ident}'{_suggest(ident, node_ids)}"))
                bad = True
        if link.u == link.v:
            problems.append(Problem(file, f"links[{i}].v", f"self-loop: the link joins '{link.u}' to itself"))
            bad = True
        if not bad:
            pair = frozenset((link.u, link.v))
            if pair in seen_pairs:
                problems.append(Problem(file, f"links[{i}]", f"duplicate link between '{link.u}' and '{link.v}' (first at links[{seen_pairs[pair]}])"))
            else:
                seen_pairs[pair] = i

    # -- models and tasks --------------------------------------------------------
    _duplicates([m.id for m in spec.models], "models", file, problems)
    tasks: dict[str, list[int]] = defaultdict(list)
    for i, model in enumerate(spec.models):
        tasks[model.task].append(i)

    used_devices: dict[str, str] = {}
    for node in spec.nodes:
        if node.device in devices:
            used_devices.setdefault(node.device, node.id)
    no_throughput = [
        d for d in used_devices
        if devices[d].effective_macs_per_s is None and devices[d].peak_flops is None
    ]
    for i, model in enumerate(spec.models):
        model_layers, lfile, prefix = layers.get(i, ([], file, f"models[{i}].layers"))
        for dev in no_throughput:
            missing = [j for j, layer in enumerate(model_layers) if dev not in layer.latency_s]
            if missing:
                more = f" (and {len(missing) - 1} more layers)" if len(missing) > 1 else ""
                problems.append(Problem(lfile, f"{prefix}[{missing[0]}].latency_s", f"no latency for device type '{dev}' (used by node '{used_devices[dev]}'), which has no throughput figure in the catalog; give latency_s['{dev}'] for every layer of model '{model.id}', or effective_macs_per_s / peak_flops for the device type{more}"))
        for dev in sorted({k for layer in model_layers for k in layer.latency_s}):
            if dev not in devices and not dev.startswith("host"):
                warnings.append(f"{lfile}: {prefix}: latency_s names device type '{dev}', which no catalog entry defines; it is ignored{_suggest(dev, known_devices)}")

    # -- demand --------------------------------------------------------------------
    for i, dem in enumerate(spec.demand):
        if dem.origin not in node_set:
            problems.append(Problem(file, f"demand[{i}].origin", f"unknown node '{dem.origin}'{_suggest(dem.origin, node_ids)}"))
        if dem.task not in tasks:
            problems.append(Problem(file, f"demand[{i}].task", f"no model serves task '{dem.task}'{_suggest(dem.task, sorted(tasks))}; tasks with models: {', '.join(sorted(tasks))}"))

    if problems:
        return problems, warnings

    # -- reachability: each origin must reach a node set able to hold a model ----
    network = Network(node_ids, [
        Link(i, link.u, link.v, link.bandwidth_bps, link.latency_s, link.energy_j_per_byte)
        for i, link in enumerate(spec.links)
    ])
    memory = {}
    for node in spec.nodes:
        if "memory_bytes" in node.model_fields_set:
            memory[node.id] = math.inf if node.memory_bytes is None else node.memory_bytes
        else:
            mem = devices[node.device].memory_bytes
            memory[node.id] = math.inf if mem is None else mem
    checked: dict[tuple[str, str], bool] = {}
    for i, dem in enumerate(spec.demand):
        key = (dem.origin, dem.task)
        if key not in checked:
            checked[key] = any(
                storable_on_some_path(network, dem.origin, [l.param_bytes for l in layers[m][0]], memory, spec.options.max_segments)
                for m in tasks[dem.task]
            )
        if not checked[key]:
            problems.append(Problem(file, f"demand[{i}].origin", f"node '{dem.origin}' cannot reach any node (or chain of up to {spec.options.max_segments} nodes along a path) with the memory to store a model of task '{dem.task}'"))
    return problems, warnings


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
        lo, hi = start, n
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if prefix[mid] - prefix[start] <= cap * (1 + 1e-12):
                lo = mid
            else:
                hi = mid - 1
        return lo

    for target in sorted(network.reachable(origin), key=lambda t: (network.reachable(origin)[t], t)):
        path = network.path(origin, target)
        covered = [0] + [-1] * max_segments  # covered[j]: most layers done with j pieces
        for node in path:
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
