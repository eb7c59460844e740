"""The eight torchvision reference models: published MACs, exact parameters, block boundaries as cuts."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from placement.schema import ProfileSpec  # noqa: E402
from profiling.loader import REFERENCE_MODELS  # noqa: E402


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_macs_within_1_percent_and_exact_params(tv_profiles, name):
    loaded, profile, chain, _ = tv_profiles.get(name)
    assert loaded.published_macs is not None
    assert abs(profile.macs / loaded.published_macs - 1) < 0.01
    assert profile.params == loaded.published_params
    assert sum(lay.params for lay in profile.layers) == loaded.published_params
    assert profile.param_bytes == 4 * loaded.published_params
    assert sum(lay.macs for lay in profile.layers) == profile.macs
    assert profile.accuracy == pytest.approx(loaded.accuracy) and 0.5 < profile.accuracy < 0.9
    ProfileSpec.model_validate(profile.model_dump())
    assert "uncounted_ops" not in profile.assumptions


def test_vit_counts_all_attention(tv_profiles):
    """fvcore (16.87 G) and FlopCounterMode (11.27 G) miss attention; the published figure is 17.564 G."""
    _, profile, _, _ = tv_profiles.get("vit_b_16")
    per_block = 197 * 768 * 3 * 768 + 2 * 197 * 197 * 768 + 197 * 768 * 768 + 2 * 197 * 768 * 3072
    expected = 12 * per_block + 196 * 768 * 3 * 16 * 16 + 768 * 1000
    assert profile.macs == expected
    assert abs(profile.macs - 17.564e9) / 17.564e9 < 1e-4


BLOCKS = {
    "resnet18": "BasicBlock",
    "resnet50": "Bottleneck",
    "mobilenet_v2": "InvertedResidual",
    "mobilenet_v3_small": "InvertedResidual",
    "efficientnet_b0": "MBConv",
    "regnet_y_400mf": "ResBottleneckBlock",
    "vit_b_16": "EncoderBlock",
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_every_block_boundary_is_a_cut(tv_profiles, name):
    _, profile, chain, _ = tv_profiles.get(name)
    cap = chain.capture
    ends = {lay.end for lay in chain.layers}
    spans: dict[str, list[int]] = {}
    for p, node in enumerate(cap.nodes):
        for key, (_path, typ) in (node.meta.get("nn_module_stack") or {}).items():
            if getattr(typ, "__name__", str(typ)).endswith(BLOCKS[name]):
                spans.setdefault(key, []).append(p)
    assert len(spans) >= 8
    for key, positions in spans.items():
        first, last = min(positions), max(positions)
        assert last in ends, f"no cut after block {key}"
        assert first == 0 or first - 1 in ends, f"no cut before block {key}"
        # at a block boundary only the block's output crosses the cut
        layer = next(i for i, lay in enumerate(chain.layers) if lay.end == last)
        assert len(chain.cut_values(layer)) == 1


def test_resnet18_chain_reads_well(tv_profiles):
    _, profile, _, _ = tv_profiles.get("resnet18")
    names = [lay.name for lay in profile.layers]
    assert names[0] == "conv1.bn1.relu.maxpool"
    assert names[1] == "layer1.0.conv1.bn1.relu" and names[2] == "layer1.0.conv2.bn2.add.relu"
    assert names[-2:] == ["avgpool", "fc"] and len(names) == 22
    # after the stem: 64x56x56 float32; inside a block the skip input crosses the cut too
    assert profile.layers[0].out_bytes == 64 * 56 * 56 * 4
    assert profile.layers[1].out_bytes == 2 * 64 * 56 * 56 * 4
    assert profile.layers[-3].out_bytes == 512 * 7 * 7 * 4  # the last block ends before pooling
    assert profile.layers[-2].out_bytes == 512 * 4
    assert profile.input_bytes == 3 * 224 * 224 * 4
