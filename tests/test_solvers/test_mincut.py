"""dag-mincut: the minimum s-t cut against exhaustive enumeration of graph partitions."""

from __future__ import annotations

import itertools
import random

import pytest
from helpers import instance_from_data

from solvers import solve
from solvers.mincut import min_cut_partition, partition_cost


def dag_instance(seed: int) -> dict:
    rng = random.Random(seed)
    k = rng.randint(2, 9)
    nodes = []
    for i in range(k):
        pool = ["input"] + [n["name"] for n in nodes]
        inputs = sorted(set(rng.sample(pool, min(len(pool), rng.choice([1, 1, 2])))))
        nodes.append({"name": f"op{i}", "inputs": inputs, "macs": float(rng.choice([1e4, 1e5, 1e6])),
                      "param_bytes": 10.0, "out_bytes": float(rng.choice([100, 2000, 20000])), "layer": i})
    if k > 1:  # the output reads the last node so the graph ends there
        nodes[-1]["inputs"] = sorted(set(nodes[-1]["inputs"]) | {nodes[-2]["name"]})
    layers = [{"name": n["name"], "macs": n["macs"], "param_bytes": 10.0, "out_bytes": 1.0} for n in nodes]
    # chain out_bytes: every tensor live across the cut after layer i
    for i in range(k):
        live = {s for n in nodes[i + 1:] for s in n["inputs"] if s == "input" or int(s[2:]) <= i}
        size = {"input": 50000.0, **{n["name"]: n["out_bytes"] for n in nodes}}
        layers[i]["out_bytes"] = sum(size[s] for s in live) if i < k - 1 else nodes[-1]["out_bytes"]
    return {
        "name": f"dag{seed}",
        "devices": {"dev": {"effective_macs_per_s": 1e7, "memory_bytes": None, "active_power_w": 1.0},
                    "srv": {"effective_macs_per_s": 1e9, "memory_bytes": None, "active_power_w": 100.0}},
        "nodes": [{"id": "phone", "device": "dev"}, {"id": "edge", "device": "srv", "tier": "edge"}],
        "links": [{"u": "phone", "v": "edge", "bandwidth_bytes_per_s": rng.choice([1e5, 1e6]), "latency_s": 0.005, "energy_j_per_byte": 1e-7}],
        "models": [{"id": "net", "task": "t", "accuracy": 0.8, "input_bytes": 50000.0, "layers": layers, "graph": {"nodes": nodes}}],
        "demand": [{"origin": "phone", "task": "t", "rate_rps": 0.1, "max_latency_s": 100.0}],
        "objective": {"weights": {"latency": 1.0, "inaccuracy": 1.0, "energy": rng.choice([0.0, 0.01])}},
        "options": {"max_segments": 2},
    }


def down_sets(nodes):
    """Every set of graph nodes closed under predecessors, without the output."""
    names = [n.name for n in nodes[:-1]]
    preds = {n.name: set(n.inputs) - {"input"} for n in nodes}
    for bits in itertools.product([False, True], repeat=len(names)):
        chosen = {n for n, b in zip(names, bits) if b}
        if all(preds[n] <= chosen for n in chosen):
            yield chosen


@pytest.mark.parametrize("seed", range(40))
def test_min_cut_equals_exhaustive_partitions(tmp_path, seed):
    inst = instance_from_data(dag_instance(seed), tmp_path)
    model, demand = inst.models["net"], inst.demands[0]
    cut = min_cut_partition(inst, model, demand, "edge")
    best = min(partition_cost(inst, model, demand, "edge", s)[0] for s in down_sets(model.graph.nodes))
    assert cut.cost == pytest.approx(best, rel=1e-9)


def test_graph_cut_finds_a_partition_the_chain_misses(tmp_path):
    # two branches from the input; the chain visits branch a fully before branch b,
    # so no prefix holds the two cheap, shrinking first operators without the heavy a2
    data = dag_instance(0)
    data["models"][0]["graph"]["nodes"] = [
        {"name": "a1", "inputs": ["input"], "macs": 1e4, "out_bytes": 500.0, "layer": 0},
        {"name": "a2", "inputs": ["a1"], "macs": 5e7, "out_bytes": 500.0, "layer": 1},
        {"name": "b1", "inputs": ["input"], "macs": 1e4, "out_bytes": 500.0, "layer": 2},
        {"name": "b2", "inputs": ["b1"], "macs": 5e7, "out_bytes": 500.0, "layer": 3},
        {"name": "c", "inputs": ["a2", "b2"], "macs": 1e4, "out_bytes": 4000.0, "layer": 4},
    ]
    data["models"][0]["layers"] = [
        {"name": "a1", "macs": 1e4, "param_bytes": 1, "out_bytes": 50500.0},
        {"name": "a2", "macs": 5e7, "param_bytes": 1, "out_bytes": 50500.0},
        {"name": "b1", "macs": 1e4, "param_bytes": 1, "out_bytes": 1000.0},
        {"name": "b2", "macs": 5e7, "param_bytes": 1, "out_bytes": 1000.0},
        {"name": "c", "macs": 1e4, "param_bytes": 1, "out_bytes": 4000.0},
    ]
    data["links"][0]["bandwidth_bytes_per_s"] = 1e5
    inst = instance_from_data(data, tmp_path)
    cut = min_cut_partition(inst, inst.models["net"], inst.demands[0], "edge")
    assert set(cut.device_nodes) == {"a1", "b1"} and cut.chain_cut is None
    plan = solve(inst, "dag-mincut")
    entry = plan.stats["classes"][0]
    assert entry["graph_latency_s"] < entry["chain_latency_s"]
    assert entry["speedup_vs_chain"] > 1.5
    assert "no prefix of the chain" in plan.notes[0]


def test_model_without_graph_is_explained(tmp_path, line_instance):
    from placement import InputError

    with pytest.raises(InputError, match="has no graph"):
        min_cut_partition(line_instance, line_instance.models["m"], line_instance.demands[0], "d")


def test_graph_layers_must_follow_the_chain(tmp_path, capsys):
    from helpers import write_yaml

    from placement.cli import main

    data = dag_instance(3)
    data["models"][0]["graph"]["nodes"][-1]["layer"] = 0
    path = write_yaml(tmp_path / "bad.yaml", data)
    assert main(["validate", str(path)]) == 2
    assert "from the later layer" in capsys.readouterr().err
