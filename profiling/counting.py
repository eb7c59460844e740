"""MAC and element-wise FLOP counting at the level of ATen operators.

Counting happens below every Python-level construct: a
:class:`~torch.utils._python_dispatch.TorchDispatchMode` sees each ATen
operator a model actually runs, after composite operators (``F.linear``,
``torch.matmul``, ``torch.einsum``, ``F.conv2d``, ``F.scaled_dot_product_attention``)
have been lowered to the kernels that do the work. One formula per kernel then
covers modules, functional calls, tensor methods and user code alike.

The fused kernels that other counters miss are counted here on purpose:
``aten._native_multi_head_attention`` (the inference fast path of
``nn.MultiheadAttention``), ``aten._transformer_encoder_layer_fwd`` (the fast
path of ``nn.TransformerEncoderLayer``) and every fused
scaled-dot-product-attention kernel (flash, memory-efficient, cuDNN, CPU flash).

Convention (DESIGN.md): one multiply-accumulate = 1 MAC, the convention of
torchvision's published "GFLOPS". Bias additions, normalisations, activations,
pooling, softmax and other element-wise work are *not* MACs; they are counted
separately as element-wise FLOPs with the per-element costs in
:data:`ELEMENTWISE_COST`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

aten = torch.ops.aten

#: Element-wise FLOPs per element, by category (documented in docs/profiling.md).
ELEMENTWISE_COST = {
    "pointwise": 1,  # add, mul, relu, sigmoid, gelu, ...: one op per output element
    "batch_norm": 2,  # inference batch norm = one multiply + one add per element
    "norm": 5,  # layer/group/instance norm with affine: mean, centre, square, scale, shift
    "softmax": 3,  # exp, sum, divide per element
    "attention_score": 4,  # per attention score: scale + softmax (3)
}

# Operators that move or reinterpret data without arithmetic.
_COPY_OPS = {
    "clone", "contiguous", "_to_copy", "copy_", "copy", "cat", "stack", "constant_pad_nd", "pad",
    "index", "index_select", "gather", "embedding", "repeat", "roll", "flip", "fill_", "zero_",
    "zeros_like", "ones_like", "full_like", "new_zeros", "new_ones", "randn", "rand", "randint",
    "normal_", "uniform_", "bernoulli_", "bernoulli", "randn_like", "rand_like",
    "_unsafe_view", "lift_fresh", "lift_fresh_copy", "detach_", "masked_fill", "masked_fill_",
    "scalar_tensor", "arange", "zeros", "ones", "full", "triu", "tril", "channel_shuffle",
    "native_channel_shuffle", "pixel_shuffle", "pixel_unshuffle", "upsample_nearest2d",
    "_assert_async", "_assert_tensor_metadata", "sym_size", "sym_numel", "sym_stride", "dropout",
    "native_dropout", "feature_dropout", "alpha_dropout",
}
# Allocations: no arithmetic and no memory traffic until something writes them.
_ALLOC_OPS = {"empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "empty_permuted"}
# Pointwise activations that ATen does not tag as pointwise.
_POINTWISE_EXTRA = {"hardswish", "hardswish_", "hardsigmoid", "hardsigmoid_", "_prelu_kernel", "prelu"}
_NORM_OPS = {"native_layer_norm", "native_group_norm", "layer_norm", "group_norm", "instance_norm", "_fused_rms_norm", "rms_norm"}
_BATCH_NORM_OPS = {
    "_native_batch_norm_legit_no_training", "_native_batch_norm_legit", "native_batch_norm",
    "batch_norm", "_batch_norm_impl_index", "cudnn_batch_norm", "miopen_batch_norm",
    "_native_batch_norm_legit_functional",
}
_POOL_OPS = {
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "mkldnn_max_pool2d",
}
_ADAPTIVE_POOL_OPS = {
    "_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_avg_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool3d", "mean", "sum", "amax", "amin", "max", "min",
    "var", "var_mean", "std", "std_mean", "norm", "linalg_vector_norm", "prod", "logsumexp",
}
_SOFTMAX_OPS = {"_softmax", "_log_softmax", "softmax", "log_softmax", "_safe_softmax"}
_UPSAMPLE_OPS = {"upsample_bilinear2d", "upsample_bicubic2d", "_upsample_bilinear2d_aa", "grid_sampler_2d"}


@dataclass
class OpCost:
    """Work of the operators of one category inside one graph node.

    Attributes
    ----------
    macs : int
        Multiply-accumulates (DESIGN.md convention).
    elementwise_flops : int
        Element-wise floating-point work, by :data:`ELEMENTWISE_COST`.
    bytes_moved : int
        Bytes read and written by the operators (inputs, weights and outputs,
        at the dtype they ran in); views move nothing. Used by the roofline.
    ops : int
        Number of ATen operators (kernels) of this category.
    """

    macs: int = 0
    elementwise_flops: int = 0
    bytes_moved: int = 0
    ops: int = 0

    def add(self, other: OpCost) -> None:
        self.macs += other.macs
        self.elementwise_flops += other.elementwise_flops
        self.bytes_moved += other.bytes_moved
        self.ops += other.ops


@dataclass
class NodeCost:
    """Costs of one graph node, by operator category (``conv``, ``matmul``, ...)."""

    by_category: dict[str, OpCost] = field(default_factory=dict)
    uncounted: set[str] = field(default_factory=set)
    max_out_float_elems: int = 0

    @property
    def macs(self) -> int:
        return sum(c.macs for c in self.by_category.values())

    @property
    def elementwise_flops(self) -> int:
        return sum(c.elementwise_flops for c in self.by_category.values())

    def record(self, category: str, cost: OpCost) -> None:
        self.by_category.setdefault(category, OpCost()).add(cost)


def _numel(t) -> int:
    return t.numel() if isinstance(t, torch.Tensor) else 0


def _nbytes(values) -> int:
    leaves, _ = tree_flatten(values)
    return sum(t.numel() * t.element_size() for t in leaves if isinstance(t, torch.Tensor))


def _prod(xs) -> int:
    return int(math.prod(int(x) for x in xs))


def _conv(args, out):
    x, w = args[0], args[1]
    transposed = bool(args[6]) if len(args) > 6 else False
    kernel = _prod(w.shape[2:])
    if transposed:  # weight [C_in, C_out/groups, k...]: every input element meets C_out/groups kernels
        macs = x.numel() * w.shape[1] * kernel
    else:  # weight [C_out, C_in/groups, k...]: every output element is a dot product of that length
        macs = out.numel() * w.shape[1] * kernel
    groups = int(args[8]) if len(args) > 8 else 1
    bias = out.numel() if len(args) > 2 and args[2] is not None else 0
    category = "dwconv" if groups > 1 else "conv"
    return category, macs, bias


def _mm(args, out):
    a, b = args[0], args[1]
    return "matmul", a.numel() * b.shape[-1], 0


def _addmm(args, out):  # addmm(bias, a, b), baddbmm(bias, a, b)
    a, b = args[1], args[2]
    return "matmul", a.numel() * b.shape[-1], out.numel()


def _addbmm(args, out):
    a, b = args[1], args[2]
    return "matmul", a.numel() * b.shape[-1], out.numel()


def _mv(args, out):
    return "matmul", args[0].numel(), 0


def _addmv(args, out):
    return "matmul", args[1].numel(), out.numel()


def _dot(args, out):
    return "matmul", args[0].numel(), 0


def _linear(args, out):  # aten.linear(x, weight [out, in], bias)
    w = args[1]
    bias = out.numel() if len(args) > 2 and args[2] is not None else 0
    return "matmul", out.numel() * w.shape[-1], bias


def _sdpa_bhle(args, out):
    """Fused attention with [B, H, L, E] layout: Q K^T and (softmax) V."""
    q, k, v = args[0], args[1], args[2]
    rows = _prod(q.shape[:-1])  # B * H * L
    s = k.shape[-2]
    return "attention", rows * s * (q.shape[-1] + v.shape[-1]), rows * s * ELEMENTWISE_COST["attention_score"]


def _sdpa_blhe(args, out):
    """Fused attention with [B, L, H, E] layout (``_efficient_attention_forward``...)."""
    q, k, v = args[0], args[1], args[2]
    rows = _prod(q.shape[:-1])  # B * L * H
    s = k.shape[1]
    return "attention", rows * s * (q.shape[-1] + v.shape[-1]), rows * s * ELEMENTWISE_COST["attention_score"]


def _mha_core(q, k, v, embed_dim: int, num_heads: int):
    """MACs of multi-head attention on batch-first [B, L, E] inputs.

    In-projections of query, key and value (E x E each), the attention itself
    (Q K^T and A V: L_q x L_k x E each, summed over heads) and the output
    projection. The fused kernel projects q, k and v in one GEMM when they are
    the same tensor; the MAC count is the same.
    """
    batch = _prod(q.shape[:-2]) if q.dim() > 2 else 1
    lq, lk, lv = q.shape[-2], k.shape[-2], v.shape[-2]
    e = embed_dim
    proj = batch * (lq + lk + lv) * e * e + batch * lq * e * e
    attn = 2 * batch * lq * lk * e
    scores = batch * num_heads * lq * lk
    biases = batch * (lq + lk + lv) * e + batch * lq * e
    return proj + attn, scores * ELEMENTWISE_COST["attention_score"] + biases


def _native_mha(args, out):
    q, k, v, embed_dim, num_heads = args[0], args[1], args[2], int(args[3]), int(args[4])
    macs, ew = _mha_core(q, k, v, embed_dim, num_heads)
    return "attention", macs, ew


def _transformer_layer(args, out):
    """``aten._transformer_encoder_layer_fwd``: self-attention + 2-layer MLP + 2 norms."""
    src, embed_dim, num_heads = args[0], int(args[1]), int(args[2])
    ffn_w1 = args[14]
    macs, ew = _mha_core(src, src, src, embed_dim, num_heads)
    tokens = _prod(src.shape[:-1])
    hidden = ffn_w1.shape[0]
    macs += 2 * tokens * embed_dim * hidden
    ew += tokens * (hidden + embed_dim)  # MLP biases
    ew += tokens * hidden  # activation
    ew += 2 * tokens * embed_dim  # residual adds
    ew += 2 * tokens * embed_dim * ELEMENTWISE_COST["norm"]
    return "attention", macs, ew


_MAC_FORMULAS = {
    "convolution": _conv,
    "_convolution": _conv,
    "convolution_overrideable": _conv,
    "mm": _mm,
    "bmm": _mm,
    "_int_mm": _mm,
    "addmm": _addmm,
    "_addmm_activation": _addmm,
    "baddbmm": _addmm,
    "addbmm": _addbmm,
    "mv": _mv,
    "addmv": _addmv,
    "dot": _dot,
    "vdot": _dot,
    "linear": _linear,
    "scaled_dot_product_attention": _sdpa_bhle,
    "_scaled_dot_product_flash_attention": _sdpa_bhle,
    "_scaled_dot_product_flash_attention_for_cpu": _sdpa_bhle,
    "_scaled_dot_product_efficient_attention": _sdpa_bhle,
    "_scaled_dot_product_cudnn_attention": _sdpa_bhle,
    "_scaled_dot_product_fused_attention_overrideable": _sdpa_bhle,
    "_flash_attention_forward": _sdpa_blhe,
    "_efficient_attention_forward": _sdpa_blhe,
    "_native_multi_head_attention": _native_mha,
    "_transformer_encoder_layer_fwd": _transformer_layer,
}


def classify(func, args, out) -> tuple[str, int, int]:
    """Category, MACs and element-wise FLOPs of one ATen call.

    Returns ``("uncounted", 0, 0)`` for an operator that is neither known to be
    free of arithmetic nor covered by a formula, so the caller can report it.
    """
    name = func._overloadpacket.__name__
    formula = _MAC_FORMULAS.get(name)
    if formula is not None:
        first = out[0] if isinstance(out, (tuple, list)) else out
        return formula(args, first)
    first = out[0] if isinstance(out, (tuple, list)) else out
    if func.is_view or name in _ALLOC_OPS:
        return "view", 0, 0
    if name in _COPY_OPS:
        return "copy", 0, 0
    if name in _BATCH_NORM_OPS:
        return "batchnorm", 0, ELEMENTWISE_COST["batch_norm"] * _numel(args[0])
    if name in _NORM_OPS:
        return "norm", 0, ELEMENTWISE_COST["norm"] * _numel(args[0])
    if name in _SOFTMAX_OPS:
        return "softmax", 0, ELEMENTWISE_COST["softmax"] * _numel(first)
    if name in _POOL_OPS:
        kernel = args[1] if len(args) > 1 else ()
        window = _prod(kernel) if isinstance(kernel, (list, tuple)) and kernel else 1
        return "pool", 0, _numel(first) * window
    if name in _ADAPTIVE_POOL_OPS:  # each input element is read once
        return "pool", 0, _numel(args[0])
    if name in _UPSAMPLE_OPS:
        return "pool", 0, 4 * _numel(first)  # bilinear: 4 weighted taps per output element
    if torch.Tag.pointwise in func.tags or name in _POINTWISE_EXTRA:
        return "elementwise", 0, _numel(first)
    return "uncounted", 0, 0


class CountingMode(TorchDispatchMode):
    """Records the cost of every ATen operator into :attr:`current`.

    The caller points :attr:`current` at the :class:`NodeCost` of the graph
    node it is about to run; operators then accumulate there.
    """

    def __init__(self) -> None:
        super().__init__()
        self.current: NodeCost | None = None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.current is not None:
            category, macs, ew = classify(func, args, out)
            if category == "uncounted":
                self.current.uncounted.add(str(func._overloadpacket.__name__))
            moved = 0
            if category != "view":
                moved = _nbytes((args, kwargs)) + _nbytes(out)
                produced = sum(t.numel() for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor) and t.is_floating_point())
                self.current.max_out_float_elems = max(self.current.max_out_float_elems, produced)
            self.current.record(category, OpCost(int(macs), int(ew), int(moved), 1))
        return out
