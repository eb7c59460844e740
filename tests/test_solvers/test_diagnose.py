"""Infeasible instances are explained with the tightest reason and its numbers."""

from __future__ import annotations

import pytest
from helpers import instance_from_data, line_instance_data

from placement import InfeasibleError
from placement.cli import main
from solvers import solve


def reasons(tmp_path, change, method="milp"):
    data = line_instance_data()
    change(data)
    with pytest.raises(InfeasibleError) as exc:
        solve(instance_from_data(data, tmp_path), method)
    return exc.value.reasons


def test_accuracy_floor(tmp_path):
    r = reasons(tmp_path, lambda d: d["demand"][1].update(min_accuracy=0.9))
    assert r == ["demand class 1 (a/t, 1 req/s): no model of task 't' meets min_accuracy 0.9000 (best is 0.8000, model 'm')"]


def test_slo_gives_fastest_latency(tmp_path):
    def tight(d):
        d["demand"][0]["max_latency_s"] = 0.05
        d["models"] = d["models"][:1]

    r = reasons(tmp_path, tight)
    # the fastest route computes layer 0 on a and sends its 1000 B to c, which computes
    # the rest (test_routes: 0.286 s); sending the 2000 B input to c would take 0.297 s
    fastest = (1e5 / 1e6 + 5e5 / 1e8) + (1000 / 1e4 + 0.01 + 1000 / 1e5 + 0.02) + (100 / 1e5 + 0.02 + 100 / 1e4 + 0.01)
    assert r[0] == f"demand class 0 (a/t, 2 req/s): the fastest route takes {fastest * 1e3:.3f} ms > max_latency_s 50.000 ms"


def test_shared_memory_names_the_full_node(tmp_path):
    data = {
        "name": "mem",
        "devices": {"box": {"effective_macs_per_s": 1e8, "memory_bytes": 40.0, "active_power_w": 1.0}},
        "nodes": [{"id": "a", "device": "box"}],
        "links": [],
        "models": [
            {"id": "m1", "task": "t1", "accuracy": 0.9, "input_bytes": 10.0, "layers": [{"name": "x", "macs": 1e3, "param_bytes": 30.0, "out_bytes": 4.0}]},
            {"id": "m2", "task": "t2", "accuracy": 0.9, "input_bytes": 10.0, "layers": [{"name": "x", "macs": 1e3, "param_bytes": 30.0, "out_bytes": 4.0}]},
        ],
        "demand": [{"origin": "a", "task": "t1", "rate_rps": 1.0, "max_latency_s": 1.0}, {"origin": "a", "task": "t2", "rate_rps": 1.0, "max_latency_s": 1.0}],
    }
    with pytest.raises(InfeasibleError) as exc:
        solve(instance_from_data(data, tmp_path), "milp")
    text = "\n".join(exc.value.reasons)
    assert "parameter memory of node 'a' is full: 40 of 40 B" in text


def test_capacity_names_saturated_link_with_numbers(tmp_path):
    def heavy(d):
        d["models"] = d["models"][:1]
        d["demand"] = [{"origin": "a", "task": "t", "rate_rps": 40.0, "max_latency_s": 5.0}]
        d["options"]["max_utilization"] = 0.5

    r = reasons(tmp_path, heavy)
    text = "\n".join(r)
    assert "capacity does not serve all classes together" in text
    assert "saturated" in text
    assert "would need" in text


def test_cli_exit_3_and_no_plan_file(tmp_path, capsys):
    from helpers import write_yaml

    data = line_instance_data()
    data["demand"][0]["min_accuracy"] = 0.99
    path = write_yaml(tmp_path / "x.yaml", data)
    out = tmp_path / "plan.json"
    assert main(["solve", str(path), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "min_accuracy 0.9900" in err and "no feasible plan" in err
    assert not out.exists()


def _two_servers(routing: str) -> dict:
    return {
        "name": "two-servers",
        "devices": {
            "tiny": {"effective_macs_per_s": 1.0e6, "memory_bytes": 10.0, "active_power_w": 0.1},
            "srv": {"effective_macs_per_s": 1.0e7, "memory_bytes": 1.0e6, "active_power_w": 5.0},
        },
        "nodes": [{"id": "o", "device": "tiny"}, {"id": "s1", "device": "srv"}, {"id": "s2", "device": "srv"}],
        "links": [
            {"u": "o", "v": "s1", "bandwidth_bytes_per_s": 1.0e8, "latency_s": 0.001},
            {"u": "o", "v": "s2", "bandwidth_bytes_per_s": 1.0e8, "latency_s": 0.002},
        ],
        "models": [{"id": "m", "task": "t", "accuracy": 0.9, "input_bytes": 1000.0,
                    "layers": [{"name": "l0", "macs": 1.0e6, "param_bytes": 100.0, "out_bytes": 10.0}]}],
        "demand": [{"origin": "o", "task": "t", "rate_rps": 12.0, "max_latency_s": 1.0}],
        "options": {"routing": routing, "max_segments": 1, "max_utilization": 0.8},
    }


def test_one_route_rule_named_when_two_routes_would_fit(tmp_path):
    # each request takes 0.1 s on a server: 12 req/s need 1.2 of one server (cap 0.8) or 0.6 of each of two
    inst = instance_from_data(_two_servers("unsplittable"), tmp_path)
    with pytest.raises(InfeasibleError) as exc:
        solve(inst, "milp")
    text = " ".join(exc.value.reasons)
    assert "routing is unsplittable (one route per class)" in text
    assert "node 's1' at 1.200 utilization" in text
    assert "parameter memory" not in text
    plan = solve(instance_from_data(_two_servers("splittable"), tmp_path), "milp")
    assert {s.node for r in plan.routes for s in r.segments} == {"s1", "s2"}


@pytest.mark.parametrize("queueing", ["none", "ps"])
def test_saturated_resources_report_their_real_load(tmp_path, queueing):
    """Under ps the capacity rows are equalities with the utilization as a column: the load comes from the routes."""

    def heavy(d):
        d["models"] = d["models"][:1]
        d["demand"] = [{"origin": "a", "task": "t", "rate_rps": 40.0, "max_latency_s": 50.0}]
        d["options"]["max_utilization"] = 0.5
        d["options"]["queueing"] = queueing

    lines = [x for x in reasons(tmp_path, heavy) if "is saturated" in x]
    assert lines
    for line in lines:
        if line.startswith("link"):
            # "<load> B/s of 0.5 x <bandwidth> B/s": the load is half the bandwidth
            load, bw = (float(x.split()[0].replace(",", "")) for x in (line.split("saturated: ")[1], line.split("0.5 x ")[1]))
            assert load == pytest.approx(0.5 * bw, rel=1e-6)
        else:
            assert "utilization 0.500 of max_utilization 0.5" in line
