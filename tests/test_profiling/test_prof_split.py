"""Runnable splits: tail(*head(x)) == model(x) and head bytes == the profile's out_bytes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import prof_models as models  # noqa: E402

from profiling import NO_TIMING, build_segment, capture_model, profile_captured, split_model  # noqa: E402
from profiling.split import head_output_bytes  # noqa: E402

SMALL = [
    (models.Branchy, (1, 3, 8, 8)),
    (models.Skip, (1, 4, 6, 6)),
    (models.Twice, (2, 8)),
    (models.Grouped, (1, 8, 5, 5)),
    (models.MHA, (1, 5, 16)),
    (models.FunctionalAttention, (1, 6, 8)),
]


def _check_every_cut(model, x, profile, chain, atol=1e-5):
    with torch.no_grad():
        ref = model(x)
        for cut in range(len(profile.layers)):
            head, tail = split_model(model, x, cut, chain=chain)
            mid = head(x)
            assert isinstance(mid, tuple)
            assert head_output_bytes(mid) == profile.layers[cut].out_bytes, cut
            out = tail(*mid)
            assert torch.allclose(out, ref, atol=atol, rtol=1e-4), (cut, (out - ref).abs().max())


@pytest.mark.parametrize("factory,shape", SMALL, ids=[f.__name__ for f, _ in SMALL])
def test_small_models_split_at_every_cut(factory, shape):
    torch.manual_seed(0)
    model = factory().eval()
    x = torch.randn(*shape)
    captured = capture_model(model, example_input=x)
    profile = profile_captured(captured, devices=[], timing=NO_TIMING)
    chain = captured.chain
    _check_every_cut(model, x, profile, chain)


def test_split_without_a_chain_captures_again():
    model = models.Skip().eval()
    x = torch.randn(1, 4, 6, 6)
    head, tail = split_model(model, x, 0)
    with torch.no_grad():
        assert torch.allclose(tail(*head(x)), model(x))
    assert head_output_bytes(head(x)) == 2 * 4 * 36 * 4


def test_segments_compose_and_share_parameters():
    model = models.Skip().eval()
    x = torch.randn(1, 4, 6, 6)
    captured = capture_model(model, example_input=x)
    _ = profile_captured(captured, devices=[], timing=NO_TIMING)
    chain = captured.chain
    s0, s1 = build_segment(chain, 0, 0), build_segment(chain, 1, 1)
    with torch.no_grad():
        assert torch.allclose(s1(*s0(x)), model(x))
        model.conv2.weight.add_(1.0)  # parameters are shared, not copied
        assert torch.allclose(s1(*s0(x)), model(x))


def test_bad_cut_is_an_input_error():
    from placement.errors import InputError

    with pytest.raises(InputError):
        split_model(models.Skip(), torch.randn(1, 4, 6, 6), 5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet18", "vit_b_16"])
def test_torchvision_split_at_every_cut(tv_profiles, name):
    loaded, profile, chain, x = tv_profiles.get(name)
    _check_every_cut(loaded.model, x, profile, chain, atol=1e-4)


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_b0"])
def test_torchvision_split_at_block_cuts(tv_profiles, name):
    """A few cuts of models with inverted residuals, SE blocks and stochastic depth."""
    loaded, profile, chain, x = tv_profiles.get(name)
    n = len(profile.layers)
    with torch.no_grad():
        ref = loaded.model(x)
        for cut in (0, n // 3, n // 2, n - 2, n - 1):
            head, tail = split_model(loaded.model, x, cut, chain=chain)
            mid = head(x)
            assert head_output_bytes(mid) == profile.layers[cut].out_bytes
            assert torch.allclose(tail(*mid), ref, atol=1e-4, rtol=1e-4)
