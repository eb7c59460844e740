"""Online suites: traces (files and generators) x policies run into the database, tables, the regret figure."""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml
from online_helpers import online_instance_data

from bench.suite import load_suite
from placement.errors import InputError


@pytest.fixture
def online_files(tmp_path):
    data = online_instance_data()
    data["objective"] = {"weights": {"latency": 1.0, "inaccuracy": 1.0, "energy": 0.01}}
    data["devices"]["big"]["memory_bytes"] = 1e12  # the suite's instance JSON drops nulls (exclude_none)
    (tmp_path / "tiny-online.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "hand.csv").write_text("slot,origin,task,count\n0,d1,ta,3\n1,d2,tb,4\n2,d1,ta,2\n3,d2,ta,5\n")
    return tmp_path


def _suite(**over) -> dict:
    data = {
        "name": "on", "kind": "online", "instances": [{"file": "tiny-online.yaml"}],
        "traces": [{"generator": "adversarial", "slots": 40, "requests": 20, "seeds": [1]}, {"file": "hand.csv", "curve_points": 2}],
        "methods": [{"method": "omd"}, {"method": "lru"}, {"method": "hindsight"}, {"method": "omd", "options": {"rounding": "coupled"}}],
        "tables": [{"name": "cost", "rows": ["instance", "trace"], "value": "total_cost", "reference": "hindsight"}],
        "figures": [{"name": "regret", "kind": "regret"}, {"name": "none", "kind": "regret", "traces": ["nope*"]},
                    {"name": "adv", "kind": "regret", "traces": ["adversarial"], "methods": ["omd", "lru"]}],
    }
    data.update(over)
    return data


def test_online_suite_runs_reports_and_plots(online_files, write_suite, cli, capsys, tmp_path):
    path = online_files / "on.yaml"
    path.write_text(yaml.safe_dump(_suite()))
    suite = load_suite(path)
    assert len(suite.runs) == 1 * 2 * 4 and len({r.key for r in suite.runs}) == 8
    db = tmp_path / "r.sqlite"
    code, out, err = cli(capsys, "bench", "run", str(path), "--db", str(db), "-q")
    assert code == 0, err
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM runs")]
    assert len(rows) == 8 and {r["status"] for r in rows} == {"feasible"}, [r["message"] for r in rows]
    by = {(r["method_label"], r["trace"]): r for r in rows}
    hind = by[("hindsight", "adversarial")]
    assert hind["regret"] == pytest.approx(0.0, abs=1e-6) and hind["ratio_to_hindsight"] == pytest.approx(1.0)
    omd = by[("omd", "adversarial")]
    assert omd["total_cost"] >= hind["total_cost"] - 1e-9 and omd["fetched_bytes"] > 0 and omd["update_time_s"] > 0
    run = json.loads((tmp_path / "r.sqlite.files" / "online-runs" / f"{omd['run_sha256']}.json").read_text())
    assert run["policy"] == "omd" and run["summary"]["total_cost"] == pytest.approx(omd["total_cost"])
    assert len(run["summary"]["regret_curve"]) == 10
    # resumable: nothing left to run
    code, out, _ = cli(capsys, "bench", "run", str(path), "--db", str(db), "-q")
    assert code == 0 and "ran 0 runs" in out
    code, out, _ = cli(capsys, "bench", "report", str(db))
    assert code == 0 and "adversarial" in out and "hand" in out and "lru / hindsight" in out
    for name in ("regret", "adv"):
        code, out, err = cli(capsys, "bench", "plot", str(db), "--figure", name, "--out-dir", str(tmp_path / "figs"))
        assert code == 0, err
        assert (tmp_path / "figs" / f"{name}.png").stat().st_size > 0
    code, out, err = cli(capsys, "bench", "plot", str(db), "--figure", "none", "--out-dir", str(tmp_path / "figs"))
    assert code == 2 and "no online runs" in err


@pytest.mark.parametrize("over, words", [
    ({"methods": [{"method": "greedy"}]}, ["methods[0].method", "static method"]),
    ({"traces": []}, ["traces", "needs 'traces'"]),
    ({"methods": [{"method": "omd", "options": {"rounding": "best"}}]}, ["must be one of greedy, coupled"]),
    ({"methods": [{"method": "omd", "options": {"time_limit_s": 3}}]}, ["has no option 'time_limit_s'"]),
    ({"traces": [{"generator": "adversarial"}]}, ["needs 'slots'"]),
    ({"traces": [{"file": "missing.csv"}]}, ["trace file not found"]),
])
def test_bad_online_suites_are_refused(online_files, over, words):
    path = online_files / "bad.yaml"
    path.write_text(yaml.safe_dump(_suite(**over)))
    with pytest.raises(InputError) as exc:
        load_suite(path)
    for w in words:
        assert w in str(exc.value)


def test_traces_only_in_online_suites(online_files):
    path = online_files / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "instances": [{"factory": "tiny"}], "methods": [{"method": "greedy"}],
                                    "traces": [{"generator": "stationary", "slots": 3}]}))
    with pytest.raises(InputError, match="apply to online suites only"):
        load_suite(path)


def test_online_tree_factory_cuts_cache_memory():
    from bench.factories import FACTORIES
    from placement.instance import Instance
    from solvers.online.costs import build_table

    full = FACTORIES["online-tree"](fanout="2,2", tasks=2, models_per_task=2, memory_fraction=1.0)
    half = FACTORIES["online-tree"](fanout="2,2", tasks=2, models_per_task=2, memory_fraction=0.5, update=1e-9)
    inst = Instance.from_spec(full, None, full.name)
    table = build_table(inst)
    assert len(inst.nodes) == 7 and half.objective.weights.update == 1e-9
    cut = {n.id: n.memory_bytes for n in half.nodes}
    for i, v in enumerate(table.nodes):
        if v in table.repository:
            continue
        # memory_fraction 1: exactly the bytes of the node's candidate models
        assert inst.node[v].memory_bytes == pytest.approx(table.item_bytes[table.item_node == i].sum())
        assert cut[v] == pytest.approx(0.5 * inst.node[v].memory_bytes)
    with pytest.raises(TypeError, match="exactly one"):
        FACTORIES["online-tree"]()


def test_database_written_before_the_online_columns_gains_them(tmp_path):
    from bench.store import ADDED, COLUMNS, Store

    db = tmp_path / "old.sqlite"
    old = {k: v for k, v in COLUMNS.items() if k not in ADDED}
    con = sqlite3.connect(db)
    con.executescript(f"""CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE runs (run_key TEXT PRIMARY KEY, {", ".join(f"{k} {v}" for k, v in old.items())});""")
    con.execute("INSERT INTO runs (run_key, suite, kind, instance, instance_group, instance_sha256, method, method_label, options, seed, repeat, status, finished_at) "
                "VALUES ('k', 's', 'static', 'i', 'i', 'h', 'greedy', 'greedy', '{}', 0, 0, 'heuristic', 'now')")
    con.commit()
    con.close()
    with Store(db) as store:
        store.record("k2", {"suite": "s", "kind": "online", "instance": "i", "instance_group": "i", "instance_sha256": "h",
                            "method": "omd", "method_label": "omd", "options": {}, "seed": 0, "repeat": 0, "status": "feasible",
                            "finished_at": "now", "trace": "adversarial", "total_cost": 5.0})
        rows = {r["run_key"]: r for r in store.rows("s")}
    assert rows["k"]["trace"] is None and rows["k"]["status"] == "heuristic"
    assert rows["k2"]["trace"] == "adversarial" and rows["k2"]["total_cost"] == 5.0
