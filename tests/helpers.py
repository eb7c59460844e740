"""Helpers shared by the tests: small hand-checkable instances."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


def line_instance_data() -> dict:
    """A path a-b-c-d with round numbers, used for hand-computed figures.

    Devices: 'slow' (1e6 MAC/s, 1 W) at a and b, 'fast' (1e8 MAC/s, 10 W) at c and d.
    Model m: 3 layers, MACs 1e5, 2e5, 3e5; out_bytes 1000, 500, 100; input 2000 B.
    """
    return {
        "name": "line",
        "devices": {
            "slow": {"effective_macs_per_s": 1.0e6, "memory_bytes": 1000.0, "active_power_w": 1.0, "ram_bytes": 1.0e6},
            "fast": {"effective_macs_per_s": 1.0e8, "memory_bytes": None, "active_power_w": 10.0},
        },
        "nodes": [
            {"id": "a", "device": "slow", "tier": "device"},
            {"id": "b", "device": "slow", "tier": "access"},
            {"id": "c", "device": "fast", "tier": "edge"},
            {"id": "d", "device": "fast", "tier": "cloud"},
        ],
        "links": [
            {"u": "a", "v": "b", "bandwidth_bytes_per_s": 1.0e4, "latency_s": 0.01, "energy_j_per_byte": 1.0e-6},
            {"u": "b", "v": "c", "bandwidth_bytes_per_s": 1.0e5, "latency_s": 0.02, "energy_j_per_byte": 2.0e-6},
            {"u": "c", "v": "d", "bandwidth_bytes_per_s": 1.0e6, "latency_s": 0.005},
        ],
        "models": [
            {
                "id": "m",
                "task": "t",
                "accuracy": 0.8,
                "input_bytes": 2000,
                "layers": [
                    {"name": "l0", "macs": 1.0e5, "param_bytes": 10, "out_bytes": 1000},
                    {"name": "l1", "macs": 2.0e5, "param_bytes": 20, "out_bytes": 500},
                    {"name": "l2", "macs": 3.0e5, "param_bytes": 30, "out_bytes": 100},
                ],
            },
            {
                "id": "small",
                "task": "t",
                "accuracy": 0.5,
                "input_bytes": 2000,
                "layers": [{"name": "only", "macs": 1.0e4, "param_bytes": 5, "out_bytes": 100}],
            },
        ],
        "demand": [
            {"origin": "a", "task": "t", "rate_rps": 2.0, "max_latency_s": 1.0, "min_accuracy": 0.6},
            {"origin": "a", "task": "t", "rate_rps": 1.0, "max_latency_s": 1.0},
        ],
        "objective": {"weights": {"latency": 1.0, "inaccuracy": 1.0, "energy": 0.5}},
        "options": {"routing": "splittable", "max_segments": 3, "max_utilization": 0.8},
    }


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def random_instance_data(seed: int, *, nodes: int = 5, models: int = 2, layers: int = 3, classes: int = 2,
                         max_segments: int = 2, routing: str = "splittable", tight: bool = False) -> dict:
    """A small random instance (connected graph, custom devices) for oracle tests.

    With ``tight`` the memory, utilization and bandwidth limits are drawn so
    that some of them bind.
    """
    import random

    rng = random.Random(seed)
    ids = [f"n{i}" for i in range(nodes)]
    devices = {
        "mcu": {"effective_macs_per_s": 2.0e6, "memory_bytes": 400.0, "active_power_w": 0.1, "ram_bytes": 5.0e3},
        "cpu": {"effective_macs_per_s": 2.0e7, "memory_bytes": 2000.0, "active_power_w": 2.0},
        "gpu": {"effective_macs_per_s": 2.0e8, "memory_bytes": None, "active_power_w": 30.0},
    }
    node_list = [{"id": ids[0], "device": "gpu", "tier": "cloud"}]
    for i in range(1, nodes):
        node = {"id": ids[i], "device": rng.choice(["mcu", "cpu", "cpu", "gpu"]), "tier": rng.choice(["device", "access", "edge"])}
        if tight:
            node["memory_bytes"] = rng.choice([150.0, 300.0, 600.0, 5000.0])
        node_list.append(node)
    links, pairs = [], set()
    for i in range(1, nodes):  # a random tree keeps it connected
        j = rng.randrange(i)
        pairs.add((j, i))
    for _ in range(nodes // 2):  # plus a few extra links
        a, b = rng.sample(range(nodes), 2)
        pairs.add((min(a, b), max(a, b)))
    for a, b in sorted(pairs):
        links.append({
            "u": ids[a], "v": ids[b],
            "bandwidth_bytes_per_s": rng.choice([2.0e3, 1.0e4, 1.0e5]) if tight else rng.choice([1.0e4, 1.0e5, 1.0e6]),
            "latency_s": rng.choice([0.001, 0.002, 0.005, 0.01]),
            "energy_j_per_byte": rng.choice([0.0, 1.0e-6]),
        })
    model_list = []
    for m in range(models):
        n_layers = rng.randint(1, layers)
        model_list.append({
            "id": f"m{m}", "task": "t", "accuracy": round(rng.uniform(0.5, 0.95), 3),
            "input_bytes": float(rng.choice([500, 1000, 3000])),
            "layers": [{
                "name": f"l{i}",
                "macs": float(rng.choice([1e4, 5e4, 2e5])),
                "param_bytes": float(rng.choice([20, 80, 200])),
                "out_bytes": float(rng.choice([50, 200, 800, 2000])),
                **({"peak_activation_bytes": float(rng.choice([1e3, 8e3]))} if tight else {}),
            } for i in range(n_layers)],
        })
    demand = [{
        "origin": rng.choice(ids[1:] or ids), "task": "t",
        "rate_rps": float(rng.choice([0.5, 1.0, 2.0, 5.0] if tight else [0.5, 1.0, 2.0])),
        "max_latency_s": rng.choice([0.2, 0.5, 1.0, 5.0]),
        "min_accuracy": rng.choice([0.0, 0.0, 0.6]),
    } for _ in range(classes)]
    return {
        "name": f"rand{seed}",
        "devices": devices,
        "nodes": node_list,
        "links": links,
        "models": model_list,
        "demand": demand,
        "objective": {"weights": {"latency": 1.0, "inaccuracy": rng.choice([0.0, 1.0]), "energy": rng.choice([0.0, 0.1])}},
        "options": {"routing": routing, "max_segments": max_segments, "max_utilization": rng.choice([0.5, 0.8, 1.0])},
    }


def instance_from_data(data: dict, tmp_path):
    """Write ``data`` under ``tmp_path`` and load it."""
    from placement import load_instance

    return load_instance(write_yaml(tmp_path / f"{data['name']}.yaml", data))


def contested_instance_data(seed: int, *, routing: str = "splittable", max_segments: int = 2) -> dict:
    """A tiny instance where capacities bind: devices share a near edge node
    (limited compute, memory and uplinks) and a far cloud.

    Rates are scaled so that serving every class at the edge would need
    0.8-1.8x its compute limit, and the edge's memory holds only part of the
    models, so good plans must split load, split models and choose storage.
    """
    import random

    rng = random.Random(10_000 + seed)
    n_dev = rng.choice([1, 2])
    models = []
    for m in range(rng.choice([1, 2])):
        layers = [{
            "name": f"l{i}",
            "macs": float(rng.choice([2e4, 5e4, 1e5])),
            "param_bytes": float(rng.choice([40, 100, 200])),
            "out_bytes": float(rng.choice([100, 400, 1500])),
        } for i in range(rng.choice([2, 3]))]
        models.append({"id": f"m{m}", "task": "t", "accuracy": round(0.6 + 0.15 * m + rng.uniform(0, 0.1), 3), "input_bytes": float(rng.choice([1000, 2000])), "layers": layers})
    edge_time = min(sum(l["macs"] for l in m["layers"]) for m in models) / 2.0e7
    n_cls = rng.choice([2, 3])
    total_rate = rng.uniform(0.8, 1.8) * 0.8 / edge_time
    shares = [rng.uniform(0.5, 1.5) for _ in range(n_cls)]
    nodes = [
        {"id": "cloud", "device": "gpu", "tier": "cloud"},
        {"id": "edge", "device": "cpu", "tier": "edge", "memory_bytes": float(sum(l["param_bytes"] for l in models[0]["layers"])) * rng.choice([0.6, 1.0, 1.5])},
    ] + [{"id": f"dev{i}", "device": "mcu", "tier": "device", "memory_bytes": float(rng.choice([150, 300]))} for i in range(n_dev)]
    links = [{"u": "edge", "v": "cloud", "bandwidth_bytes_per_s": 1.0e6, "latency_s": 0.02, "energy_j_per_byte": 1e-7}]
    for i in range(n_dev):
        links.append({"u": f"dev{i}", "v": "edge", "bandwidth_bytes_per_s": float(rng.choice([1.0, 2.0, 4.0]) * total_rate * 1500), "latency_s": 0.002, "energy_j_per_byte": 1e-6})
    demand = [{
        "origin": f"dev{rng.randrange(n_dev)}", "task": "t",
        "rate_rps": round(total_rate * s / sum(shares), 4),
        "max_latency_s": rng.choice([0.2, 0.5, 2.0]),
        "min_accuracy": rng.choice([0.0, 0.0, max(m["accuracy"] for m in models) - 0.01]),
    } for s in shares]
    return {
        "name": f"contested{seed}",
        "devices": {
            "mcu": {"effective_macs_per_s": 2.0e6, "memory_bytes": 400.0, "active_power_w": 0.1},
            "cpu": {"effective_macs_per_s": 2.0e7, "memory_bytes": 2000.0, "active_power_w": 2.0},
            "gpu": {"effective_macs_per_s": 2.0e8, "memory_bytes": None, "active_power_w": 30.0},
        },
        "nodes": nodes,
        "links": links,
        "models": models,
        "demand": demand,
        "objective": {"weights": {"latency": 1.0, "inaccuracy": rng.choice([0.2, 1.0]), "energy": rng.choice([0.0, 0.05])}},
        "options": {"routing": routing, "max_segments": max_segments, "max_utilization": rng.choice([0.6, 0.8, 1.0])},
    }
