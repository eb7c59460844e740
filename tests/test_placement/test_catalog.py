"""The built-in device catalog: complete, sourced, consistent; instance overrides."""

from __future__ import annotations

import math

import pytest
from helpers import instance_from_data, line_instance_data

from placement.catalog import REQUIRED_CATALOG_FIELDS, builtin_catalog, catalog_devices

REQUIRED_TYPES = ["cortex-m4", "cortex-m7", "esp32-s3", "rpi4", "rpi5", "jetson-nano", "jetson-orin-nano", "x86-server", "t4", "a100", "h100"]
NUMERIC = ["clock_hz", "macs_per_cycle", "peak_flops", "effective_macs_per_s", "memory_bytes", "ram_bytes", "storage_bytes", "memory_bandwidth_bytes_per_s", "active_power_w", "idle_power_w", "cores"]


@pytest.mark.parametrize("name", REQUIRED_TYPES)
def test_every_required_type_is_complete_and_sourced(name):
    dev = builtin_catalog()[name]
    for field in REQUIRED_CATALOG_FIELDS:
        assert getattr(dev, field) is not None, f"{name}.{field} missing"
    for field in NUMERIC:
        if getattr(dev, field) is not None:
            assert dev.sources.get(field), f"{name}.{field} has no source"
    # sustained throughput never beats the peak (2 operations per MAC)
    assert dev.effective_macs_per_s <= dev.peak_flops / 2
    assert dev.idle_power_w <= dev.active_power_w


@pytest.mark.parametrize("name", ["cortex-m4", "cortex-m7", "esp32-s3"])
def test_mcu_figures_follow_from_mac_per_cycle(name):
    dev = builtin_catalog()[name]
    assert dev.effective_macs_per_s == pytest.approx(dev.macs_per_cycle * dev.clock_hz)
    assert dev.ram_bytes < dev.memory_bytes  # SRAM for activations, flash for weights


def test_published_mcu_memory():
    cat = builtin_catalog()
    assert cat["cortex-m7"].ram_bytes == 512 * 1024 and cat["cortex-m7"].memory_bytes == 2 * 1024 * 1024
    assert cat["cortex-m4"].ram_bytes == 256 * 1024 and cat["cortex-m4"].memory_bytes == 1024 * 1024


def test_instance_overrides_single_fields_and_adds_types(tmp_path):
    data = line_instance_data()
    data["devices"]["rpi4"] = {"effective_macs_per_s": 1.0e10}
    data["devices"]["board"] = {"peak_flops": 4.0e9, "memory_bytes": 5.12e5, "active_power_w": 0.3}
    data["nodes"][1]["device"] = "rpi4"
    data["nodes"][2]["device"] = "board"
    inst = instance_from_data(data, tmp_path)
    rpi = inst.devices["rpi4"]
    assert rpi.effective_macs_per_s == 1.0e10
    assert rpi.active_power_w == builtin_catalog()["rpi4"].active_power_w  # untouched fields kept
    board = inst.devices["board"]
    assert board.effective_macs_per_s == 2.0e9  # peak_flops / 2 when no effective figure
    assert board.idle_power_w == 0.0 and math.isinf(board.ram_bytes)
    # the simple estimate: MACs / effective MAC/s, labelled estimated
    model = inst.models["m"]
    assert model.latency(board)[1] == pytest.approx(2e5 / 2e9)
    assert model.latency_sources(board) == ["estimated"] * 3


def test_given_latency_wins_over_estimate(tmp_path):
    data = line_instance_data()
    data["models"][0]["layers"][0]["latency_s"] = {"slow": 0.5}
    data["models"][0]["layers"][0]["latency_source"] = {"slow": "measured"}
    inst = instance_from_data(data, tmp_path)
    dev = inst.devices["slow"]
    assert list(inst.models["m"].latency(dev)) == pytest.approx([0.5, 0.2, 0.3])
    assert inst.models["m"].latency_sources(dev) == ["measured", "estimated", "estimated"]


def test_node_memory_override_and_unbounded(tmp_path):
    data = line_instance_data()
    data["nodes"][0]["memory_bytes"] = 123.0
    data["nodes"][1]["memory_bytes"] = None
    inst = instance_from_data(data, tmp_path)
    assert inst.node["a"].memory_bytes == 123.0
    assert math.isinf(inst.node["b"].memory_bytes)
    assert inst.node["c"].memory_bytes == math.inf  # device 'fast' has memory_bytes null


def test_catalog_devices_resolves_all():
    devs = catalog_devices()
    assert set(REQUIRED_TYPES) <= set(devs)
    assert all(d.builtin for d in devs.values())
