"""An instance spec dumped and validated again means the same instance.

Unset fields of nodes and devices mean something else than explicit nulls (a
node without ``memory_bytes`` has its device's memory, ``memory_bytes: null``
is unbounded; an instance's device entry overrides only the catalog fields it
sets). The benchmark harness sends instances to its workers as JSON, so a dump
that wrote every unset field as null silently changed every run.
"""

from __future__ import annotations

import math

import pytest
from helpers import ROOT, instance_from_data, line_instance_data

from placement.instance import Instance, load_instance
from placement.schema import InstanceSpec


def _again(spec: InstanceSpec, base=None, **dump) -> Instance:
    return Instance.from_spec(InstanceSpec.model_validate_json(spec.model_dump_json(**dump)), base, "again")


@pytest.mark.parametrize("dump", [{}, {"exclude_unset": True}])  # exclude_none drops explicit nulls: lossy by request
def test_shipped_instance_memory_survives_json(dump):
    inst = load_instance(ROOT / "instances" / "idn-100.yaml")
    again = _again(inst.spec, ROOT / "instances", **dump)
    assert [n.memory_bytes for n in again.nodes] == [n.memory_bytes for n in inst.nodes]
    # the MCU-class devices keep their 2 MB flash, not unbounded memory
    assert any(n.device.name == "cortex-m7" and n.memory_bytes == 2 * 1024 * 1024 for n in again.nodes)


def test_explicit_null_memory_stays_unbounded_and_override_stays_partial(tmp_path):
    data = line_instance_data()
    data["nodes"][1]["memory_bytes"] = None  # explicitly unbounded
    data["devices"]["rpi4"] = {"effective_macs_per_s": 1.0e9}  # overrides one catalog field
    data["nodes"][2]["device"] = "rpi4"
    inst = instance_from_data(data, tmp_path)
    again = _again(inst.spec)
    assert math.isinf(again.node["b"].memory_bytes)
    assert again.node["a"].memory_bytes == inst.node["a"].memory_bytes == 1000.0
    dev, dev2 = inst.node["c"].device, again.node["c"].device
    assert dev2.effective_macs_per_s == 1.0e9
    assert dev2.memory_bytes == dev.memory_bytes and dev2.memory_bytes is not None and dev2.active_power_w == dev.active_power_w
