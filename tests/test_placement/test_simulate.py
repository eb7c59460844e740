"""The discrete-event simulator against closed forms, the analytical ps latency and its CLI."""

from __future__ import annotations

import io
import json
import math

import pytest
from helpers import line_instance_data, write_yaml

from placement import Instance, InstanceSpec, Route, Segment, evaluate, load_instance
from placement.build import plan_from_routes
from placement.cli import main
from placement.errors import InputError
from placement.plan import write_plan
from placement.simulate import analytical_latency, ci_coverage, simulate
from placement.simulate_cli import ProgressBar

PROP_S = 0.001


def queue_data(rate_rps: float, compute_s: float, transfer_s: float = 0.0) -> dict:
    """Origin a, server b. 1e6 MAC/s devices; link a-b at 5e5 B/s with 1 ms propagation.

    The model has one layer of ``compute_s`` seconds; its input takes
    ``transfer_s`` seconds on the link (when it is sent), its 1-byte result 2 us.
    """
    return {
        "name": "queue",
        "devices": {"box": {"effective_macs_per_s": 1.0e6, "memory_bytes": None, "active_power_w": 1.0}},
        "nodes": [{"id": "a", "device": "box"}, {"id": "b", "device": "box"}],
        "links": [{"u": "a", "v": "b", "bandwidth_bytes_per_s": 5.0e5, "latency_s": PROP_S}],
        "models": [{"id": "m", "task": "t", "accuracy": 0.9, "input_bytes": max(transfer_s * 5.0e5, 1.0),
                    "layers": [{"name": "l0", "macs": compute_s * 1.0e6, "param_bytes": 1, "out_bytes": 1}]}],
        "demand": [{"origin": "a", "task": "t", "rate_rps": rate_rps, "max_latency_s": 10.0}],
        "options": {"max_utilization": 0.99},
    }


def single_route(data: dict, node: str):
    inst = Instance.from_spec(InstanceSpec.model_validate(data))
    return inst, plan_from_routes(inst, [(Route(0, "m", (Segment(node, 0, 0),)), 1.0)])


def one_class(inst, plan, **kw):
    kw = {"duration_s": 400.0, "warmup_s": 20.0, "seed": 3, **kw}
    res = simulate(inst, plan, **kw)
    assert len(res.classes) == 1
    return res, res.classes[0]


@pytest.mark.parametrize("service", ["deterministic", "exponential"])
def test_mg1_ps_single_server(service):
    # computing at the origin: one PS server, s = 10 ms, rho = 50 x 0.01 = 0.5
    inst, plan = single_route(queue_data(50.0, 0.01), "a")
    res, c = one_class(inst, plan, service=service, discipline="ps")
    closed = 0.01 / (1 - 0.5)
    assert c.analytical_mean_latency_s == pytest.approx(closed)
    assert c.no_wait_latency_s == pytest.approx(0.01)
    assert c.ci95_latency_s[0] <= closed <= c.ci95_latency_s[1]
    assert c.ci95_latency_s[1] - c.ci95_latency_s[0] < 0.2 * closed  # a CI narrow enough to mean something
    assert c.requests == pytest.approx(50 * 380, rel=0.05)
    (srv,) = res.servers
    assert (srv.server, srv.kind, srv.planned_utilization) == ("a", "node", pytest.approx(0.5))
    assert srv.simulated_utilization == pytest.approx(0.5, abs=0.02)


def test_mm1_and_md1_fifo():
    inst, plan = single_route(queue_data(50.0, 0.01), "a")
    _, mm1 = one_class(inst, plan, service="exponential", discipline="fifo")
    assert mm1.ci95_latency_s[0] <= 0.01 / (1 - 0.5) <= mm1.ci95_latency_s[1]
    # M/D/1 FIFO waits half as long as M/M/1 (Pollaczek-Khinchine): s + rho s / (2 (1 - rho)) = 15 ms,
    # which also shows the disciplines really differ (PS with deterministic service gives 20 ms)
    _, md1 = one_class(inst, plan, service="deterministic", discipline="fifo")
    assert md1.ci95_latency_s[0] <= 0.015 <= md1.ci95_latency_s[1]
    assert md1.mean_latency_s < 0.018


def test_tandem_of_two_ps_servers():
    # link a->b: 10 ms transfer, rho 0.5; node b: 8 ms, rho 0.4; the 1-byte result back: 2 us
    inst, plan = single_route(queue_data(50.0, 0.008, transfer_s=0.01), "b")
    back = 1 / 5.0e5
    closed = 0.01 / 0.5 + PROP_S + 0.008 / 0.6 + back / (1 - 50 * back) + PROP_S
    assert analytical_latency(inst, plan, "ps")[0] == pytest.approx(closed)
    res, c = one_class(inst, plan, service="exponential", discipline="ps")
    assert c.ci95_latency_s[0] <= closed <= c.ci95_latency_s[1]
    util = {s.server: s.simulated_utilization for s in res.servers}
    assert util == pytest.approx({"a->b": 0.5, "b": 0.4, "b->a": 50 * back}, abs=0.02)


def line_plan(rate_scale: float = 1.0):
    data = line_instance_data()
    for d in data["demand"]:
        d["rate_rps"] *= rate_scale
    inst = Instance.from_spec(InstanceSpec.model_validate(data))
    routes = [
        (Route(0, "m", (Segment("a", 0, 0), Segment("c", 1, 2))), 0.7),
        (Route(0, "m", (Segment("b", 0, 2),)), 0.3),
        (Route(1, "small", (Segment("a", 0, 0),)), 1.0),
    ]
    return inst, plan_from_routes(inst, routes)


def test_small_instance_ps_prediction_inside_ci():
    inst, plan = line_plan(rate_scale=1.5)
    ev = evaluate(inst, plan)
    assert 0.3 < max(ev.metrics["max_node_utilization"], ev.metrics["max_link_utilization"]) < 0.8
    res = simulate(inst, plan, duration_s=3000.0, warmup_s=100.0, seed=11)
    for c in res.classes:
        assert c.requests > 2000
        assert c.analytical_in_ci, c
        assert c.analytical_mean_latency_s > c.no_wait_latency_s  # the ps figure adds waiting
    none = analytical_latency(inst, plan, "none")
    total = sum(d.rate_rps for d in inst.demands)
    assert sum(d.rate_rps * none[d.index] for d in inst.demands) / total == pytest.approx(ev.metrics["mean_latency_s"])
    for s in res.servers:
        assert s.simulated_utilization == pytest.approx(s.planned_utilization, abs=0.03), s
    assert ci_coverage(res, 1000) == {"classes": 2, "inside_ci95": 2, "inside_simultaneous_ci95": 2}
    assert ci_coverage(res, 10**6)["classes"] == 0


def test_seed_gives_identical_results_and_engines_agree():
    inst, plan = line_plan()

    def figures(res):
        d = res.to_dict()
        for k in ("wall_s", "events_per_s", "engine"):
            d.pop(k)
        return d

    a = simulate(inst, plan, duration_s=300.0, warmup_s=30.0, seed=5)
    b = simulate(inst, plan, duration_s=300.0, warmup_s=30.0, seed=5)
    assert figures(a) == figures(b)
    c = simulate(inst, plan, duration_s=300.0, warmup_s=30.0, seed=6)
    assert figures(c) != figures(a)
    # the SimPy model draws the same numbers: same sample path up to rounding
    s = simulate(inst, plan, duration_s=300.0, warmup_s=30.0, seed=5, engine="simpy")
    for x, y in zip(a.classes, s.classes):
        assert x.requests == y.requests
        assert x.mean_latency_s == pytest.approx(y.mean_latency_s, rel=1e-9)
        assert x.p99_latency_s == pytest.approx(y.p99_latency_s, rel=1e-9)
    for x, y in zip(a.servers, s.servers):
        assert x.simulated_utilization == pytest.approx(y.simulated_utilization, rel=1e-9)
    fifo_heap = simulate(inst, plan, duration_s=300.0, warmup_s=30.0, seed=5, discipline="fifo")
    fifo_simpy = simulate(inst, plan, duration_s=300.0, warmup_s=30.0, seed=5, discipline="fifo", engine="simpy")
    assert [c.mean_latency_s for c in fifo_heap.classes] == pytest.approx([c.mean_latency_s for c in fifo_simpy.classes], rel=1e-9)


def test_bad_arguments_raise_input_error():
    inst, plan = line_plan()
    for kw in ({"duration_s": -1.0}, {"duration_s": 10.0, "warmup_s": 10.0}, {"discipline": "lifo"}, {"service": "pareto"}):
        with pytest.raises(InputError):
            simulate(inst, plan, **kw)
    plan.routes[2].share = 0.5  # class 1 no longer fully served
    with pytest.raises(InputError, match="sum to"):
        simulate(inst, plan, duration_s=10.0, warmup_s=1.0)


def test_overloaded_server_warns_and_predicts_infinity():
    inst, plan = single_route(queue_data(120.0, 0.01), "a")  # rho = 1.2
    res, c = one_class(inst, plan, duration_s=20.0, warmup_s=2.0)
    assert res.warnings and "grows without bound" in res.warnings[0]
    assert math.isinf(c.analytical_mean_latency_s)
    assert res.to_dict()["classes"][0]["analytical_mean_latency_s"] is None


def test_progress_bar_writes_eta():
    out = io.StringIO()
    bar = ProgressBar(out, delay_s=0.0)
    bar(30.0, 60.0)
    bar.close()
    assert "50.0%" in out.getvalue() and "ETA" in out.getvalue()


@pytest.fixture
def files(tmp_path):
    inst_path = write_yaml(tmp_path / "line.yaml", line_instance_data())
    inst = load_instance(inst_path)
    plan = plan_from_routes(inst, [(Route(0, "m", (Segment("a", 0, 0), Segment("c", 1, 2))), 1.0),
                                     (Route(1, "small", (Segment("a", 0, 0),)), 1.0)])
    plan_path = tmp_path / "plan.json"
    write_plan(plan, plan_path)
    return str(inst_path), str(plan_path), tmp_path


def test_cli_table_json_and_out(files, capsys):
    inst, plan, tmp = files
    assert main(["simulate", inst, plan, "--duration", "200", "--seed", "1", "-q"]) == 0
    text = capsys.readouterr().out
    assert "analytical_ps_ms" in text and "ci95_ms" in text and "planned_utilization" in text
    out = tmp / "sim.json"
    assert main(["simulate", inst, plan, "--duration", "200", "--warmup", "20", "--seed", "1", "--json", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text())["classes"] == data["classes"]
    for c in data["classes"]:
        for key in ("mean_latency_s", "ci95_latency_s", "p50_latency_s", "p95_latency_s", "p99_latency_s",
                    "requests", "analytical_mean_latency_s"):
            assert key in c
        assert len(c["ci95_latency_s"]) == 2 and c["requests"] > 0
    assert data["warmup_s"] == 20 and data["events_per_s"] > 0


@pytest.mark.parametrize("args, needle", [
    (["--duration", "-5"], "--duration"),
    (["--duration", "10", "--warmup", "10"], "--warmup"),
    (["--discipline", "lifo"], "invalid choice"),
    (["--service", "pareto"], "invalid choice"),
])
def test_cli_bad_arguments_exit_2(files, capsys, args, needle):
    inst, plan, _ = files
    try:
        code = main(["simulate", inst, plan, *args])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    assert code == 2
    assert needle in capsys.readouterr().err


def test_cli_bad_plan_exit_2_names_the_file(files, capsys):
    inst, plan, tmp = files
    data = json.loads(open(plan).read())
    data["routes"][1]["share"] = 0.25
    bad = tmp / "bad.json"
    bad.write_text(json.dumps(data))
    assert main(["simulate", inst, str(bad), "--duration", "10"]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "Traceback" not in err
