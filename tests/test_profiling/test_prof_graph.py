"""The profile's graph section: consistent with the chain, loadable, and what dag-mincut partitions."""

from __future__ import annotations

import collections

import pytest

torch = pytest.importorskip("torch")

import prof_models as models  # noqa: E402
from helpers import instance_from_data  # noqa: E402

from profiling import NO_TIMING, profile_model, read_profile, write_profile  # noqa: E402
from solvers.mincut import min_cut_partition, partition_cost  # noqa: E402


def test_branchy_graph_by_hand():
    p = profile_model(models.Branchy(), (1, 3, 8, 8), timing=NO_TIMING, devices=["rpi4"])
    g = {n.name: n for n in p.graph.nodes}
    assert g["a"].inputs == ["input"] and g["b"].inputs == ["input"]
    assert g["a"].macs == 8 * 8 * 4 * 3 * 9 and g["b"].macs == 8 * 8 * 2 * 3
    assert g["a"].out_bytes == 4 * 8 * 8 * 4 and g["b"].out_bytes == 2 * 8 * 8 * 4
    assert g["a"].param_bytes == 4 * 3 * 9 * 4
    cat = next(n for n in p.graph.nodes if n.name.startswith("cat"))
    assert cat.inputs == ["a", "b"] and cat.out_bytes == 6 * 8 * 8 * 4
    assert p.graph.nodes[-1].name == "fc" and p.graph.nodes[-1].out_bytes == 40


@pytest.mark.parametrize("name", ["Branchy", "Skip"])
def test_graph_sums_to_the_chain(name):
    model = getattr(models, name)()
    shape = (1, 3, 8, 8) if name == "Branchy" else (1, 4, 6, 6)
    p = profile_model(model, shape, timing=NO_TIMING, devices=["cortex-m7", "rpi4", "a100"])
    nodes = p.graph.nodes
    assert sum(n.macs for n in nodes) == p.macs
    assert sum(n.param_bytes for n in nodes) == p.param_bytes
    per_layer = collections.defaultdict(lambda: collections.defaultdict(float))
    for n in nodes:
        for d, t in n.latency_s.items():
            per_layer[n.layer][d] += t
    for i, lay in enumerate(p.layers):
        for d in ("cortex-m7", "rpi4", "a100"):
            assert per_layer[i][d] == pytest.approx(lay.latency_s[d], rel=1e-5, abs=1e-12)
    assert [n.layer for n in nodes] == sorted(n.layer for n in nodes)
    assert nodes[-1].layer == len(p.layers) - 1


def test_resnet18_graph_round_trips_and_min_cut_is_no_worse_than_chain(tmp_path):
    p = profile_model("torchvision:resnet18", (1, 3, 224, 224), timing=NO_TIMING, devices=["rpi4", "a100"])
    path = tmp_path / "r18.json"
    write_profile(p, path)
    assert read_profile(path).graph == p.graph
    assert sum(n.macs for n in p.graph.nodes) == p.macs
    data = {
        "name": "r18",
        "nodes": [{"id": "pi", "device": "rpi4"}, {"id": "gpu", "device": "a100", "tier": "edge"}],
        "links": [{"u": "pi", "v": "gpu", "bandwidth_bytes_per_s": 2e6, "latency_s": 0.01, "energy_j_per_byte": 1e-7}],
        "models": [{"id": "r18", "task": "cls", "accuracy": 0.7, "input_bytes": p.input_bytes, "profile": str(path)}],
        "demand": [{"origin": "pi", "task": "cls", "rate_rps": 0.1, "max_latency_s": 100.0}],
        "options": {"max_segments": 2},
    }
    inst = instance_from_data(data, tmp_path)
    model, demand = inst.models["r18"], inst.demands[0]
    cut = min_cut_partition(inst, model, demand, "gpu")
    # every chain prefix is a graph partition, so the min cut is at most the best of them
    layer = {n.name: n.layer for n in model.graph.nodes}
    best_chain = min(
        partition_cost(inst, model, demand, "gpu", {n for n, li in layer.items() if li < c})[0] for c in range(len(model.layers))
    )
    assert cut.cost <= best_chain * (1 + 1e-9)
