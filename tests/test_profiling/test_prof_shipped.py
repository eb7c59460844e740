"""The shipped profiles in instances/profiles/: valid, exact, labelled, and what the code produces today."""

from __future__ import annotations

from pathlib import Path

import pytest

from placement.catalog import builtin_catalog
from placement.fileio import parse_model, read_document
from placement.schema import ProfileSpec

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "instances" / "profiles"
NAMES = [
    "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small",
    "efficientnet_b0", "squeezenet1_1", "regnet_y_400mf", "vit_b_16",
]


def _load(name: str) -> ProfileSpec:
    data, lines = read_document(PROFILES / f"{name}.json")
    return parse_model(ProfileSpec, data, name, lines)


@pytest.mark.parametrize("name", NAMES)
def test_shipped_profile_is_valid_exact_and_labelled(name):
    p = _load(name)
    assert p.model == name and p.input_shape == [1, 3, 224, 224] and p.dtype == "float32"
    assert abs(p.macs / p.published_macs - 1) < 0.01
    assert sum(lay.params for lay in p.layers) == p.params
    assert 0.5 < p.accuracy < 0.9 and p.task == "imagenet-cls"
    devices = set(builtin_catalog())
    for lay in p.layers:
        assert lay.latency_source["host-cpu"] == "measured"
        assert {d for d, s in lay.latency_source.items() if s == "estimated"} == devices
        assert set(lay.energy_j) == devices | {"host-cpu"}
    assert p.host.measured_latency_s > 0 and p.host.repeats >= 20 and p.host.threads >= 1
    assert (PROFILES / f"{name}.json").stat().st_size < 300_000


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_shipped_layer_sum_within_10_percent(name):
    h = _load(name).host
    assert abs(h.layer_latency_sum_s / h.measured_latency_s - 1) <= 0.10


@pytest.mark.parametrize("name", NAMES)
def test_shipped_profile_matches_the_code(tv_profiles, name):
    """Regenerating (without latency) gives the same chain, bytes and counts."""
    _, fresh, _, _ = tv_profiles.get(name)
    shipped = _load(name)
    assert [lay.name for lay in shipped.layers] == [lay.name for lay in fresh.layers]
    for a, b in zip(shipped.layers, fresh.layers):
        assert (a.macs, a.params, a.out_bytes, a.peak_activation_bytes) == (b.macs, b.params, b.out_bytes, b.peak_activation_bytes)
        assert a.latency_s["cortex-m7"] == b.latency_s["cortex-m7"]


def test_shipped_instance_uses_the_profiles():
    from placement import load_instance

    inst = load_instance(REPO / "instances" / "idn-10.yaml")
    assert inst.models["resnet18"].n_layers == len(_load("resnet18").layers)
    assert inst.models["mobilenet_v2"].profile_path.endswith("mobilenet_v2.json")
