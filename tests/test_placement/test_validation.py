"""One test per class of bad input: exit code 2, the file and field named, no traceback."""

from __future__ import annotations

import copy

import pytest
from helpers import line_instance_data, write_yaml

from placement import InputError, load_instance
from placement.cli import main


def check_bad(tmp_path, capsys, data, field, words, *, suffix="yaml", file=None):
    path = tmp_path / f"bad.{suffix}"
    if isinstance(data, str):
        path.write_text(data)
    else:
        write_yaml(path, data)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if field in line]
    assert lines, f"no message names {field!r}:\n{err}"
    assert str(file or path) in lines[0]
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    return err


def mutated(fn):
    data = copy.deepcopy(line_instance_data())
    fn(data)
    return data


CASES = {
    "unknown node in link": (lambda d: d["links"][1].update(v="zz"), "links[1].v", ["unknown node 'zz'"]),
    "unknown origin": (lambda d: d["demand"][0].update(origin="q"), "demand[0].origin", ["unknown node 'q'"]),
    "unknown device": (lambda d: d["nodes"][2].update(device="rpi3"), "nodes[2].device", ["unknown device type 'rpi3'", "did you mean"]),
    "unknown task": (lambda d: d["demand"][1].update(task="speech"), "demand[1].task", ["no model serves task 'speech'"]),
    "duplicate node id": (lambda d: d["nodes"].append({"id": "b", "device": "rpi4"}), "nodes[4].id", ["duplicate id 'b'"]),
    "duplicate model id": (lambda d: d["models"][1].update(id="m"), "models[1].id", ["duplicate id 'm'"]),
    "self-loop": (lambda d: d["links"][0].update(v="a"), "links[0].v", ["self-loop"]),
    "duplicate link": (lambda d: d["links"].append({"u": "b", "v": "a", "bandwidth_bytes_per_s": 1.0, "latency_s": 1.0}), "links[3]", ["duplicate link"]),
    "negative bandwidth": (lambda d: d["links"][1].update(bandwidth_bytes_per_s=-5), "links[1].bandwidth_bytes_per_s", ["must be >= 1, got -5"]),
    "zero rate": (lambda d: d["demand"][0].update(rate_rps=0), "demand[0].rate_rps", ["must be >= 1e-09, got 0"]),
    "non-finite latency": (lambda d: d["links"][2].update(latency_s=float("inf")), "links[2].latency_s", ["finite"]),
    "nan size": (lambda d: d["models"][0]["layers"][1].update(out_bytes=float("nan")), "models[0].layers[1].out_bytes", ["finite"]),
    "negative size": (lambda d: d["models"][0].update(input_bytes=-1), "models[0].input_bytes", ["must be > 0"]),
    "zero slo": (lambda d: d["demand"][0].update(max_latency_s=0), "demand[0].max_latency_s", ["must be >= 1e-09"]),
    "max_utilization above 1": (lambda d: d["options"].update(max_utilization=1.5), "options.max_utilization", ["must be <= 1, got 1.5"]),
    "max_utilization zero": (lambda d: d["options"].update(max_utilization=0), "options.max_utilization", ["must be >= 1e-06"]),
    "unknown field": (lambda d: d["links"][0].update(bandwith_bps=1), "links[0].bandwith_bps", ["unknown field", "bandwidth_bytes_per_s"]),
    "old bandwidth field": (lambda d: d["links"][0].update(bandwidth_bps=d["links"][0].pop("bandwidth_bytes_per_s")), "links[0].bandwidth_bps", ["renamed", "bandwidth_bytes_per_s", "BYTES per second, not bits"]),
    "negative link latency": (lambda d: d["links"][0].update(latency_s=-0.001), "links[0].latency_s", ["must be >= 0"]),
    "wrong type": (lambda d: d["nodes"][0].update(memory_bytes="lots"), "nodes[0].memory_bytes", ["must be a number"]),
    "model without layers": (lambda d: d["models"][1].pop("layers"), "models[1]", ["give either 'layers' or 'profile'"]),
    "missing field": (lambda d: d["demand"][0].pop("rate_rps"), "demand[0].rate_rps", ["required field is missing"]),
    "task without any model": (lambda d: d["models"].__setitem__(slice(None), [m for m in d["models"] if False] or [dict(d["models"][0], task="other")]), "demand[0].task", ["no model serves task 't'"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_class(tmp_path, capsys, name):
    change, field, words = CASES[name]
    check_bad(tmp_path, capsys, mutated(change), field, words)


def test_every_problem_reported_at_once(tmp_path, capsys):
    def many(d):
        d["links"][1]["bandwidth_bytes_per_s"] = -5
        d["links"][2]["v"] = "nowhere"
        d["demand"][0]["rate_rps"] = -1
        d["nodes"][2]["device"] = "nope"

    err = check_bad(tmp_path, capsys, mutated(many), "links[1].bandwidth_bytes_per_s", ["-5"])
    for field in ("links[2].v", "demand[0].rate_rps", "nodes[2].device"):
        assert field in err
    assert "4 problems" in err


def test_layer_without_latency_on_device_type_without_throughput(tmp_path, capsys):
    def npu(d):
        d["devices"]["npu"] = {"memory_bytes": 1.0e9, "active_power_w": 2.0}
        d["nodes"][3]["device"] = "npu"
        for layer in d["models"][0]["layers"]:
            layer["latency_s"] = {"npu": 0.001}
        del d["models"][0]["layers"][2]["latency_s"]

    err = check_bad(tmp_path, capsys, mutated(npu), "models[0].layers[2].latency_s", ["'npu'", "no throughput"])
    assert "models[1].layers[0].latency_s" in err  # the other model gives no latency at all


def test_new_device_type_needs_memory_and_power(tmp_path, capsys):
    def dev(d):
        d["devices"]["board"] = {"peak_flops": 1.0e9}
        d["nodes"][0]["device"] = "board"

    err = check_bad(tmp_path, capsys, mutated(dev), "devices.board.memory_bytes", ["required"])
    assert "devices.board.active_power_w" in err


def test_origin_that_cannot_reach_a_serving_node(tmp_path, capsys):
    def island(d):
        d["nodes"].append({"id": "lonely", "device": "slow"})
        d["demand"].append({"origin": "lonely", "task": "t", "rate_rps": 1.0, "max_latency_s": 1.0})
        d["devices"]["slow"]["memory_bytes"] = 1.0  # too small for any model
        for node in d["nodes"][2:4]:
            node["memory_bytes"] = 1.0

    check_bad(tmp_path, capsys, mutated(island), "demand[2].origin", ["'lonely' cannot reach"])


def test_reachable_with_a_split_is_accepted(tmp_path):
    # neither c nor d alone holds model m (60 B), but together they do (max_segments 3)
    def tight(d):
        d["nodes"][0]["memory_bytes"] = 1.0
        d["nodes"][1]["memory_bytes"] = 1.0
        d["nodes"][2]["memory_bytes"] = 35.0
        d["nodes"][3]["memory_bytes"] = 30.0
        d["models"] = d["models"][:1]

    inst = load_instance(write_yaml(tmp_path / "ok.yaml", mutated(tight)))
    assert inst.nodes[3].memory_bytes == 30.0


def test_malformed_yaml_gives_line_and_column(tmp_path, capsys):
    check_bad(tmp_path, capsys, "name: x\nnodes: [\n  - a\n", "malformed YAML", ["line 3, column 3"])


def test_duplicate_yaml_key(tmp_path, capsys):
    check_bad(tmp_path, capsys, "name: x\nname: y\n", "duplicate key", ["'name'", "line 1"])


def test_malformed_json_gives_line_and_column(tmp_path, capsys):
    check_bad(tmp_path, capsys, '{"name": "x",\n "nodes": [1,]}', "malformed JSON", ["line 2, column 14"], suffix="json")


def test_missing_and_empty_files(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "none.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "empty.yaml").write_text("\n")
    assert main(["validate", str(tmp_path / "empty.yaml")]) == 2
    assert "empty" in capsys.readouterr().err
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    assert main(["validate", str(tmp_path / "list.yaml")]) == 2
    assert "mapping at the top level" in capsys.readouterr().err


def test_missing_profile_file_named(tmp_path, capsys):
    def prof(d):
        del d["models"][1]["layers"]
        d["models"][1]["profile"] = "profiles/nope.json"

    check_bad(tmp_path, capsys, mutated(prof), "models[1].profile", ["profile file not found"])


def test_bad_profile_file_names_profile_and_field(tmp_path, capsys):
    (tmp_path / "p.json").write_text('{"model": "x", "input_bytes": 10, "layers": [{"name": "a", "macs": 1, "param_bytes": 1, "out_bytes": -3}]}')

    def prof(d):
        del d["models"][1]["layers"]
        d["models"][1]["profile"] = "p.json"

    check_bad(tmp_path, capsys, mutated(prof), "layers[0].out_bytes", ["must be > 0", "profile of models[1]"], file=tmp_path / "p.json")


def test_yaml12_floats_and_loader_errors_are_input_errors(tmp_path):
    data = mutated(lambda d: None)
    path = write_yaml(tmp_path / "x.yaml", data)
    text = path.read_text().replace("10000.0", "1e4")
    path.write_text(text)
    assert load_instance(path).links[0].bandwidth_bytes_per_s == 1e4
    with pytest.raises(InputError) as exc:
        load_instance(tmp_path / "missing.yaml")
    assert exc.value.exit_code == 2
