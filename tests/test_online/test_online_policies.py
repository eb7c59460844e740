"""Online policies: hindsight exact, memory feasible, update cost counted, regret shrinking."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from helpers import instance_from_data
from online_helpers import online_instance_data

from placement.cli import main
from placement.generate.traces import generate_demand_trace
from placement.routes import Route, Segment, route_figures
from solvers.online.base import NodeGroups
from solvers.online.costs import option_figures
from solvers.online.registry import policies
from solvers.online.runner import checkpoints_for, hindsight_costs, prepare, run_online, static_cost


def _inst(tmp_path, update=0.0, edge_memory=100.0):
    data = online_instance_data(edge_memory)
    data["objective"] = {"weights": {"latency": 1.0, "inaccuracy": 1.0, "energy": 0.01, "update": update}}
    return instance_from_data(data, tmp_path)


def test_table_matches_route_figures(tmp_path):
    inst = _inst(tmp_path)
    st = prepare(inst, generate_demand_trace(inst, "stationary", 2))
    t = st.table
    lat, en = option_figures(t)
    for o in range(len(lat)):
        origin, task = t.pairs[t.opt_pair[o]]
        d = next(d for d in inst.demands if (d.origin, d.task) == (origin, task))
        k = t.opt_item[o]
        node = t.repository[t.opt_pair[o]] if k < 0 else t.nodes[t.item_node[k]]
        if k < 0:
            continue
        m = t.model_ids[t.item_model[k]]
        fig = route_figures(inst, Route(d.index, m, (Segment(node, 0, inst.models[m].n_layers - 1),)))
        assert lat[o] == pytest.approx(fig.latency_s, rel=1e-12) and en[o] == pytest.approx(fig.energy_j, rel=1e-12)
    # the floor 0.6 of d1/tb rules out 'tiny' for that pair
    assert not any(t.model_ids[t.item_model[k]] == "tiny" for k in t.opt_item[(t.opt_pair == t.pairs.index(("d1", "tb"))) & (t.opt_item >= 0)])


@pytest.mark.parametrize("update", [0.0, 0.05])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hindsight_equals_enumeration(tmp_path, update, seed):
    inst = _inst(tmp_path, update)
    tr = generate_demand_trace(inst, "shot-noise", 30, seed=seed, requests=20)
    st = prepare(inst, tr)
    groups = NodeGroups(st.table)
    best = min(
        static_cost(st, np.array(x, dtype=bool), tr.n_slots)
        for x in itertools.product([False, True], repeat=st.table.n_items)
        if groups.feasible(np.array(x, dtype=bool))
    )
    h = hindsight_costs(st, [tr.n_slots])[tr.n_slots]
    run = run_online(st, "hindsight")
    assert h == pytest.approx(best, rel=1e-9) and run.summary.total_cost == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("policy", [p.name for p in policies()])
def test_memory_feasible_every_slot_and_update_counted(tmp_path, policy):
    inst = _inst(tmp_path, update=0.01)
    st = prepare(inst, generate_demand_trace(inst, "shifting", 40, seed=4, requests=30))
    run = run_online(st, policy, seed=1)
    cap = {n.id: n.memory_bytes for n in inst.nodes}
    prev: set = set()
    for s in run.slots:
        held = {(v, m) for v, ms in s.storage.items() for m in ms}
        for v, ms in s.storage.items():
            assert sum(inst.models[m].total_param_bytes for m in ms) <= cap[v]
        new = held - prev
        assert s.fetched_bytes == pytest.approx(sum(inst.models[m].total_param_bytes for _, m in new))
        assert s.update_cost == pytest.approx(0.01 * s.fetched_bytes)
        assert s.cost == pytest.approx(s.request_cost + s.update_cost)
        prev = held
    assert run.summary.total_cost == pytest.approx(sum(s.cost for s in run.slots))


@pytest.mark.parametrize("policy", ["omd", "ftpl"])
def test_regret_per_slot_shrinks_on_adversarial(tmp_path, policy):
    inst = _inst(tmp_path)
    tr = generate_demand_trace(inst, "adversarial", 400, seed=7, requests=40)
    st = prepare(inst, tr)
    pts = checkpoints_for(400, 4)
    h = hindsight_costs(st, pts)
    curve = run_online(st, policy, seed=3, hindsight=h).summary.regret_curve
    per = [p.regret_per_slot for p in curve]
    assert all(b <= a + 1e-9 for a, b in zip(per, per[1:]))
    lru = run_online(st, "lru", hindsight=h).summary
    assert curve[-1].cost < lru.total_cost


def test_seeded_runs_are_reproducible(tmp_path):
    inst = _inst(tmp_path)
    st = prepare(inst, generate_demand_trace(inst, "diurnal", 30, seed=2))
    a, b = run_online(st, "omd", seed=5), run_online(st, "omd", seed=5)
    assert [s.storage for s in a.slots] == [s.storage for s in b.slots]


def test_cli_compare_writes_runs_and_plot(tmp_path, capsys):
    inst = _inst(tmp_path, update=0.001)
    trace = tmp_path / "t.csv"
    assert main(["trace", "generate", str(inst.source), "adversarial", "--slots", "60", "--seed", "1", "-o", str(trace)]) == 0
    out = tmp_path / "run.json"
    rc = main(["online", str(inst.source), str(trace), "--compare", "omd,lru,hindsight", "-o", str(out), "--plot", str(tmp_path / "r.png"), "-q", "--curve-points", "3"])
    assert rc == 0 and (tmp_path / "r.png").stat().st_size > 0
    run = json.loads((tmp_path / "run.omd.json").read_text())
    assert {"slot", "storage", "cost", "requests", "fetched_bytes", "update_time_s"} <= set(run["slots"][0])
    assert run["summary"]["regret"] is not None and "omd" in capsys.readouterr().out


def test_cli_unknown_option_names_accepted_ones(tmp_path, capsys):
    inst = _inst(tmp_path)
    trace = tmp_path / "t.csv"
    main(["trace", "generate", str(inst.source), "stationary", "--slots", "5", "-o", str(trace)])
    assert main(["online", str(inst.source), str(trace), "--policy", "omd", "--option", "step=2"]) == 2
    assert "eta_scale" in capsys.readouterr().err
    assert main(["online", str(inst.source), str(trace), "--policy", "omd", "--option", "refresh=x"]) == 2
