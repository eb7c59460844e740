"""Fixes of the online policies: caches skip models that do not fit, omd under update cost, the default step."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import instance_from_data
from online_helpers import online_instance_data

from placement.generate.traces import generate_demand_trace
from placement.traces import DemandTrace
from solvers.online.base import NodeGroups
from solvers.online.runner import checkpoints_for, hindsight_costs, prepare, run_online


def _inst(tmp_path, update=0.0, edge_memory=100.0):
    data = online_instance_data(edge_memory)
    data["objective"] = {"weights": {"latency": 1.0, "inaccuracy": 1.0, "energy": 0.01, "update": update}}
    return instance_from_data(data, tmp_path)


def _item(table, node, model):
    return next(k for k in range(table.n_items) if table.nodes[table.item_node[k]] == node and table.model_ids[table.item_model[k]] == model)


def test_greedy_fill_skips_a_model_that_does_not_fit(tmp_path):
    # edge memory 100: a1 (60 bytes) first, b1 (55) does not fit in the 40 left, b2 (40) does
    st = prepare(_inst(tmp_path), generate_demand_trace(_inst(tmp_path), "stationary", 2))
    t = st.table
    groups = NodeGroups(t)
    prio = np.zeros(t.n_items)
    for rank, m in enumerate(["a1", "b1", "b2", "a2"]):
        prio[_item(t, "edge", m)] = 10 - rank
    x = groups.greedy_fill(prio, np.ones(t.n_items, dtype=bool))
    held = {t.model_ids[t.item_model[k]] for k in np.flatnonzero(x) if t.nodes[t.item_node[k]] == "edge"}
    assert held == {"a1", "b2"} and groups.feasible(x)


@pytest.mark.parametrize("policy", ["lru", "lfu"])
def test_caches_skip_and_try_the_next_model(tmp_path, policy):
    data = online_instance_data(100.0)
    data["models"].append({"id": "c1", "task": "tc", "accuracy": 0.9, "input_bytes": 4000,
                           "layers": [{"name": "all", "macs": 1.0e6, "param_bytes": 30, "out_bytes": 100}]})
    data["demand"].append({"origin": "d1", "task": "tc", "rate_rps": 1.0, "max_latency_s": 5.0})
    inst = instance_from_data(data, tmp_path)
    pairs = tuple(dict.fromkeys((d.origin, d.task) for d in inst.demands))
    # per slot: ta (a1, 60 bytes) most requested, then tb (b1, 55), then tc (c1, 30); in the last
    # slot the same order of recency. a1 is kept, b1 does not fit beside it, c1 does
    counts = np.zeros((4, len(pairs)), dtype=np.int64)
    counts[:, pairs.index(("d1", "ta"))] = 9
    counts[:, pairs.index(("d1", "tb"))] = 5
    counts[:, pairs.index(("d1", "tc"))] = 2
    st = prepare(inst, DemandTrace(pairs, counts, "hand"))
    run = run_online(st, policy)
    assert set(run.slots[-1].storage.get("edge", [])) == {"a1", "c1"}


def test_omd_stores_nothing_when_no_fetch_can_pay_for_itself(tmp_path):
    inst = _inst(tmp_path, update=1e6, edge_memory=1e9)  # the edge holds every model: no choice but the fetch
    st = prepare(inst, generate_demand_trace(inst, "stationary", 50, seed=1, requests=20))
    run = run_online(st, "omd")
    assert run.summary.fetched_bytes == 0 and all(not s.storage for s in run.slots)
    h = hindsight_costs(st, [50])
    assert run.summary.total_cost == pytest.approx(h[50], rel=1e-12)


def test_omd_with_update_cost_fetches_only_earned_models_on_loose_nodes(tmp_path):
    inst = _inst(tmp_path, update=1e-3, edge_memory=1e9)
    tr = generate_demand_trace(inst, "stationary", 60, seed=2, requests=20)
    st = prepare(inst, tr)
    run = run_online(st, "omd")
    assert run.slots[0].fetched_bytes == 0  # nothing seen yet: nothing fetched at slot 0
    h = hindsight_costs(st, [60])[60]
    # beyond the slots it spends learning what pays (served by the repository), it matches hindsight
    learning = run.slots[0].cost + run.slots[1].cost
    assert run.summary.total_cost <= h + learning
    assert run.summary.fetched_bytes <= sum(m.total_param_bytes for m in inst.models.values())


@pytest.mark.parametrize("rounding", ["greedy", "coupled", "local"])
def test_omd_default_step_regret_per_slot_decreases(tmp_path, rounding):
    inst = _inst(tmp_path)
    tr = generate_demand_trace(inst, "adversarial", 400, seed=7, requests=40)
    st = prepare(inst, tr)
    h = hindsight_costs(st, checkpoints_for(400, 4))
    run = run_online(st, "omd", {"rounding": rounding}, seed=3, hindsight=h)
    per = [p.regret_per_slot for p in run.summary.regret_curve]
    assert per[-1] <= per[0] / 2 and all(b <= a + 1e-9 for a, b in zip(per, per[1:]))
    assert run.policy_info["last_eta"] > 0 and run.policy_info["regret_bound"] > 0


def test_online_policies_are_in_the_main_registry(tmp_path, capsys):
    from placement.cli import main
    from solvers import methods, solve
    from solvers.registry import MethodError, get_method, prepare

    online = {m.name for m in methods(kind="online")}
    assert {"omd", "ftpl", "lru", "lfu", "hindsight", "static-first", "resolve"} <= online
    omd = get_method("omd")
    assert "online" in omd.capabilities() and {o.name for o in omd.options} >= {"eta_scale", "rounding"}
    inst = _inst(tmp_path)
    with pytest.raises(MethodError, match="online method"):
        solve(inst, "omd")
    with pytest.raises(MethodError, match="static method"):
        prepare(inst, "milp", "online", None, 1e-4, None, 0, False, {})
    with pytest.raises(MethodError, match="must be one of greedy, coupled"):
        prepare(inst, "omd", "online", None, 1e-4, None, 0, False, {"rounding": "best"})
    assert main(["methods"]) == 0 and "omd" in capsys.readouterr().out
    assert main(["methods", "omd"]) == 0 and "rounding" in capsys.readouterr().out
    assert main(["online", "--list"]) == 0 and "rounding=greedy|coupled" in capsys.readouterr().out
    trace = tmp_path / "t.csv"
    main(["trace", "generate", str(inst.source), "stationary", "--slots", "5", "-o", str(trace)])
    capsys.readouterr()
    assert main(["online", str(inst.source), str(trace), "--policy", "milp", "-q"]) == 2
    assert "not an online policy" in capsys.readouterr().err
