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


#: Factory name -> function, as suites name them.
def online_tree(**args) -> InstanceSpec:
    """The online benchmark instances (see :func:`bench.online.online_tree`)."""
    from .online import online_tree as build

    return build(**args)


FACTORIES: dict[str, Callable[..., InstanceSpec]] = {"chain-path": chain_path, "tiny": tiny, "online-tree": online_tree}
