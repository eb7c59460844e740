"""The idnplan command line: every subcommand, its output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from helpers import INSTANCES, ROOT

from placement import InstanceSpec, load_instance, save_instance
from placement.cli import main
from placement.fileio import read_document
from placement.plan import read_plan


def test_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("validate", "schema", "generate", "evaluate", "methods", "solve", "profile", "devices"):
        assert cmd in out
    assert main([]) == 2


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve"])
    assert exc.value.code == 2
    assert "required" in capsys.readouterr().err


def test_schema_validates_shipped_instances(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "idnplan instance file"
    for path in sorted(INSTANCES.glob("*.yaml")):
        jsonschema.validate(read_document(path)[0], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "nodes": [{"id": "a", "device": "rpi4", "colour": 1}], "links": [], "models": [], "demand": []}, schema)


def test_schema_of_plan_and_profile(capsys, tmp_path):
    assert main(["schema", "plan"]) == 0
    plan_schema = json.loads(capsys.readouterr().out)
    assert main(["solve", str(INSTANCES / "idn-10.yaml"), "-q", "--out", str(tmp_path / "p.json")]) == 0
    capsys.readouterr()
    jsonschema.validate(json.loads((tmp_path / "p.json").read_text()), plan_schema)
    assert main(["schema", "profile"]) == 0
    assert "layers" in json.loads(capsys.readouterr().out)["properties"]


def test_devices_table_and_json(capsys):
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "cortex-m7" in out and "h100" in out
    assert main(["devices", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cortex-m7"]["sources"]["ram_bytes"]


def test_methods_lists_registry(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in ("greedy", "cloud-only", "edge-only", "device-only"):
        assert name in out


def test_solve_prints_plan_and_writes_it_atomically(tmp_path, capsys):
    out = tmp_path / "sub" / "plan.json"
    assert main(["solve", str(INSTANCES / "idn-10.yaml"), "--method", "greedy", "--out", str(out), "--mkdir"]) == 0
    text = capsys.readouterr().out
    assert "objective J" in text and "segments" in text and "estimated" in text
    plan = read_plan(out)
    assert plan.method == "greedy" and plan.status == "heuristic"
    assert [p.name for p in out.parent.iterdir()] == ["plan.json"]  # no temporary files left
    assert main(["evaluate", str(INSTANCES / "idn-10.yaml"), str(out)]) == 0


def test_solve_json_and_unknown_method(capsys):
    assert main(["solve", str(INSTANCES / "idn-10.yaml"), "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"instance", "method", "status", "objective", "bound", "gap", "storage", "routes", "metrics"} <= set(data)
    assert main(["solve", str(INSTANCES / "idn-10.yaml"), "--method", "magic"]) == 2
    assert "unknown method 'magic'" in capsys.readouterr().err


def test_solve_bad_instance_exit_2(tmp_path, capsys):
    (tmp_path / "x.yaml").write_text("name: x\nnodes: []\n")
    assert main(["solve", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "nodes" in err and "Traceback" not in err


def test_instance_round_trips_yaml_and_json(tmp_path):
    inst = load_instance(INSTANCES / "idn-10.yaml")
    for suffix in ("json", "yaml"):
        path = tmp_path / f"copy.{suffix}"
        save_instance(inst.spec, path, source_dir=INSTANCES)
        again = load_instance(path)
        assert [m.profile_path and Path(m.profile_path).resolve() for m in again.models.values()] == [
            m.profile_path and Path(m.profile_path).resolve() for m in inst.models.values()
        ]
        assert again.spec.model_dump(exclude={"models"}) == inst.spec.model_dump(exclude={"models"})
        assert again.node["cloud"].memory_bytes == float("inf")  # explicit null survives
    data = json.loads((tmp_path / "copy.json").read_text())
    assert data["nodes"][0]["memory_bytes"] is None
    assert "memory_bytes" not in data["nodes"][1]  # unset stays unset
    assert InstanceSpec.model_validate(data).nodes == inst.spec.nodes


def test_plan_round_trip(tmp_path):
    from placement.plan import write_plan
    from solvers import solve

    inst = load_instance(INSTANCES / "idn-10.yaml")
    plan = solve(inst, "greedy")
    write_plan(plan, tmp_path / "p.json")
    assert read_plan(tmp_path / "p.json") == plan


def test_console_script_runs_without_traceback(tmp_path):
    exe = [sys.executable, "-m", "placement.cli"]
    res = subprocess.run(exe + ["validate", str(INSTANCES / "idn-10.yaml")], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0 and "ok:" in res.stdout
    (tmp_path / "bad.yaml").write_text("name: [\n")
    res = subprocess.run(exe + ["validate", str(tmp_path / "bad.yaml")], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert res.returncode == 2 and "malformed YAML" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("method", ["milp", "milp-pyomo"])
def test_solve_output_is_only_the_plan(method):
    """No solver banner (highspy >= 1.16 prints one on its first construction) in a printed plan."""
    exe = [sys.executable, "-m", "placement.cli", "solve", str(INSTANCES / "idn-10.yaml"), "--method", method]
    res = subprocess.run(exe, capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"instance idn-10  method {method}  status optimal")
    assert "HiGHS" not in res.stdout and "Copyright" not in res.stdout
