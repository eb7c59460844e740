"""Hostile input gets a clear answer: exit 2 naming file, field and problem, quickly,
never a traceback, an internal error (exit 70) or a hang (issue 9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import INSTANCES, ROOT, line_instance_data, write_yaml

from placement.cli import main
from placement.fileio import atomic_write_text, read_document
from placement.limits import MAX_ALIAS_EXPANSION, MAX_DEPTH


def run(argv, capsys):
    """Exit code and stderr of an in-process CLI run, checked for tracebacks and raw escapes."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "\x1b" not in captured.err and "\x00" not in captured.err
    return code, captured.err


def alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


# -- bounded parsing ------------------------------------------------------------------


@pytest.mark.parametrize("levels", [7, 8, 12])
def test_alias_bomb_refused_quickly(tmp_path, capsys, levels):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(levels))
    assert len(path.read_bytes()) < 1000
    start = time.perf_counter()
    code, err = run(["validate", path], capsys)
    assert code == 2 and time.perf_counter() - start < 2
    assert "aliases expand" in err and f"{MAX_ALIAS_EXPANSION:,}" in err and str(path) in err


def test_recursive_alias_refused(tmp_path, capsys):
    path = tmp_path / "rec.yaml"
    path.write_text("name: x\nnodes: &n [*n]\n")
    code, err = run(["validate", path], capsys)
    assert code == 2 and "recursive" in err


@pytest.mark.parametrize("kind", ["instance", "plan", "profile"])
def test_deep_json_refused_quickly(tmp_path, capsys, kind):
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / f"{kind}.json"
    path.write_text('{"name": "x", "nodes": ' + deep + "}")
    start = time.perf_counter()
    if kind == "instance":
        code, err = run(["validate", path], capsys)
    elif kind == "plan":
        code, err = run(["evaluate", INSTANCES / "idn-10.yaml", path], capsys)
    else:
        data = line_instance_data()
        del data["models"][1]["layers"]
        data["models"][1]["profile"] = str(path)
        inst = write_yaml(tmp_path / "i.yaml", data)
        code, err = run(["validate", inst], capsys)
    assert code == 2 and time.perf_counter() - start < 2
    assert f"nesting deeper than the limit of {MAX_DEPTH} levels" in err


def test_moderately_deep_yaml_refused_with_line(tmp_path, capsys):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nnodes: " + "[" * 500 + "]" * 500 + "\n")
    code, err = run(["validate", path], capsys)
    assert code == 2 and "nesting deeper" in err and f"{path}:2" in err


MERGED = """
name: merged
devices:
  slow: &slow {effective_macs_per_s: 1.0e6, memory_bytes: 1000.0, active_power_w: 1.0}
  slower: {<<: *slow, effective_macs_per_s: 1.0e5}
nodes:
  - {id: a, device: slower}
  - {id: b, device: a100}
links:
  - {u: a, v: b, bandwidth_bytes_per_s: 1.0e6, latency_s: 0.01}
models:
  - {id: m, task: t, accuracy: 0.5, input_bytes: 100, layers: [{name: l0, macs: 1.0e3, param_bytes: 10, out_bytes: 10}]}
demand:
  - {origin: a, task: t, rate_rps: 1.0, max_latency_s: 1.0}
"""


def test_merge_keys_accepted(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text(MERGED)
    data, _ = read_document(path)
    assert data["devices"]["slower"] == {"effective_macs_per_s": 1.0e5, "memory_bytes": 1000.0, "active_power_w": 1.0}
    assert run(["validate", path], capsys)[0] == 0


def test_duplicate_explicit_keys_still_refused(tmp_path, capsys):
    path = tmp_path / "dup.yaml"
    path.write_text("base: &b {x: 1}\nd: {<<: *b, y: 1, y: 2}\n")
    code, err = run(["validate", path], capsys)
    assert code == 2 and "duplicate key 'y'" in err


def test_control_character_in_yaml_stream_has_line(tmp_path, capsys):
    path = tmp_path / "ctl.yaml"
    path.write_text("name: x\nnodes:\n  - {id: a\x1b[31m, device: rpi4}\n")
    code, err = run(["validate", path], capsys)
    assert code == 2 and f"{path}:3" in err and "U+001B" in err


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1b[31mred", "bidi\u202eevil", "tab\there"])
def test_control_characters_in_ids_refused(tmp_path, capsys, bad):
    data = line_instance_data()
    data["nodes"][0]["id"] = bad
    path = tmp_path / "ids.json"
    path.write_text(json.dumps(data))
    code, err = run(["validate", path], capsys)
    assert code == 2 and "nodes[0].id" in err and "control characters" in err


def test_binary_junk_and_not_utf8(tmp_path, capsys):
    path = tmp_path / "junk.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    code, err = run(["validate", path], capsys)
    assert code == 2 and str(path) in err


# -- paths ----------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["/dev/zero", "/dev/null", "/tmp", "a\x00b.json"])
def test_profile_must_be_a_regular_file(tmp_path, capsys, ref):
    data = line_instance_data()
    del data["models"][1]["layers"]
    data["models"][1]["profile"] = ref
    path = tmp_path / "i.json"
    path.write_text(json.dumps(data))
    start = time.perf_counter()
    code, err = run(["validate", path], capsys)
    assert code == 2 and time.perf_counter() - start < 2
    assert "models[1]" in err or "profile" in err


def test_out_refusals_write_nothing(tmp_path, capsys):
    inst = INSTANCES / "idn-10.yaml"
    base = ["solve", inst, "-m", "greedy", "-q"]
    for out, words in [("", "empty path"), (tmp_path, "is a folder"), ("/dev/null", "not a regular file"), (tmp_path / "no" / "p.json", "--mkdir")]:
        code, err = run(base + ["--out", out], capsys)
        assert code == 2 and words in err and "--out" in err
    assert list(tmp_path.iterdir()) == []
    code, _ = run(base + ["--out", tmp_path / "new" / "p.json", "--mkdir"], capsys)
    assert code == 0 and [p.name for p in (tmp_path / "new").iterdir()] == ["p.json"]


def test_generate_and_profile_check_out_first(tmp_path, capsys):
    code, err = run(["generate", "tiered", "--out", tmp_path, "--fanout", "2,2"], capsys)
    assert code == 2 and "is a folder" in err
    code, err = run(["profile", "torchvision:resnet18", "--out", "/dev/null"], capsys)
    assert code == 2 and "not a regular file" in err


def test_atomic_write_names_and_cleans_temporaries(tmp_path):
    target = tmp_path / "plan.json"
    dead = tmp_path / ".plan.json.idnplan-tmp-999999999"  # no such process
    dead.write_text("half")
    mine = tmp_path / f".plan.json.idnplan-tmp-{os.getpid()}-7"  # a live process's: kept
    mine.write_text("busy")
    atomic_write_text(target, "{}\n")
    assert target.read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plan.json", mine.name])
    with pytest.raises(Exception, match="not a regular file|not a file name"):
        atomic_write_text("/dev/null", "x")


# -- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("flag,value", [
    ("--time-limit", "-5"), ("--time-limit", "0"), ("--time-limit", "nan"), ("--time-limit", "inf"),
    ("--threads", "0"), ("--threads", "-3"), ("--threads", "10000"),
    ("--mip-gap", "-1"), ("--mip-gap", "nan"), ("--seed", "-1"),
])
def test_bad_cli_numbers(capsys, flag, value):
    with pytest.raises(SystemExit) as exc:
        main(["solve", str(INSTANCES / "idn-10.yaml"), flag, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}:" in err and value in err


@pytest.mark.parametrize("where,value,words", [
    (("options", "max_utilization"), 1e-20, "must be >= 1e-06"),
    (("demand", 0, "rate_rps"), 1e20, "must be <= 1e+09"),
    (("objective", "weights", "latency"), 1e308, "must be <= 1e+09"),
    (("links", 0, "bandwidth_bytes_per_s"), 1e14, "must be <= 1e+13"),
    (("links", 0, "latency_s"), 1e7, "must be <= 1e+06"),
    (("devices", "slow", "memory_bytes"), 1e16, "must be <= 1e+15"),
])
def test_accepted_ranges(tmp_path, capsys, where, value, words):
    data = line_instance_data()
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    code, err = run(["validate", write_yaml(tmp_path / "r.yaml", data)], capsys)
    assert code == 2 and words in err and "Accepted ranges" in err


# -- profiles -------------------------------------------------------------------------


def _profile_instance(tmp_path, profile: dict):
    (tmp_path / "p.json").write_text(json.dumps(profile))
    data = line_instance_data()
    del data["models"][1]["layers"]
    data["models"][1]["profile"] = "p.json"
    return write_yaml(tmp_path / "i.yaml", data)


def _profile(**graph_node) -> dict:
    node = {"name": "n0", "inputs": ["input"], "macs": 1.0, "out_bytes": 4.0, "layer": 0} | graph_node
    return {"model": "p", "input_bytes": 10, "layers": [{"name": "a", "macs": 1, "param_bytes": 1, "out_bytes": 4}],
            "graph": {"nodes": [node]}}


@pytest.mark.parametrize("profile,words", [
    (_profile(layer=5), "layer 5 does not exist"),
    (_profile(latency_s={"cortex-m77": 0.1}), "unknown device type 'cortex-m77'"),
    ({"model": "p", "input_bytes": 10, "layers": [{"name": "a", "macs": 1, "param_bytes": 1, "out_bytes": 4, "energy_j": {"nope": 1.0}}]}, "unknown device type 'nope'"),
    ({"model": "p", "input_bytes": 10, "layers": [{"name": "a", "macs": 1, "param_bytes": 1, "out_bytes": 4, "param_bytes_by_dtype": {"int4": 1.0}}]}, "param_bytes_by_dtype"),
])
def test_inconsistent_profiles_refused(tmp_path, capsys, profile, words):
    code, err = run(["validate", _profile_instance(tmp_path, profile)], capsys)
    assert code == 2 and words in err and "p.json" in err


# -- Ctrl-C ---------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["module", "script"])
def test_ctrl_c_during_start_up(entry):
    script = [sys.executable, "-c", "import sys; sys.argv[0] = 'idnplan'; from placement.cli import main; sys.exit(main())"]
    cmd = [sys.executable, "-m", "placement.cli"] if entry == "module" else script
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # The interpreter's own start-up (site, encodings) runs before any idnplan code
    # can install a handler: the delays start after it.
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python_start = time.perf_counter() - start
    codes = []
    for delay in (python_start + 0.05, python_start + 0.15, python_start + 0.3):
        proc = subprocess.Popen(cmd + ["validate", str(INSTANCES / "idn-10.yaml")], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert "Traceback" not in err, (delay, err)
        assert proc.returncode in (0, 130), (delay, proc.returncode, err)
        if proc.returncode == 130:
            assert err.strip().endswith("interrupted")
        codes.append(proc.returncode)
    assert 130 in codes
