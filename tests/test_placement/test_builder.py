"""InstanceBuilder: the same instance as the file format, validated the same way."""

from __future__ import annotations

import pytest
from helpers import INSTANCES, line_instance_data

from placement import InputError, load_instance
from placement.builder import InstanceBuilder
from placement.evaluate import evaluate


def _line_builder() -> InstanceBuilder:
    d = line_instance_data()
    b = InstanceBuilder(d["name"])
    for name, dev in d["devices"].items():
        b.add_device(name, **dev)
    for n in d["nodes"]:
        b.add_node(**n)
    for link in d["links"]:
        b.add_link(**link)
    for m in d["models"]:
        b.add_model(**m)
    for dem in d["demand"]:
        b.add_demand(**dem)
    if "objective" in d:
        b.set_weights(**d["objective"]["weights"])
    if "options" in d:
        b.set_options(**d["options"])
    return b


def test_builder_matches_the_file_format(tmp_path):
    from helpers import write_yaml

    b = _line_builder()
    built = b.build()
    from_file = load_instance(write_yaml(tmp_path / "line.yaml", line_instance_data())).spec
    assert built.model_dump() == from_file.model_dump()
    b.save(tmp_path / "saved.yaml")
    again = load_instance(tmp_path / "saved.yaml")
    assert again.spec.model_dump(exclude={"objective", "options"}) == built.model_dump(exclude={"objective", "options"})
    assert again.network.path("a", "d") == ("a", "b", "c", "d")


def test_builder_reports_every_problem():
    b = InstanceBuilder("bad")
    b.add_node("a", "no-such-device")
    b.add_link("a", "ghost", bandwidth_bytes_per_s=-1.0, latency_s=0.01)
    b.add_model("m", "t", accuracy=0.5, input_bytes=10, layers=[{"name": "l", "macs": 1.0, "param_bytes": 1.0, "out_bytes": 1.0}])
    b.add_demand("a", "other-task", rate_rps=1.0, max_latency_s=1.0)
    with pytest.raises(InputError) as err:
        b.build()
    text = "\n".join(str(p) for p in err.value.problems)
    assert "bandwidth_bytes_per_s" in text
    assert "no-such-device" in text
    assert "ghost" in text
    assert "other-task" in text


def test_builder_solves_and_resolves_profiles(tmp_path):
    from solvers import solve

    b = InstanceBuilder("prof")
    b.add_node("cam", "rpi5", tier="device").add_node("cloud", "a100", tier="cloud", memory_bytes=None)
    b.add_link("cam", "cloud", bandwidth_bytes_per_s=1.25e6, latency_s=0.02)
    b.add_model("resnet18", "imagenet-cls", accuracy=0.6976, input_bytes=602112, profile=INSTANCES / "profiles" / "resnet18.json")
    b.add_demand("cam", "imagenet-cls", rate_rps=1.0, max_latency_s=2.0)
    inst = b.instance()
    assert inst.models["resnet18"].n_layers == 22
    plan = solve(inst, method="greedy")
    ev = evaluate(inst, plan)
    assert ev.feasible and not ev.mismatches
    (tmp_path / "sub").mkdir()
    b.save(tmp_path / "sub" / "p.yaml")  # the relative profile path is rewritten for the new folder
    assert load_instance(tmp_path / "sub" / "p.yaml").models["resnet18"].n_layers == 22
