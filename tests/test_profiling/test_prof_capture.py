"""Graph capture: torch.fx first, torch.export where fx cannot trace, a clear error otherwise."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import prof_models as models  # noqa: E402

from profiling import NO_TIMING, CaptureError, capture, capture_model, profile_captured, split_model  # noqa: E402
from profiling.chain import build_chain  # noqa: E402


def test_fx_is_used_when_it_can_trace():
    cap = capture(models.Skip(), (torch.randn(1, 4, 6, 6),))
    assert cap.tracer == "torch.fx"
    assert [n.name for n in cap.nodes] == ["conv1", "relu", "conv2", "add", "relu_1"]


def test_export_fallback_for_shape_control_flow():
    x = torch.randn(2, 4)
    model = models.ShapeBranch()
    captured = capture_model(model, example_input=x)
    p = profile_captured(captured, devices=[], timing=NO_TIMING)
    chain = captured.chain
    assert p.tracer == "torch.export"
    assert p.macs == 2 * 4 * 3
    assert "torch.fx could not trace" in p.assumptions["capture"]
    assert "models.py" in p.assumptions["capture"]
    head, tail = split_model(model, x, 0, chain=chain)
    with torch.no_grad():
        assert torch.allclose(tail(*head(x)), model(x))


def test_untraceable_model_names_the_construct():
    with pytest.raises(CaptureError) as info:
        capture(models.DataBranch(), (torch.randn(2, 4),))
    msg = str(info.value)
    assert "if x.sum() > 0:" in msg and "models.py" in msg
    assert "torch.fx failed" in msg and "torch.export failed" in msg
    assert info.value.exit_code == 2


def test_untraceable_model_prints_nothing(capsys):
    with pytest.raises(CaptureError):
        capture(models.DataBranch(), (torch.randn(2, 4),))
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_shape_arithmetic_is_folded():
    class UsesShape(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(12, 5)

        def forward(self, x):
            n = x.shape[0]
            y = x.reshape(n, -1)
            return self.fc(y).view(x.size(0), 5)

    cap = capture(UsesShape(), (torch.randn(2, 3, 4),))
    chain = build_chain(cap)
    # no Python integers cross any cut: every cut holds tensors only
    for i in range(len(chain.layers)):
        assert all(cap.values[v].float_elems > 0 for v in chain.cut_values(i))
    assert not any(n.op == "call_function" and n.target is getattr for n in cap.nodes)
