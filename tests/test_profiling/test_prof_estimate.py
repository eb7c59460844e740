"""Device estimates: MCU MAC/cycle model, roofline, memory footprints."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import prof_models as models  # noqa: E402

from placement.catalog import builtin_catalog  # noqa: E402
from profiling import NO_TIMING, profile_model, segment_footprint  # noqa: E402
from profiling.estimate import KERNEL_OVERHEAD_S, MCU_CYCLES_PER_ELEMENT, MEMORY_EFFICIENCY  # noqa: E402


def test_mcu_latency_from_macs_per_cycle():
    p = profile_model(models.Skip(), (1, 4, 6, 6), timing=NO_TIMING, devices=["cortex-m7"])
    m7 = builtin_catalog()["cortex-m7"]
    rate = m7.macs_per_cycle * m7.clock_hz
    # conv1 + relu: the relu is fused into the conv kernel
    assert p.layers[0].latency_s["cortex-m7"] == pytest.approx(5184 / rate, rel=1e-5)
    # conv2, then the residual add and the relu after it run as separate element-wise kernels
    ew = 2 * 144 * MCU_CYCLES_PER_ELEMENT / m7.clock_hz
    assert p.layers[1].latency_s["cortex-m7"] == pytest.approx(5184 / rate + ew, rel=1e-5)
    assert p.layers[1].energy_j["cortex-m7"] == pytest.approx(p.layers[1].latency_s["cortex-m7"] * m7.active_power_w, rel=1e-5)
    assert "CMSIS-NN" in p.assumptions["estimate.cortex-m7"]


class _Dense(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(1024, 1024)

    def forward(self, x):
        return self.fc(x)


class _Sigmoid(torch.nn.Module):
    def forward(self, x):
        return torch.sigmoid(x)


def test_roofline_compute_bound_dense_layer():
    p = profile_model(_Dense(), (64, 1024), timing=NO_TIMING, devices=["x86-server"])
    dev = builtin_catalog()["x86-server"]
    macs = 64 * 1024 * 1024
    assert p.layers[0].latency_s["x86-server"] == pytest.approx(macs / dev.effective_macs_per_s + KERNEL_OVERHEAD_S["server-cpu"], rel=1e-5)


def test_roofline_memory_bound_elementwise():
    p = profile_model(_Sigmoid(), (1, 1_000_000), timing=NO_TIMING, devices=["x86-server", "jetson-orin-nano"])
    cpu, gpu = builtin_catalog()["x86-server"], builtin_catalog()["jetson-orin-nano"]
    # one read and one write of 1e6 elements: 4 B each on the float32 CPU, 2 B on the float16 GPU
    assert p.layers[0].latency_s["x86-server"] == pytest.approx(8e6 / (cpu.memory_bandwidth_bytes_per_s * MEMORY_EFFICIENCY) + 2e-6, rel=1e-5)
    assert p.layers[0].latency_s["jetson-orin-nano"] == pytest.approx(4e6 / (gpu.memory_bandwidth_bytes_per_s * MEMORY_EFFICIENCY) + 1e-5, rel=1e-5)


def test_every_catalog_device_by_default_and_bad_device():
    from placement.errors import InputError

    p = profile_model(models.Skip(), (1, 4, 6, 6), timing=NO_TIMING)
    assert set(p.layers[0].latency_s) == set(builtin_catalog())
    assert set(p.layers[0].param_bytes_by_dtype) == {"int8", "float16"}
    with pytest.raises(InputError, match="unknown device"):
        profile_model(models.Skip(), (1, 4, 6, 6), timing=NO_TIMING, devices=["cortex-m99"])


def test_segment_footprint_for_an_mcu():
    p = profile_model(models.Skip(), (1, 4, 6, 6), timing=NO_TIMING, devices=["cortex-m4"])
    params, peak = segment_footprint(p, 0, 1)
    assert params == 296 * 4 and peak == 3 * 4 * 36 * 4
    params8, peak8 = segment_footprint(p, 0, 1, "int8")
    assert params8 == 2 * (144 + 4 * 4)  # int8 weights, int32 biases
    assert peak8 == 3 * 4 * 36  # one byte per activation
    assert segment_footprint(p, 1, 1, "int8") == (160, 3 * 4 * 36)
    with pytest.raises(KeyError):
        segment_footprint(p, 0, 1, "float16")
