"""Generators: counts, link classes, backbones, determinism; shipped instances load."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import INSTANCES

from placement import load_instance
from placement.cli import main
from placement.generate import GeneratorConfig, generate, read_topology
from placement.generate.links import LINK_CLASSES


def gen(tmp_path, *args, name="g.yaml"):
    out = tmp_path / name
    assert main(["generate", *args, "--out", str(out)]) == 0
    return out


def test_tiered_counts_tiers_and_links(tmp_path, capsys):
    out = gen(tmp_path, "tiered", "--fanout", "2,3,2,4", "--tasks", "2", "--models-per-task", "2", "--layers", "5")
    inst = load_instance(out)
    tiers = [n.tier for n in inst.nodes]
    assert tiers.count("cloud") == 1 and tiers.count("regional") == 2
    assert tiers.count("edge") == 6 and tiers.count("access") == 12 and tiers.count("device") == 48
    assert len(inst.links) == len(inst.nodes) - 1  # a tree
    assert len(inst.models) == 4 and all(m.n_layers == 5 for m in inst.models.values())
    assert {d.origin for d in inst.demands} == {n.id for n in inst.nodes if n.tier == "device"}
    kinds = {l.kind for l in inst.spec.links}
    assert kinds <= set(LINK_CLASSES)
    wifi = LINK_CLASSES["wifi"]
    dev_link = next(l for l in inst.spec.links if l.u.startswith("device"))
    assert (dev_link.bandwidth_bytes_per_s, dev_link.latency_s) == (wifi.bandwidth_bytes_per_s, wifi.latency_s)
    assert "wrote" in capsys.readouterr().out


def test_same_seed_same_file_other_seed_other_file(tmp_path):
    args = ["waxman", "--backbone-nodes", "6", "--fanout", "2,3", "--classes-per-origin", "2", "--name", "w"]
    a = gen(tmp_path, *args, "--seed", "7", name="a.yaml").read_bytes()
    b = gen(tmp_path, *args, "--seed", "7", name="b.yaml").read_bytes()
    c = gen(tmp_path, *args, "--seed", "8", name="c.yaml").read_bytes()
    assert a == b
    assert a != c


def test_device_and_link_choices_per_tier(tmp_path):
    out = gen(tmp_path, "tiered", "--fanout", "2,5", "--tiers", "edge,device",
              "--devices", "device=cortex-m4+esp32-s3", "--links", "device=ble", "--cloud-device", "h100")
    inst = load_instance(out)
    assert inst.node["cloud0"].device.name == "h100"
    devs = {n.device.name for n in inst.nodes if n.tier == "device"}
    assert devs <= {"cortex-m4", "esp32-s3"}
    assert all(l.kind == "ble" for l in inst.spec.links if l.u.startswith("device"))


def test_demand_zipf_and_ranges(tmp_path):
    out = gen(tmp_path, "tiered", "--fanout", "3,20", "--tiers", "edge,device", "--tasks", "4",
              "--classes-per-origin", "2", "--rate", "1,3", "--slo", "0.5,0.6", "--min-accuracy", "0.1,0.2", "--zipf", "1.2")
    inst = load_instance(out)
    per_origin = {}
    for d in inst.demands:
        per_origin.setdefault(d.origin, []).append(d)
        assert 0.5 <= d.max_latency_s <= 0.6 and 0.1 <= d.min_accuracy <= 0.2
    assert all(len(v) == 2 and len({d.task for d in v}) == 2 for v in per_origin.values())
    totals = [sum(d.rate_rps for d in v) for v in per_origin.values()]
    assert all(1 - 1e-6 <= t <= 3 + 1e-6 for t in totals)
    counts = {t: sum(d.task == t for d in inst.demands) for t in inst.tasks}
    assert counts["task0"] >= counts["task3"]  # the most popular task is picked most


def test_barabasi_albert_backbone(tmp_path):
    inst = load_instance(gen(tmp_path, "barabasi-albert", "--backbone-nodes", "8", "--m", "2", "--fanout", "1,2"))
    backbone = [n for n in inst.nodes if n.id.startswith("bb")]
    assert len(backbone) == 8
    bb_links = [l for l in inst.spec.links if l.u.startswith("bb") and l.v.startswith("bb")]
    assert len(bb_links) == (8 - 2) * 2  # BA: m edges per node after the first m
    assert len(inst.nodes) == 8 + 1 + 8 * (1 + 2)


def test_topology_file_backbone_uses_coordinates(tmp_path):
    topo = INSTANCES / "topologies" / "abilene.gml"
    g, warnings = read_topology(topo)
    assert g.number_of_nodes() == 11 and g.number_of_edges() == 14 and not warnings
    inst = load_instance(gen(tmp_path, "topology", str(topo), "--fanout", "1,2"))
    link = next(l for l in inst.spec.links if {l.u, l.v} == {"bb-new-york", "bb-chicago"})
    # about 1,145 km of fibre at 2e5 km/s plus 0.5 ms of equipment
    assert link.latency_s == pytest.approx(1145 / 2e5 + 5e-4, rel=0.02)
    cloud_link = next(l for l in inst.spec.links if "cloud0" in (l.u, l.v))
    assert {cloud_link.u, cloud_link.v} - {"cloud0"}  # attached to one backbone PoP


def test_graphml_and_disconnected_topology(tmp_path):
    import networkx as nx

    g = nx.Graph()
    g.add_edges_from([("A", "B"), ("B", "C"), ("X", "Y")])
    g.add_edge("C", "C")
    nx.write_graphml(g, tmp_path / "t.graphml")
    h, warnings = read_topology(tmp_path / "t.graphml")
    assert h.number_of_nodes() == 3
    assert any("self-loop" in w for w in warnings) and any("largest connected component" in w for w in warnings)


def test_bad_generator_input_exit_2(tmp_path, capsys):
    assert main(["generate", "tiered", "--fanout", "2,x", "--out", str(tmp_path / "x.yaml")]) == 2
    assert "--fanout" in capsys.readouterr().err
    assert main(["generate", "tiered", "--fanout", "2,2", "--devices", "device=rpi3", "--out", str(tmp_path / "x.yaml")]) == 2
    assert "unknown device type 'rpi3'" in capsys.readouterr().err
    assert main(["generate", "tiered", "--fanout", "2,2", "--links", "device=carrier-pigeon", "--out", str(tmp_path / "x.yaml")]) == 2
    assert "unknown link class" in capsys.readouterr().err
    assert main(["generate", "topology", str(tmp_path / "none.gml"), "--out", str(tmp_path / "x.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "cfg.yaml").write_text("levels: []\nseed: 1\n")
    assert main(["generate", "config", str(tmp_path / "cfg.yaml"), "--out", str(tmp_path / "x.yaml")]) == 2
    assert "levels" in capsys.readouterr().err


def test_config_api_round_trip(tmp_path):
    cfg = GeneratorConfig.model_validate({"levels": [{"tier": "device", "fanout": 3, "devices": ["rpi4"], "link": "wifi"}], "seed": 3})
    spec1, _ = generate(cfg)
    spec2, _ = generate(cfg)
    assert spec1 == spec2
    assert len(spec1.nodes) == 4


@pytest.mark.parametrize("path", sorted(INSTANCES.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_instances_validate(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert "ok:" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["idn-100", "idn-1000"])
def test_shipped_generated_instances_are_reproducible(tmp_path, name):
    out = tmp_path / f"{name}.yaml"
    cfg = INSTANCES / "generators" / f"{name}.yaml"
    assert main(["generate", "config", str(cfg), "--out", str(out)]) == 0
    shipped = load_instance(INSTANCES / f"{name}.yaml").spec
    regenerated = load_instance(out).spec
    assert shipped.nodes == regenerated.nodes and shipped.demand == regenerated.demand
    assert [m.id for m in shipped.models] == [m.id for m in regenerated.models]
    assert Path(out).exists()
