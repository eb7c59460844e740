"""Helpers shared by the tests: small hand-checkable instances."""

from __future__ import annotations

import copy
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
            {"u": "a", "v": "b", "bandwidth_bps": 1.0e4, "latency_s": 0.01, "energy_j_per_byte": 1.0e-6},
            {"u": "b", "v": "c", "bandwidth_bps": 1.0e5, "latency_s": 0.02, "energy_j_per_byte": 2.0e-6},
            {"u": "c", "v": "d", "bandwidth_bps": 1.0e6, "latency_s": 0.005},
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
