"""dag-mincut: the minimum s-t cut against exhaustive enumeration of graph partitions."""

from __future__ import annotations

import itertools
import random

import pytest
from helpers import INSTANCES, instance_from_data

from placement.evaluate import evaluate
from placement.graphroute import graph_route_figures
from solvers import solve
from solvers.downsets import enumerate_partitions
from solvers.graphcut import best_partition, min_cut_partition, partition_cost


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
    """Every device set of the partition space, by brute force: down-sets without the output, and all nodes."""
    names = [n.name for n in nodes[:-1]]
    preds = {n.name: set(n.inputs) - {"input"} for n in nodes}
    for bits in itertools.product([False, True], repeat=len(names)):
        chosen = {n for n, b in zip(names, bits) if b}
        if all(preds[n] <= chosen for n in chosen):
            yield chosen
    yield {n.name for n in nodes}


@pytest.mark.parametrize("seed", range(40))
def test_min_cut_equals_exhaustive_partitions(tmp_path, seed):
    inst = instance_from_data(dag_instance(seed), tmp_path)
    model, demand = inst.models["net"], inst.demands[0]
    cut = best_partition(inst, model, demand, "edge")
    sets = list(down_sets(model.graph.nodes))
    best = min(partition_cost(inst, model, demand, "edge", s)[0] for s in sets)
    assert cut.cost == pytest.approx(best, rel=1e-12)
    # the cut's own partition is a down-set and costs what it says
    assert cut.on_device in sets
    # the dynamic-programming enumeration agrees with brute force, count included
    dp = enumerate_partitions(inst, model, demand, "edge")
    assert dp.partitions == len(sets)
    assert dp.cost == pytest.approx(best, rel=1e-12)
    assert partition_cost(inst, model, demand, "edge", set(dp.on_device))[0] == pytest.approx(best, rel=1e-12)


def two_branch_data() -> dict:
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
    return data


def test_plan_carries_the_graph_partition_the_chain_misses(tmp_path):
    inst = instance_from_data(two_branch_data(), tmp_path)
    cut = min_cut_partition(inst, inst.models["net"], inst.demands[0], "edge")
    assert set(cut.device_ops) == {"a1", "b1"} and cut.chain_cut is None
    plan = solve(inst, "dag-mincut")
    segs = plan.routes[0].segments
    assert [(s.node, s.ops) for s in segs] == [("phone", ["a1", "b1"]), ("edge", ["a2", "b2", "c"])]
    assert all(s.layers is None for s in segs)
    # chain layers holding the operators: a1 is layer 0, b1 layer 2 on the phone
    assert plan.storage == {"edge": {"net": [(1, 1), (3, 4)]}, "phone": {"net": [(0, 0), (2, 2)]}}
    ev = evaluate(inst, plan)
    assert ev.feasible and not ev.mismatches
    assert plan.routes[0].latency_s == pytest.approx(cut.latency_s, rel=1e-12)
    entry = plan.stats["classes"][0]
    assert entry["chosen"] == "graph" and entry["graph_latency_s"] < entry["chain_latency_s"] / 1.5
    assert "carries it as `ops` segments" in plan.notes[0]


def test_solve_prints_graph_segments(tmp_path, capsys):
    from helpers import write_yaml

    from placement.cli import main

    path = write_yaml(tmp_path / "two.yaml", two_branch_data())
    out = tmp_path / "plan.json"
    assert main(["solve", str(path), "--method", "dag-mincut", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "phone{2 ops: a1..b1} -> edge{3 ops: a2..c}" in text
    assert '"ops": [' in out.read_text()
    assert main(["evaluate", str(path), str(out)]) == 0
    assert "phone{2 ops: a1..b1}" in capsys.readouterr().out


def test_falls_back_to_the_chain_when_the_partition_does_not_fit(tmp_path):
    data = two_branch_data()
    for i, layer in enumerate(data["models"][0]["layers"]):
        layer["param_bytes"] = 100.0 if i == 2 else 1.0  # b1's layer does not fit the phone
    data["nodes"][0]["memory_bytes"] = 50.0
    inst = instance_from_data(data, tmp_path)
    plan = solve(inst, "dag-mincut")
    assert all(s.layers is not None for s in plan.routes[0].segments)
    assert plan.stats["classes"][0]["chosen"] == "chain"
    assert any("plan keeps a chain cut" in n for n in plan.notes)
    assert evaluate(inst, plan).feasible


def test_all_on_device_is_part_of_the_search(tmp_path):
    data = two_branch_data()
    data["links"][0]["bandwidth_bytes_per_s"] = 10.0  # sending anything costs minutes
    data["demand"][0]["rate_rps"] = 0.01  # the phone computes the whole model (10 s) within its utilization cap
    inst = instance_from_data(data, tmp_path)
    model, demand = inst.models["net"], inst.demands[0]
    cut = best_partition(inst, model, demand, "edge")
    assert cut.server_ops == () and cut.chain_cut == model.n_layers
    assert cut.cost < min_cut_partition(inst, model, demand, "edge").cost
    plan = solve(inst, "dag-mincut")
    assert [(s.node, s.layers) for s in plan.routes[0].segments] == [("phone", (0, 4))]


def test_model_without_graph_is_explained(tmp_path, line_instance):
    from placement import InputError

    with pytest.raises(InputError, match="has no graph"):
        min_cut_partition(line_instance, line_instance.models["m"], line_instance.demands[0], "d")
    from solvers import MethodError

    with pytest.raises(MethodError, match=r"no model of instance 'line' has one .*`idnplan profile`"):
        solve(line_instance, "dag-mincut")


def test_models_without_a_graph_beside_one_with_are_noted(tmp_path):
    data = two_branch_data()
    plain = {k: v for k, v in data["models"][0].items() if k != "graph"}
    data["models"].append({**plain, "id": "plain"})
    plan = solve(instance_from_data(data, tmp_path), "dag-mincut")
    assert any("'plain' has no graph" in n for n in plan.notes)


def test_graph_layers_must_follow_the_chain(tmp_path, capsys):
    from helpers import write_yaml

    from placement.cli import main

    data = dag_instance(3)
    data["models"][0]["graph"]["nodes"][-1]["layer"] = 0
    path = write_yaml(tmp_path / "bad.yaml", data)
    assert main(["validate", str(path)]) == 2
    assert "from the later layer" in capsys.readouterr().err


# -- the shipped profiles at realistic magnitudes --------------------------------------------

PROFILES = sorted(p.stem for p in (INSTANCES / "profiles").glob("*.json"))
MBIT_PER_S = [0.1, 1, 10, 30, 100, 1000]  # bytes/s = Mbit/s x 1.25e5
PAIRS = [("rpi4", "x86-server", 0.0), ("jetson-nano", "a100", 0.01)]  # device, server, energy weight


def profile_instance(tmp_path, profile: str, device: str, server: str, w_energy: float = 0.0, link_latency_s: float = 0.0):
    """One device and one server per bandwidth of MBIT_PER_S (``srv0`` ... ``srv5``), the profile as the only model."""
    from placement.fileio import read_document

    prof, _ = read_document(INSTANCES / "profiles" / f"{profile}.json")
    data = {
        "name": f"{profile}-{device}-{server}",
        "nodes": [{"id": "dev", "device": device, "memory_bytes": None}]
        + [{"id": f"srv{k}", "device": server, "tier": "edge", "memory_bytes": None} for k in range(len(MBIT_PER_S))],
        "links": [{"u": "dev", "v": f"srv{k}", "bandwidth_bytes_per_s": mbit * 1.25e5, "latency_s": link_latency_s, "energy_j_per_byte": 1e-7}
                  for k, mbit in enumerate(MBIT_PER_S)],
        "models": [{"id": profile, "task": "cls", "accuracy": prof["accuracy"], "input_bytes": prof["input_bytes"],
                    "profile": str(INSTANCES / "profiles" / f"{profile}.json")}],
        "demand": [{"origin": "dev", "task": "cls", "rate_rps": 1e-3, "max_latency_s": 1e4}],
        "objective": {"weights": {"latency": 1.0, "inaccuracy": 0.0, "energy": w_energy}},
        "options": {"max_segments": 2, "max_utilization": 1.0},
    }
    return instance_from_data(data, tmp_path)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
@pytest.mark.parametrize("profile", PROFILES)
def test_min_cut_equals_exhaustive_enumeration_on_shipped_profiles(tmp_path, profile, pair):
    inst = profile_instance(tmp_path, profile, *pair)
    model, demand = inst.models[profile], inst.demands[0]
    for k, mbit in enumerate(MBIT_PER_S):
        cut = best_partition(inst, model, demand, f"srv{k}")
        oracle = enumerate_partitions(inst, model, demand, f"srv{k}")
        assert cut.cost == pytest.approx(oracle.cost, rel=1e-12), f"{profile} at {mbit} Mbit/s"
        assert oracle.partitions >= model.graph.nodes.__len__() + 1  # at least every chain cut of the graph order


def test_mobilenet_v2_regression_from_the_issue(tmp_path):
    # rpi4 -> x86-server at 30 Mbit/s: float capacities gave a 94.0 ms cut with 16 operators on
    # the device; the minimum is 42.8 ms with 59 (at 0.1 Mbit/s: 24,417 ms instead of 790 ms)
    inst = profile_instance(tmp_path, "mobilenet_v2", "rpi4", "x86-server")
    model, demand = inst.models["mobilenet_v2"], inst.demands[0]
    cut = min_cut_partition(inst, model, demand, "srv3")
    assert cut.latency_s == pytest.approx(0.0428459, rel=1e-5) and len(cut.device_ops) == 59
    slow = min_cut_partition(inst, model, demand, "srv0")
    assert slow.latency_s == pytest.approx(0.7904152, rel=1e-5)
    # counting all-on-device (61.4 ms here), the best partitions are the exhaustive optima
    assert best_partition(inst, model, demand, "srv0").latency_s == pytest.approx(0.0614418, rel=1e-5)
    for k in (0, 3):
        assert best_partition(inst, model, demand, f"srv{k}").cost == pytest.approx(
            enumerate_partitions(inst, model, demand, f"srv{k}").cost, rel=1e-12)


@pytest.mark.parametrize("profile", ["mobilenet_v2", "resnet18", "vit_b_16"])
def test_plan_is_the_exhaustive_optimum_and_no_worse_than_chain_cuts(tmp_path, profile):
    inst = profile_instance(tmp_path, profile, "rpi4", "x86-server")
    model, demand = inst.models[profile], inst.demands[0]
    for k in range(len(MBIT_PER_S)):
        plan = solve(inst, "dag-mincut", server=f"srv{k}")
        chain = solve(inst, "two-tier", server=f"srv{k}")
        assert plan.objective <= chain.objective * (1 + 1e-12)
        # graph and chain latencies of the same cut agree to the profile's rounding (1e-5)
        assert plan.objective == pytest.approx(enumerate_partitions(inst, model, demand, f"srv{k}").cost, rel=1e-5)


def test_two_classes_share_capacity_and_storage_of_graph_routes(tmp_path):
    data = two_branch_data()
    data["demand"].append({**data["demand"][0], "rate_rps": 0.05})
    inst = instance_from_data(data, tmp_path)
    plan = solve(inst, "dag-mincut")
    assert [r.segments[0].ops for r in plan.routes] == [["a1", "b1"], ["a1", "b1"]]
    assert plan.storage["phone"] == {"net": [(0, 0), (2, 2)]}
    ev = evaluate(inst, plan)
    assert ev.feasible and not ev.mismatches
    per_request = graph_route_figures(inst, 0, "net", plan.routes[0].segments).compute_s["edge"]
    assert ev.nodes["edge"]["utilization"] == pytest.approx((0.1 + 0.05) * per_request)
