"""``idnplan profile``: success, a user's module:callable model, bad input (exit 2, no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from placement.cli import main  # noqa: E402
from placement.schema import ProfileSpec  # noqa: E402
from profiling import profile_json, profile_model, read_profile, write_profile  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

#: The example of docs/profiling.md ("README section"), verbatim.
TINYNET = textwrap.dedent(
    """
    import torch
    from torch import nn


    class TinyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, padding=1)
            self.bn = nn.BatchNorm2d(16)
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            x = torch.relu(self.bn(self.conv(x)))
            return self.fc(x.mean((2, 3)))


    def build():
        return TinyNet()
    """
)


def test_readme_example_user_model(tmp_path, monkeypatch, capsys):
    (tmp_path / "mymodel.py").write_text(TINYNET)
    monkeypatch.chdir(tmp_path)
    # as under the `idnplan` console script: the current folder is not on sys.path
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "mymodel", raising=False)
    code = main(["profile", "mymodel:build", "--input-shape", "1,3,32,32", "--devices", "cortex-m7,rpi4", "--repeats", "5", "--out", "mymodel.json"])
    out = capsys.readouterr().out
    assert code == 0
    p = read_profile(tmp_path / "mymodel.json")
    assert p.model == "build" and p.source == "mymodel:build"
    assert p.macs == 16 * 32 * 32 * 27 + 16 * 10  # conv + fc
    assert p.params == 16 * 27 + 16 + 2 * 16 + 16 * 10 + 10
    assert [lay.name for lay in p.layers] == ["conv.bn.relu.mean", "fc"]
    assert p.layers[0].out_bytes == 16 * 4
    assert p.layers[0].latency_source == {"host-cpu": "measured", "cortex-m7": "estimated", "rpi4": "estimated"}
    assert "host-cpu ms" in out and "cortex-m7 ms" in out and " m" in out and " e" in out
    assert "profile written to mymodel.json" in out


def test_torchvision_no_latency_json_validates(tmp_path, capsys):
    out_file = tmp_path / "sq.json"
    assert main(["profile", "torchvision:squeezenet1_1", "--no-latency", "--devices", "cortex-m7", "--out", str(out_file)]) == 0
    text = out_file.read_text()
    data = json.loads(text)
    ProfileSpec.model_validate(data)
    assert data["accuracy"] == pytest.approx(0.58178)
    assert data["published_macs"] == pytest.approx(0.349e9)
    assert "host-cpu" not in data["layers"][0]["latency_s"]
    out = capsys.readouterr().out
    assert "published" in out and "features.3.squeeze" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["torchvision:resnet1000"], "unknown torchvision model 'resnet1000' (did you mean"),
        (["torchvision:resnet18@NOPE"], "has no weights 'NOPE'"),
        (["torchvision:resnet18", "--input-shape", "1,x,224"], "--input-shape must be comma-separated positive integers"),
        (["torchvision:resnet18", "--input-shape", "1,0,224"], "--input-shape must be comma-separated positive integers"),
        (["torchvision:resnet18", "--devices", "cortex-m99"], "unknown device type(s) cortex-m99"),
        (["no_such_module_xyz:build"], "cannot import 'no_such_module_xyz'"),
        (["models:nope"], "'models' has no attribute 'nope'"),
        (["models:DataBranch", "--input-shape", "2,4"], "if x.sum() > 0:"),
        (["justaname"], "MODEL must be 'torchvision:NAME' or 'package.module:callable'"),
    ],
)
def test_bad_input_exit_2(argv, message, capsys):
    code = main(["profile", *argv, "--no-latency"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err


def test_bad_shape_for_the_model_is_a_clear_error(capsys):
    code = main(["profile", "models:Skip", "--input-shape", "1,3,6,6", "--no-latency"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "Skip cannot run on input shape(s) [1, 3, 6, 6]: node 'conv1' raised RuntimeError" in err


def test_subprocess_reports_without_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    res = subprocess.run(
        [sys.executable, "-m", "placement.cli", "profile", "torchvision:resnet1000", "--no-latency"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert res.returncode == 2
    assert "unknown torchvision model" in res.stderr and "Traceback" not in res.stderr


def test_write_read_roundtrip_and_compact_layout(tmp_path):
    import models

    p = profile_model(models.Branchy(), (1, 3, 8, 8), latency=False, devices=["rpi4"])
    path = tmp_path / "sub" / "b.json"
    write_profile(p, path)
    assert read_profile(path) == p
    text = path.read_text()
    assert text == profile_json(p)
    assert text.count("\n") < 80  # one line per layer
    assert not list((tmp_path / "sub").glob(".*tmp"))  # no temporary left behind
