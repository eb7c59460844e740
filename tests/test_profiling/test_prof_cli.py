"""``idnplan profile``: success, a user's module:callable model, bad input (exit 2, no traceback)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from placement.cli import main  # noqa: E402
from placement.schema import ProfileSpec  # noqa: E402
from profiling import NO_TIMING, profile_json, profile_model, read_profile, write_profile  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

def _readme_example() -> tuple[str, list[str]]:
    """The user-model example of README.md's "Profiling models": mymodel.py and its command."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Profiling models") :]
    section = section[: section.index("\n## ", 3)]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    command = next(line for line in re.findall(r"```sh\n(.*?)```", section, re.S) if "mymodel:build" in line)
    argv = shlex.split(command.strip())
    assert argv[:2] == ["idnplan", "profile"]
    return code, argv[1:]


def test_readme_example_user_model(tmp_path, monkeypatch, capsys):
    code_text, argv = _readme_example()
    (tmp_path / "mymodel.py").write_text(code_text)
    monkeypatch.chdir(tmp_path)
    # as under the `idnplan` console script: the current folder is not on sys.path
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "mymodel", raising=False)
    code = main([*argv, "--repeats", "5"])
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
        (["prof_models:nope"], "'prof_models' has no attribute 'nope'"),
        (["prof_models:DataBranch", "--input-shape", "2,4"], "if x.sum() > 0:"),
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
    code = main(["profile", "prof_models:Skip", "--input-shape", "1,3,6,6", "--no-latency"])
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
    import prof_models as models

    p = profile_model(models.Branchy(), (1, 3, 8, 8), timing=NO_TIMING, devices=["rpi4"])
    path = tmp_path / "sub" / "b.json"
    write_profile(p, path)
    assert read_profile(path) == p
    text = path.read_text()
    assert text == profile_json(p)
    assert text.count("\n") < 80  # one line per layer
    assert not list((tmp_path / "sub").glob(".*tmp"))  # no temporary left behind


HOSTILE = '''
import sys
import torch


class ReturnsInt(torch.nn.Module):
    def forward(self, x):
        return 3


class ExitsInForward(torch.nn.Module):
    def forward(self, x):
        sys.exit(0)


def returns_int():
    return ReturnsInt()


def exits():
    sys.exit(0)
'''


@pytest.mark.parametrize(
    "argv,message",
    [
        (["torch.nn:Identity"], "computes nothing from its input"),
        (["hostile_mod:returns_int"], "computes nothing from its input"),
        (["hostile_mod:exits"], "called sys.exit(0)"),
        (["hostile_mod:ExitsInForward", "--input-shape", "1,4"], "called sys.exit(0)"),
        (["torchvision:resnet18", "--input-shape", "2147483648,8"], "more than the limit of 268,435,456"),
        (["torchvision:resnet18", "--input-shape", "99999999999999999999999,8"], "more than the limit of 268,435,456"),
        (["torchvision:resnet18", "--devices", ","], "--devices names no device type"),
        (["torchvision:resnet18", "--name", "a\x1b[31mb"], "must not contain control characters"),
    ],
)
def test_hostile_models_and_arguments_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    (tmp_path / "hostile_mod.py").write_text(HOSTILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["profile", *argv, "--no-latency", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err and "\x1b" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("flag,value", [("--threads", "10000"), ("--threads", "0"), ("--repeats", "0")])
def test_profile_flags_out_of_range(flag, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["profile", "torchvision:resnet18", flag, value])
    assert exc.value.code == 2
    assert f"argument {flag}:" in capsys.readouterr().err
