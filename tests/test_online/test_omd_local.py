"""omd's local-search rounding: feasible, deterministic, moving little, regret/t falling on a contested tree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from placement.cli import main
from placement.generate.traces import generate_demand_trace
from placement.instance import load_instance, save_instance
from solvers.online.base import NodeGroups
from solvers.online.costs import build_table
from solvers.online.localsearch import LocalSearch, node_classes
from solvers.online.runner import checkpoints_for, hindsight_costs, prepare, run_online


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A 47-node tree (fanout 2,2,2,4; 5 tasks x 4 models), cache memories at 0.15 of their models' bytes."""
    folder = tmp_path_factory.mktemp("tree")
    src = folder / "t.yaml"
    assert main(["generate", "tiered", "-o", str(src), "--fanout", "2,2,2,4", "--tasks", "5", "--models-per-task", "4", "--seed", "0", "--name", "t47"]) == 0
    inst = load_instance(src)
    tab = build_table(inst)
    need = np.bincount(tab.item_node, weights=tab.item_bytes, minlength=len(tab.nodes))
    spec = inst.spec.model_copy(deep=True)
    for n in spec.nodes:
        if n.id in tab.nodes and n.id not in tab.repository:
            n.memory_bytes = 0.15 * float(need[tab.nodes.index(n.id)])
    save_instance(spec, folder / "t-tight.yaml", Path(src).resolve().parent)
    return load_instance(folder / "t-tight.yaml")


@pytest.fixture(scope="module")
def adversarial(tree):
    st = prepare(tree, generate_demand_trace(tree, "adversarial", 400, seed=1, requests=60))
    return st, hindsight_costs(st, checkpoints_for(400, 4))


def test_node_classes_share_no_pair(tree):
    t = build_table(tree)
    groups = NodeGroups(t)
    classes = node_classes(groups)
    assert sorted(np.concatenate(classes).tolist()) == np.flatnonzero(groups.tight_node).tolist()
    pairs_of = {v: set(t.opt_pair[(t.opt_item >= 0) & (t.item_node[np.maximum(t.opt_item, 0)] == v)].tolist()) for v in range(len(t.nodes))}
    for cls in classes:
        for i, u in enumerate(cls):
            for v in cls[i + 1 :]:
                assert not pairs_of[u] & pairs_of[v]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_moves_never_lose_gain_and_keep_memory(tree, seed):
    st = prepare(tree, generate_demand_trace(tree, "stationary", 1))
    t, gains = st.table, st.gains_at(0)
    groups = NodeGroups(t)
    rng = np.random.default_rng(seed)
    x = groups.greedy_fill(rng.random(t.n_items), np.ones(t.n_items, dtype=bool))  # a random full storage
    w = rng.poisson(5.0, t.n_pairs).astype(float)
    before = float(gains.pair_gain(x) @ w)
    x2 = LocalSearch(groups).improve(x, np.ones(t.n_items, dtype=bool), w, gains, 1e-9, 3)
    assert groups.feasible(x2) and float(gains.pair_gain(x2) @ w) > before
    assert np.array_equal(x2 & ~groups.tight_item, x & ~groups.tight_item)  # loose nodes untouched


def test_local_feasible_deterministic_and_moving_little(adversarial, tree):
    st, h = adversarial
    groups = NodeGroups(st.table)
    a = run_online(st, "omd", {"rounding": "local"}, seed=5, hindsight=h)
    b = run_online(st, "omd", {"rounding": "local"}, seed=6, hindsight=h)
    assert [s.storage for s in a.slots] == [s.storage for s in b.slots]  # no randomness at all
    cap = {n.id: n.memory_bytes for n in tree.nodes}
    for s in a.slots:
        for v, ms in s.storage.items():
            assert sum(tree.models[m].total_param_bytes for m in ms) <= cap[v] * (1 + 1e-9)
    assert groups.tight_node.any()
    # storage settles: far fewer changes in the second half than in the first
    changes = np.array([s.added + s.evicted for s in a.slots])
    assert changes[200:].sum() <= changes[:200].sum() / 4


def test_local_regret_per_slot_falls_on_adversarial(adversarial):
    st, h = adversarial
    per = [p.regret_per_slot for p in run_online(st, "omd", {"rounding": "local"}, seed=3, hindsight=h).summary.regret_curve]
    greedy = [p.regret_per_slot for p in run_online(st, "omd", {"rounding": "greedy"}, seed=3, hindsight=h).summary.regret_curve]
    assert all(b <= a + 1e-9 for a, b in zip(per, per[1:]))
    assert per[-1] <= per[0] / 3  # regret/t at T at most a third of its value at T/4
    assert per[-1] < greedy[-1] / 3  # and well below the greedy rounding's


def test_local_without_leader_still_feasible(adversarial):
    st, _ = adversarial
    run = run_online(st, "omd", {"rounding": "local", "leader": False, "rounds": 2, "support": 0.2})
    groups = NodeGroups(st.table)
    assert run.summary.storage_changes > 0
    assert all(groups.feasible(_vector(st.table, s.storage)) for s in run.slots)


def _vector(table, storage: dict) -> np.ndarray:
    x = np.zeros(table.n_items, dtype=bool)
    for k in range(table.n_items):
        x[k] = table.model_ids[table.item_model[k]] in storage.get(table.nodes[table.item_node[k]], ())
    return x


@pytest.mark.parametrize("bad", [{"support": 1.5}, {"hysteresis": -1.0}, {"rounds": 0}])
def test_bad_local_options_refused(adversarial, bad):
    from placement.errors import IdnplanError

    with pytest.raises(IdnplanError, match="support must be in|positive integer") as err:
        run_online(adversarial[0], "omd", bad)
    assert err.value.exit_code == 2
