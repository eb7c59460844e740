"""A tiny instance whose edge memory forces choices (for the online tests)."""

from __future__ import annotations


def _model(mid: str, task: str, acc: float, param_bytes: float, macs: float) -> dict:
    return {"id": mid, "task": task, "accuracy": acc, "input_bytes": 4000,
            "layers": [{"name": "all", "macs": macs, "param_bytes": param_bytes, "out_bytes": 100}]}


def online_instance_data(edge_memory: float = 100.0) -> dict:
    """cloud - edge - {d1, d2}; the edge holds 100 bytes of the 50-60-byte models."""
    return {
        "name": "online-tiny",
        "devices": {
            "dev": {"effective_macs_per_s": 1.0e6, "memory_bytes": 10.0, "active_power_w": 1.0},
            "mid": {"effective_macs_per_s": 1.0e8, "memory_bytes": edge_memory, "active_power_w": 5.0},
            "big": {"effective_macs_per_s": 1.0e9, "memory_bytes": None, "active_power_w": 50.0},
        },
        "nodes": [
            {"id": "cloud", "device": "big", "tier": "cloud"},
            {"id": "edge", "device": "mid", "tier": "edge"},
            {"id": "d1", "device": "dev", "tier": "device"},
            {"id": "d2", "device": "dev", "tier": "device"},
        ],
        "links": [
            {"u": "edge", "v": "cloud", "bandwidth_bytes_per_s": 1.0e4, "latency_s": 0.2},
            {"u": "d1", "v": "edge", "bandwidth_bytes_per_s": 1.0e5, "latency_s": 0.01},
            {"u": "d2", "v": "edge", "bandwidth_bytes_per_s": 1.0e5, "latency_s": 0.01},
        ],
        "models": [
            _model("a1", "ta", 0.9, 60, 1.0e6),
            _model("a2", "ta", 0.8, 45, 5.0e5),
            _model("b1", "tb", 0.9, 55, 1.0e6),
            _model("b2", "tb", 0.7, 40, 2.0e5),
            _model("tiny", "tb", 0.5, 8, 1.0e3),
        ],
        "demand": [
            {"origin": "d1", "task": "ta", "rate_rps": 1.0, "max_latency_s": 5.0},
            {"origin": "d2", "task": "ta", "rate_rps": 1.0, "max_latency_s": 5.0},
            {"origin": "d1", "task": "tb", "rate_rps": 1.0, "max_latency_s": 5.0, "min_accuracy": 0.6},
            {"origin": "d2", "task": "tb", "rate_rps": 1.0, "max_latency_s": 5.0},
        ],
    }
