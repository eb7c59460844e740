"""Host latency (per-layer sum vs whole model) and energy measurement/estimation."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import prof_models as models  # noqa: E402

import profiling.api as api  # noqa: E402
from profiling import NO_TIMING, Timing, capture_model, measure_host, profile_captured, profile_model  # noqa: E402
from profiling.energy import EnergyMeter, estimated_host_power_w, open_meter  # noqa: E402


def test_host_timing_structure(tv_profiles):
    """What is deterministic about host timing. The layer-sum / whole-model ratio
    is a measurement of a shared machine: benchmarks/profile_speed.py reports it."""
    loaded, _, chain, x = tv_profiles.get("mobilenet_v3_small")
    t = measure_host(loaded.model, chain, (x,), warmup=2, repeats=7, max_repeats=15, threads=1)
    assert len(t.layer_median_s) == len(chain.layers)
    assert all(v >= 0 for v in t.layer_median_s)
    assert t.model_min_s <= t.model_median_s <= t.model_max_s
    assert 7 <= t.repeats <= 15 and t.warmup == 2
    assert t.sum_ratio > 0 and t.call_overhead_s >= 0


def test_threads_are_recorded_and_restored():
    before = torch.get_num_threads()
    t = measure_host(models.Skip().eval(), _chain(models.Skip().eval()), (torch.randn(1, 4, 6, 6),), warmup=1, repeats=3, threads=1)
    assert t.threads == 1 and t.device == "host-cpu"
    assert torch.get_num_threads() == before


def _chain(model):
    captured = capture_model(model, (1, 4, 6, 6))
    _ = profile_captured(captured, devices=[], timing=NO_TIMING)
    chain = captured.chain
    return chain


def test_profile_labels_measured_host_and_estimated_devices():
    p = profile_model(models.Skip(), (1, 4, 6, 6), devices=["cortex-m7"], timing=Timing(warmup=1, repeats=5))
    for lay in p.layers:
        assert lay.latency_source == {"host-cpu": "measured", "cortex-m7": "estimated"}
        assert set(lay.latency_spread_s) == {"host-cpu"}
        assert lay.energy_source["cortex-m7"] == "estimated"
    h = p.host
    assert h.repeats >= 5 and h.warmup == 1 and h.threads >= 1
    assert h.layer_latency_sum_s == pytest.approx(sum(lay.latency_s["host-cpu"] for lay in p.layers), rel=1e-4)
    assert "latency.host-cpu" in p.assumptions and "energy.host-cpu" in p.assumptions


def _fake_powercap(tmp_path, value=1_000_000, wrap=10_000_000):
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir()
    (zone / "energy_uj").write_text(str(value))
    (zone / "max_energy_range_uj").write_text(str(wrap))
    (zone / "name").write_text("package-0")
    sub = tmp_path / "intel-rapl:0:0"  # a sub-zone: inside the package, must not be added again
    sub.mkdir()
    (sub / "energy_uj").write_text("5")
    return zone / "energy_uj"


def test_rapl_meter_reads_package_zones_and_wraps(tmp_path):
    counter = _fake_powercap(tmp_path)
    meter = open_meter(powercap_root=str(tmp_path))
    assert meter is not None and "package-0" in meter.source
    meter.start()
    counter.write_text(str(1_000_000 + 250_000))  # 0.25 J
    meter.stop(0.05)
    counter.write_text(str(9_900_000))
    meter.start()
    counter.write_text(str(150_000))  # wrapped: 0.1 J + 0.15 J
    meter.stop(0.05)
    assert meter.joules == pytest.approx(0.5)
    assert meter.joules_per_run == pytest.approx(0.25)
    assert meter.power_w == pytest.approx(5.0)


def test_no_powercap_means_no_meter(tmp_path):
    assert open_meter(powercap_root=str(tmp_path)) is None


def test_measured_energy_is_power_times_layer_latency(monkeypatch):
    state = {"j": 0.0}

    def read():
        state["j"] += 0.01  # 10 mJ per read: the meter sees 10 mJ per run
        return state["j"]

    monkeypatch.setattr(api, "open_meter", lambda *a, **k: EnergyMeter(source="fake counter", _read=read))
    p = profile_model(models.Skip(), (1, 4, 6, 6), devices=[], timing=Timing(warmup=1, repeats=5))
    assert p.host.energy_source.startswith("measured: fake counter")
    assert p.host.energy_j == pytest.approx(0.01)
    for lay in p.layers:
        assert lay.energy_source["host-cpu"] == "measured"
        assert lay.energy_j["host-cpu"] == pytest.approx(lay.latency_s["host-cpu"] * p.host.power_w, rel=1e-4)


def test_estimated_energy_without_a_counter(monkeypatch):
    monkeypatch.setattr(api, "open_meter", lambda *a, **k: None)
    p = profile_model(models.Skip(), (1, 4, 6, 6), devices=[], timing=Timing(warmup=1, repeats=3, threads=1))
    watts, why = estimated_host_power_w(1)
    assert watts == pytest.approx(6.75)
    assert p.host.energy_source == why and p.host.power_w == pytest.approx(6.75)
    assert all(lay.energy_source["host-cpu"] == "estimated" for lay in p.layers)
    p2 = profile_model(models.Skip(), (1, 4, 6, 6), devices=[], timing=Timing(warmup=1, repeats=3, power_w=3.0))
    assert p2.host.power_w == 3.0 and "given" in p2.host.energy_source


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_latency_with_events():
    p = profile_model(models.Skip(), (1, 4, 6, 6), devices=[], timing=Timing(device="cuda", warmup=2, repeats=5))
    assert p.host.device == "host-cuda" and p.host.gpu
    assert all(lay.latency_source["host-cuda"] == "measured" for lay in p.layers)


def test_cuda_without_a_gpu_is_an_input_error():
    from placement.errors import InputError

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(InputError, match="cuda"):
        profile_model(models.Skip(), (1, 4, 6, 6), devices=[], timing=Timing(device="cuda"))


def test_reliability_warnings_flag_spread_and_load():
    from profiling.latency import reliability_warnings

    assert reliability_warnings(0.010, 0.001, load_1min=0.5, cpus=2) == []
    spread = reliability_warnings(0.0359, 0.02, load_1min=0.5, cpus=2)
    assert len(spread) == 1 and "56 %" in spread[0] and "unreliable" in spread[0]
    load = reliability_warnings(0.010, 0.001, load_1min=6.0, cpus=2)
    assert len(load) == 1 and "load average 6.00 exceeds its 2 CPUs" in load[0]
    assert len(reliability_warnings(0.01, 0.009, 9.0, 2)) == 2
    assert reliability_warnings(0.01, 0.009, None, None)  # no load figure: the spread alone decides


def test_contended_host_is_recorded_and_printed(monkeypatch, tmp_path, capsys):
    """A loaded machine: the profile's host notes and the CLI say the measured figures are unreliable."""
    import argparse

    from placement.schema import ProfileSpec
    from profiling.cli import profile_from_args

    monkeypatch.setattr(api.os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    p = profile_model(models.Skip(), (1, 4, 6, 6), devices=[], timing=Timing(warmup=1, repeats=3, threads=1))
    assert p.host.notes and "load average 64.00" in p.host.notes
    ProfileSpec.model_validate(p.model_dump())  # the note is part of the format
    monkeypatch.setattr(api.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    quiet = profile_model(models.Skip(), (1, 4, 6, 6), devices=[], timing=Timing(warmup=1, repeats=3, threads=1))
    assert quiet.host.notes is None or "load average" not in quiet.host.notes
    monkeypatch.setattr(api.os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "skipnet.py").write_text("import prof_models\n\ndef build():\n    return prof_models.Skip()\n")
    args = argparse.Namespace(model="skipnet:build", input_shape="1,4,6,6", devices="cortex-m7", no_latency=False, dtype="float32",
                              repeats=3, threads=1, device="cpu", name=None, quiet=True, out=None)
    assert profile_from_args(args) == 0
    assert "warning: measured latencies are unreliable" in capsys.readouterr().err
