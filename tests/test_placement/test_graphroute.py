"""Graph routes (plan segments with ``ops``): figures by hand, validation, storage, plan format, report."""

from __future__ import annotations

import json

import pytest
from helpers import instance_from_data

from placement.evaluate import evaluate
from placement.graphroute import GraphSegment, graph_route_figures
from placement.plan import Plan, PlanSegment, plan_json
from placement.report import routes_table
from placement.routes import RouteError


def diamond_data() -> dict:
    """a reads the input; b and c both read a; d reads b and c (the output).

    dev: 1e6 MAC/s, 1 W; srv: 1e8 MAC/s, 10 W; every link 1e4 B/s, 10 ms, 1e-6 J/B.
    Chain layers: one per operator, out_bytes = every tensor live across the cut.
    """
    ops = [
        {"name": "a", "inputs": ["input"], "macs": 1e3, "param_bytes": 1.0, "out_bytes": 100.0, "layer": 0},
        {"name": "b", "inputs": ["a"], "macs": 1e6, "param_bytes": 2.0, "out_bytes": 50.0, "layer": 1},
        {"name": "c", "inputs": ["a"], "macs": 2e6, "param_bytes": 4.0, "out_bytes": 30.0, "layer": 2},
        {"name": "d", "inputs": ["b", "c"], "macs": 1e5, "param_bytes": 8.0, "out_bytes": 10.0, "layer": 3},
    ]
    live = [100.0, 150.0, 80.0, 10.0]  # {a}, {a, b}, {b, c}, {d}
    layers = [{"name": o["name"], "macs": o["macs"], "param_bytes": o["param_bytes"], "out_bytes": b,
               "peak_activation_bytes": 10.0 * (i + 1)} for i, (o, b) in enumerate(zip(ops, live))]
    link = {"bandwidth_bytes_per_s": 1e4, "latency_s": 0.01, "energy_j_per_byte": 1e-6}
    return {
        "name": "diamond",
        "devices": {"dev": {"effective_macs_per_s": 1e6, "memory_bytes": None, "active_power_w": 1.0},
                    "srv": {"effective_macs_per_s": 1e8, "memory_bytes": None, "active_power_w": 10.0}},
        "nodes": [{"id": "phone", "device": "dev"}, {"id": "mid", "device": "srv"}, {"id": "edge", "device": "srv", "tier": "edge"}],
        "links": [{"u": "phone", "v": "mid", **link}, {"u": "mid", "v": "edge", **link}],
        "models": [{"id": "net", "task": "t", "accuracy": 0.8, "input_bytes": 1000.0, "layers": layers, "graph": {"nodes": ops}},
                   {"id": "plain", "task": "t", "accuracy": 0.8, "input_bytes": 1000.0, "layers": layers}],
        "demand": [{"origin": "phone", "task": "t", "rate_rps": 1.0, "max_latency_s": 10.0}],
        "objective": {"weights": {"latency": 1.0, "inaccuracy": 1.0, "energy": 0.5}},
        "options": {"max_segments": 3, "max_utilization": 1.0},
    }


@pytest.fixture
def diamond(tmp_path):
    return instance_from_data(diamond_data(), tmp_path)


def test_two_branch_route_by_hand(diamond):
    # a on the phone; b, c, d at mid. The tensor a is read by two server operators: sent once.
    fig = graph_route_figures(diamond, 0, "net", [GraphSegment("phone", ("a",)), GraphSegment("mid", ("b", "c", "d"))])
    assert fig.compute_s == pytest.approx({"phone": 1e-3, "mid": 0.01 + 0.02 + 1e-3})
    assert fig.link_bytes == {("phone", "mid"): 100.0, ("mid", "phone"): 10.0}
    assert fig.transfer_latency_s == pytest.approx((100 / 1e4 + 0.01) + (10 / 1e4 + 0.01))
    assert fig.latency_s == pytest.approx(0.032 + 0.031)
    assert fig.energy_j == pytest.approx(1e-3 * 1 + 0.031 * 10 + 110 * 1e-6)
    assert fig.cost(diamond) == pytest.approx(0.063 + 0.2 + 0.5 * fig.energy_j)
    assert fig.peak_activation_bytes == {"phone": 10.0, "mid": 40.0}
    assert fig.compute_source == "estimated"


def test_three_segments_send_what_is_live_across_each_boundary(diamond):
    # phone {a} -> mid {b} -> edge {c, d}: after segment 0, a is live (b and c read it);
    # after segment 1, a (read by c) and b (read by d) are live: 150 B, each tensor once
    fig = graph_route_figures(diamond, 0, "net", [GraphSegment("phone", ("a",)), GraphSegment("mid", ("b",)), GraphSegment("edge", ("c", "d"))])
    assert fig.link_bytes == {("phone", "mid"): 100.0, ("mid", "edge"): 150.0, ("edge", "mid"): 10.0, ("mid", "phone"): 10.0}
    assert fig.transfer_latency_s == pytest.approx(0.02 + 0.025 + 2 * 0.011)


def test_graph_route_equals_the_chain_route_of_the_same_cut(diamond):
    from placement.routes import Route, Segment, route_figures

    graph = graph_route_figures(diamond, 0, "net", [GraphSegment("phone", ("a", "b")), GraphSegment("edge", ("c", "d"))])
    chain = route_figures(diamond, Route(0, "net", (Segment("phone", 0, 1), Segment("edge", 2, 3))))
    assert graph.latency_s == pytest.approx(chain.latency_s, rel=1e-12)
    assert graph.energy_j == pytest.approx(chain.energy_j, rel=1e-12)
    assert graph.link_bytes == pytest.approx(chain.link_bytes)


@pytest.mark.parametrize("segments, message", [
    ([("phone", ["b"]), ("mid", ["a", "c", "d"])], "not closed under predecessors: 'b' reads 'a'"),
    ([("phone", ["a", "zz"]), ("mid", ["b", "c", "d"])], "has no operator 'zz'"),
    ([("phone", ["a", "b"]), ("mid", ["b", "c", "d"])], "'b' is computed twice"),
    ([("phone", ["a"]), ("mid", ["b", "d"])], "computed by no segment: c"),
    ([("phone", ["a", "b", "c", "d"]), ("mid", [])], "computes no operator"),
    ([("mid", ["b", "c", "d"]), ("phone", ["a"])], "not closed under predecessors"),
    ([("phone", ["a", "d"]), ("mid", ["b", "c"])], "not closed under predecessors"),
    ([("edge", ["a"]), ("mid", ["b", "c", "d"])], "is not on the path phone > mid"),
    ([("mid", ["a"]), ("mid", ["b", "c", "d"])], "in order along the path"),
])
def test_invalid_graph_routes_are_explained(diamond, segments, message):
    with pytest.raises(RouteError, match=message):
        graph_route_figures(diamond, 0, "net", [GraphSegment(n, tuple(o)) for n, o in segments])


def test_model_without_graph_cannot_name_ops(diamond):
    with pytest.raises(RouteError, match="model 'plain' has no graph.*idnplan profile"):
        graph_route_figures(diamond, 0, "plain", [GraphSegment("phone", ("a",))])


def graph_plan(storage: dict, segments: list[dict]) -> Plan:
    return Plan.model_validate({"instance": "diamond", "method": "hand", "status": "heuristic", "storage": storage,
                                "routes": [{"demand": 0, "model": "net", "share": 1.0, "segments": segments}]})


def test_evaluator_costs_ops_segments_and_checks_their_storage(diamond):
    segs = [{"node": "phone", "ops": ["a"]}, {"node": "mid", "ops": ["b", "c", "d"]}]
    ev = evaluate(diamond, graph_plan({"phone": {"net": [(0, 0)]}, "mid": {"net": [(1, 3)]}}, segs))
    assert ev.feasible, ev.violations
    assert ev.routes[0].latency_s == pytest.approx(0.063)
    assert ev.links["phone->mid"]["load_bytes_per_s"] == pytest.approx(100.0)
    assert ev.nodes["mid"]["memory_bytes"] == pytest.approx(14.0)
    ev = evaluate(diamond, graph_plan({"phone": {"net": [(0, 0)]}, "mid": {"net": [(1, 1), (3, 3)]}}, segs))
    assert [v.kind for v in ev.violations] == ["storage"]
    assert "node 'mid' computes layers 2 of model 'net'" in ev.violations[0].message


def test_evaluator_reports_invalid_ops_as_route_violations(diamond):
    ev = evaluate(diamond, graph_plan({}, [{"node": "phone", "ops": ["b"]}, {"node": "mid", "ops": ["a", "c", "d"]}]))
    assert ev.violations[0].kind == "route" and "not closed under predecessors" in ev.violations[0].message
    ev = evaluate(diamond, graph_plan({}, [{"node": "phone", "ops": ["a"]}, {"node": "mid", "layers": [1, 3]}]))
    assert ev.violations[0].kind == "route" and "not a mix" in ev.violations[0].message


def test_plan_segment_gives_layers_or_ops():
    with pytest.raises(ValueError, match="either 'layers'"):
        PlanSegment.model_validate({"node": "x"})
    with pytest.raises(ValueError, match="either 'layers'"):
        PlanSegment.model_validate({"node": "x", "layers": [0, 1], "ops": ["a"]})
    with pytest.raises(ValueError, match="must not be empty"):
        PlanSegment.model_validate({"node": "x", "ops": []})


def test_plan_json_keeps_chain_segments_unchanged_and_shows_ops(diamond):
    chain = graph_plan({}, [{"node": "phone", "layers": [0, 3]}])
    seg = json.loads(plan_json(chain))["routes"][0]["segments"][0]
    assert seg == {"node": "phone", "layers": [0, 3]}
    graph = graph_plan({}, [{"node": "phone", "ops": ["a"]}, {"node": "mid", "ops": ["b", "c", "d"]}])
    segs = json.loads(plan_json(graph))["routes"][0]["segments"]
    assert segs == [{"node": "phone", "ops": ["a"]}, {"node": "mid", "ops": ["b", "c", "d"]}]
    assert Plan.model_validate_json(plan_json(graph)) == graph
    assert "phone{1 op: a} -> mid{3 ops: b..d}" in routes_table(diamond, graph)
