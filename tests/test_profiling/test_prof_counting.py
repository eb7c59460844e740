"""MACs, parameters, cut sizes and peak memory of small models, computed by hand."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import prof_models as models  # noqa: E402

from profiling import NO_TIMING, profile_model  # noqa: E402
from profiling.counting import classify  # noqa: E402

aten = torch.ops.aten


def _profile(model, shape, **kw):
    return profile_model(model, shape, timing=NO_TIMING, devices=[], **kw)


def test_branches_macs_and_cuts():
    p = _profile(models.Branchy(), (1, 3, 8, 8))
    # a: 4x8x8 outputs x (3 x 3x3) = 6912; b: 2x8x8 x 3 = 384; fc: 384 x 10 = 3840
    assert [lay.macs for lay in p.layers] == [6912, 384, 3840]
    assert p.macs == 11136
    # after `a` the input is still needed by `b`: x (3x8x8) + a(x) (4x8x8), float32
    assert p.layers[0].out_bytes == (3 * 64 + 4 * 64) * 4
    # the cut after b is after cat/flatten: one 6x8x8 tensor
    assert p.layers[1].out_bytes == 6 * 64 * 4
    assert p.layers[2].out_bytes == 10 * 4
    # cat holds both branch outputs and its own output at once
    assert p.layers[1].peak_activation_bytes == 2 * 6 * 64 * 4
    assert [lay.params for lay in p.layers] == [108, 6, 3850]
    assert p.params == 3964 and p.param_bytes == 3964 * 4
    assert p.layers[2].elementwise_flops == 10  # the bias add


def test_skip_connection_with_functional_ops():
    p = _profile(models.Skip(), (1, 4, 6, 6))
    # each conv: 4x6x6 outputs x (4 x 3x3) = 5184
    assert [lay.macs for lay in p.layers] == [5184, 5184]
    assert [lay.name for lay in p.layers] == ["conv1.relu", "conv2.add.relu"]
    t = 4 * 36 * 4  # one 1x4x6x6 float32 tensor
    assert p.layers[0].out_bytes == 2 * t  # the skip input crosses the cut too
    assert p.layers[1].out_bytes == t
    # while relu runs: x, conv1's output and relu's output
    assert p.layers[0].peak_activation_bytes == 3 * t
    # conv bias 144 + relu 144 | conv bias 144 + add 144 + relu 144
    assert [lay.elementwise_flops for lay in p.layers] == [288, 432]
    assert p.flops == 2 * 10368 + 720


def test_module_used_twice_counts_macs_twice_params_once():
    p = _profile(models.Twice(), (2, 8))
    assert [lay.macs for lay in p.layers] == [128, 128]  # 2 rows x 8 x 8 per use
    assert [lay.params for lay in p.layers] == [72, 0]
    assert p.params == 72
    assert "fc.weight: layers [0, 1]" in p.assumptions["shared_params"]
    assert p.layers[0].out_bytes == 2 * 8 * 4


def test_grouped_depthwise_transposed_and_matmul():
    p = _profile(models.Grouped(), (1, 8, 5, 5))
    assert [lay.name for lay in p.layers] == ["dw", "gc", "up", "matmul"]
    assert p.layers[0].macs == 8 * 25 * 9  # depthwise: 1 input channel per output
    assert p.layers[1].macs == 4 * 25 * (4 * 9)  # groups=2: 4 input channels per output
    assert p.layers[2].macs == 4 * 25 * 2 * 4  # transposed 2x2: each input meets 2 x 2x2 weights
    assert p.layers[3].macs == 2 * 10 * 10 * 10
    assert p.layers[0].op_types == ["dwconv"] and p.layers[1].op_types == ["dwconv"]


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_fused_and_math_paths(need_weights):
    p = _profile(models.MHA(need_weights), (1, 5, 16))
    # in-projection 3 x 5x16x16 + QK^T and AV 2 x 5x5x16 + out-projection 5x16x16
    assert p.macs == 3 * 5 * 16 * 16 + 2 * 5 * 5 * 16 + 5 * 16 * 16
    assert p.params == 4 * 16 * 16 + 4 * 16


def test_sdpa_einsum_and_matmul_attention():
    p = _profile(models.FunctionalAttention(), (1, 6, 8))
    assert [lay.macs for lay in p.layers] == [
        6 * 8 * 24,  # qkv projection
        2 * 6 * 6 * (4 + 4),  # SDPA: QK^T and AV, 2 heads of 4
        2 * 6 * 6 * 4,  # einsum QK^T
        2 * 6 * 6 * 4,  # scores @ v
    ]
    assert p.layers[1].op_types[0] == "attention"


def test_fused_mha_kernel_formula_directly():
    mha = torch.nn.MultiheadAttention(32, 8, batch_first=True).eval()
    q = torch.randn(2, 7, 32)
    kv = torch.randn(2, 7, 32)  # the fused kernel needs equal shapes; key/value still differ from query
    args = (q, kv, kv, 32, 8, mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias)
    out = aten._native_multi_head_attention.default(*args, need_weights=False)
    cat, macs, _ = classify(aten._native_multi_head_attention.default, args, out)
    assert cat == "attention"
    # per batch: q, k and v projections 7x32x32 each, QK^T and AV 7x7x32 each, out projection 7x32x32
    assert macs == 2 * (3 * 7 * 32 * 32 + 2 * 7 * 7 * 32 + 7 * 32 * 32)


def test_int8_and_float16_byte_figures():
    p8 = _profile(models.Skip(), (1, 4, 6, 6), dtype="int8")
    # int8 weights (144 per conv) + int32 biases (4 per conv)
    assert [lay.param_bytes for lay in p8.layers] == [144 + 4 * 4, 144 + 4 * 4]
    assert p8.layers[1].out_bytes == 4 * 36 and p8.input_bytes == 4 * 36
    p16 = _profile(models.Skip(), (1, 4, 6, 6), dtype="float16")
    assert p16.layers[0].param_bytes == 148 * 2 and p16.layers[0].out_bytes == 2 * 4 * 36 * 2


def test_no_host_latency_where_the_host_cannot_run_the_dtype():
    for dtype in ("int8", "float16"):
        p = profile_model(models.Skip(), (1, 4, 6, 6), devices=["cortex-m7"], dtype=dtype)
        assert "not measured" in p.assumptions["latency.host"]
        assert all(set(lay.latency_source.values()) == {"estimated"} for lay in p.layers)
