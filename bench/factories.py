"""Instances built by code, named in suites as ``factory: NAME`` with ``args``.

Each factory returns an :class:`~placement.schema.InstanceSpec`; the same
arguments always give the same spec (seeded).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from placement.schema import InstanceSpec


def chain_path(layers: int = 100, nodes: int = 6, segments: int = 2, seed: int = 0) -> InstanceSpec:
    """A line of ``nodes`` nodes from a phone-class device up to a cloud GPU; one class, one chain model.

    Memory binds on the first two nodes so no node but the upper ones can take
    the whole model (the instance of the split-dp speed table).
    """
    rng = random.Random(seed)
    chain = ["rpi4", "rpi5", "jetson-orin-nano", "t4", "x86-server", "a100", "h100"]
    devices = [chain[min(i, len(chain) - 1)] for i in range(nodes)]
    node_list: list[dict] = [{"id": f"n{i}", "device": d} for i, d in enumerate(devices)]
    node_list[0]["memory_bytes"] = 2.0e7
    if nodes > 1:
        node_list[1]["memory_bytes"] = 6.0e7
    links = [
        {"u": f"n{i}", "v": f"n{i + 1}", "bandwidth_bytes_per_s": [2.5e6, 1.25e7, 1.25e8, 1.25e9, 1.25e9, 1.25e10][min(i, 5)],
         "latency_s": [0.004, 0.002, 0.001, 0.002, 0.01, 0.01][min(i, 5)], "energy_j_per_byte": 1e-8}
        for i in range(nodes - 1)
    ]
    model_layers = []
    for i in range(layers):
        macs = rng.choice([2e5, 1e6, 4e6, 1.6e7])
        model_layers.append({
            "name": f"l{i}",
            "macs": macs,
            "param_bytes": rng.choice([1e3, 1e4, 1e5, 4e5]),
            "out_bytes": float(rng.choice([4e3, 2e4, 1e5, 4e5])) if i < layers - 1 else 4000.0,
        })
    return InstanceSpec.model_validate({
        "name": f"path-{nodes}x{layers}",
        "nodes": node_list,
        "links": links,
        "models": [{"id": "m", "task": "t", "accuracy": 0.8, "input_bytes": 150528, "layers": model_layers}],
        "demand": [{"origin": "n0", "task": "t", "rate_rps": 1.0, "max_latency_s": 60.0}],
        "objective": {"weights": {"latency": 1.0, "inaccuracy": 1.0, "energy": 0.0}},
        "options": {"routing": "unsplittable", "max_segments": segments, "max_utilization": 0.9},
    })


def tiny(rate_rps: float = 1.0) -> InstanceSpec:
    """Two nodes, one two-layer model, one class: a run that costs a few milliseconds."""
    return InstanceSpec.model_validate({
        "name": "tiny",
        "nodes": [{"id": "dev", "device": "rpi4", "tier": "device"}, {"id": "edge", "device": "t4", "tier": "edge"}],
        "links": [{"u": "dev", "v": "edge", "bandwidth_bytes_per_s": 1.25e6, "latency_s": 0.005}],
        "models": [{"id": "m", "task": "t", "accuracy": 0.7, "input_bytes": 1.0e4,
                    "layers": [{"name": "a", "macs": 1e6, "param_bytes": 1e4, "out_bytes": 2e3},
                               {"name": "b", "macs": 1e6, "param_bytes": 1e4, "out_bytes": 1e2}]}],
        "demand": [{"origin": "dev", "task": "t", "rate_rps": rate_rps, "max_latency_s": 1.0}],
    })


def profile_pair(profile: str = "resnet18", device: str = "rpi4", server: str = "x86-server", mbit_per_s: float = 10.0) -> InstanceSpec:
    """A device and one server over one link of ``mbit_per_s`` (latency 0), a shipped profile as the only model.

    Latency is the only objective and nothing binds (the split benchmark's
    instances: every split method and the exhaustive oracles answer the same question).
    """
    from pathlib import Path

    from .instances import inline_profiles

    profiles = Path(__file__).resolve().parents[1] / "instances" / "profiles"
    path = profiles / f"{profile}.json"
    if not path.is_file():
        raise TypeError(f"no shipped profile '{profile}' (looked for {path})")
    import json

    prof = json.loads(path.read_text(encoding="utf-8"))
    spec = InstanceSpec.model_validate({
        "name": f"{profile}-{device}-{server}-{mbit_per_s:g}",
        "nodes": [{"id": "dev", "device": device, "memory_bytes": None}, {"id": "srv", "device": server, "tier": "edge", "memory_bytes": None}],
        "links": [{"u": "dev", "v": "srv", "bandwidth_bytes_per_s": mbit_per_s * 1.25e5, "latency_s": 0.0}],
        "models": [{"id": profile, "task": "cls", "accuracy": prof["accuracy"], "input_bytes": prof["input_bytes"], "profile": str(path)}],
        "demand": [{"origin": "dev", "task": "cls", "rate_rps": 1e-3, "max_latency_s": 1e4}],
        "objective": {"weights": {"latency": 1.0, "inaccuracy": 0.0, "energy": 0.0}},
        "options": {"max_segments": 2, "max_utilization": 1.0},
    })
    return inline_profiles(spec, profiles)


#: Factory name -> function, as suites name them.
def online_tree(**args) -> InstanceSpec:
    """The online benchmark instances (see :func:`bench.online.online_tree`)."""
    from .online import online_tree as build

    return build(**args)


FACTORIES: dict[str, Callable[..., InstanceSpec]] = {"chain-path": chain_path, "tiny": tiny, "online-tree": online_tree, "profile-pair": profile_pair}
