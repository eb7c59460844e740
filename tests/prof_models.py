"""Small models whose MACs, parameters and cut sizes are computed by hand in the tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Branchy(nn.Module):
    """Two parallel convs on the input, concatenated, then a linear layer. Input 1x3x8x8."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.b = nn.Conv2d(3, 2, 1, bias=False)
        self.fc = nn.Linear(6 * 8 * 8, 10)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], 1)
        return self.fc(torch.flatten(y, 1))


class Skip(nn.Module):
    """conv-relu-conv with a residual add and functional ReLUs. Input 1x4x6x6."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        return F.relu(x + y)


class Twice(nn.Module):
    """One Linear applied twice. Input 2x8."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(torch.relu(self.fc(x)))


class Grouped(nn.Module):
    """Depthwise, grouped and transposed convolutions and a batched matmul. Input 1x8x5x5."""

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.gc = nn.Conv2d(8, 4, 3, padding=1, groups=2, bias=False)
        self.up = nn.ConvTranspose2d(4, 2, 2, stride=2, bias=False)

    def forward(self, x):
        y = self.up(self.gc(self.dw(x)))  # 1x2x10x10
        y = y.reshape(2, 10, 10)
        return torch.matmul(y, y)  # 2 x (10x10 @ 10x10)


class MHA(nn.Module):
    """nn.MultiheadAttention self-attention, embed 16, 4 heads. Input 1x5x16."""

    def __init__(self, need_weights: bool = False):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x):
        return self.attn(x, x, x, need_weights=self.need_weights)[0]


class FunctionalAttention(nn.Module):
    """Projections, F.scaled_dot_product_attention and an einsum attention. Input 1x6x8, 2 heads of 4."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 24, bias=False)

    def forward(self, x):
        q, k, v = self.qkv(x).reshape(1, 6, 3, 2, 4).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)
        scores = torch.einsum("bhld,bhmd->bhlm", q, k).softmax(-1)
        b = scores @ v
        return (a + b).transpose(1, 2).reshape(1, 6, 8)


class ShapeBranch(nn.Module):
    """Python control flow on a shape: torch.fx cannot trace it, torch.export can. Input 2x4."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        if x.shape[-1] == 4:
            x = x * 2
        return self.fc(x)


class DataBranch(nn.Module):
    """Python control flow on tensor values: no tracer can capture it."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        if x.sum() > 0:
            x = -x
        return self.fc(x)


def build_skip():
    """A factory for the `module:callable` CLI test."""
    return Skip()
