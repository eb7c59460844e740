"""Sweeps: isolation statuses (timeout, crash, memory), resume after SIGKILL, stored rows."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT

from bench.executors import LocalExecutor
from bench.store import SCHEMA_VERSION, Store
from bench.suite import load_suite
from bench.sweep import run_suite


def _run(path: Path, db: Path, workers: int = 1, **kw):
    with Store(db) as store:
        summary = run_suite(load_suite(path), store, LocalExecutor(workers), progress=False, **kw)
        return summary, store.rows()


def test_statuses_timeout_crash_memory_infeasible(write_suite, plugin, tmp_path):
    path = write_suite({
        "name": "iso", "plugins": [plugin], "instances": [{"factory": "tiny"}],
        "methods": [
            {"method": "bench-sleep", "label": "slow", "options": {"sleep_s": 30}},
            {"method": "bench-crash"},
            {"method": "bench-hog", "options": {"bytes": 4.0e9}},
            {"method": "greedy"},
        ],
        "timeout_s": 1.0, "memory_limit_gb": 1.0,
    })
    start = time.perf_counter()
    summary, rows = _run(path, tmp_path / "r.sqlite", workers=2)
    assert time.perf_counter() - start < 15  # the sleeping run was killed, not waited for
    status = {r["method_label"]: r for r in rows}
    assert status["slow"]["status"] == "timeout" and "1 s timeout" in status["slow"]["message"]
    assert status["bench-crash"]["status"] == "crashed" and "SIGSEGV" in status["bench-crash"]["message"]
    assert status["bench-hog bytes=4000000000.0"]["status"] == "memory"
    assert status["greedy"]["status"] == "heuristic" and status["greedy"]["objective"] > 0
    assert summary.ran == 4


def test_row_contents_and_plan_file(write_suite, tmp_path):
    path = write_suite({"name": "rows", "instances": [{"file": str(ROOT / "instances" / "idn-10.yaml")}], "methods": [{"method": "milp"}]})
    db = tmp_path / "r.sqlite"
    _, rows = _run(path, db)
    (r,) = rows
    assert r["status"] == "optimal" and r["gap"] is not None and r["bound"] <= r["objective"] + 1e-9
    for col in ("mean_latency_s", "mean_inaccuracy", "mean_energy_j", "network_bytes_per_s", "wall_s", "method_s", "peak_memory_bytes", "host", "versions", "git_commit"):
        assert r[col] is not None, col
    assert (Path(str(db) + ".files") / "plans" / f"{r['plan_sha256']}.json").is_file()
    assert (Path(str(db) + ".files") / "instances" / f"{r['instance_sha256']}.json").is_file()
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def test_resume_after_sigkill_records_every_run_once(write_suite, plugin, tmp_path):
    n = 8
    path = write_suite({"name": "kill", "plugins": [plugin], "instances": [{"factory": "tiny"}],
                        "methods": [{"method": "bench-sleep", "options": {"sleep_s": 0.2}}], "seeds": list(range(n))})
    db = tmp_path / "r.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "placement.cli", "bench", "run", str(path), "--db", str(db), "-q"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    done_before = 0
    while time.monotonic() < deadline and done_before < 3:
        time.sleep(0.1)
        if db.exists():
            try:
                with sqlite3.connect(db) as con:
                    done_before = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 3 <= done_before < n
    with Store(db) as store:
        before = {r["run_key"]: r["finished_at"] for r in store.rows()}
    summary, rows = _run(path, db)
    assert summary.skipped == len(before) and summary.ran == n - len(before)
    keys = [r["run_key"] for r in rows]
    assert len(keys) == len(set(keys)) == n  # every run exactly once
    assert {r["seed"] for r in rows} == set(range(n))
    assert all(r["finished_at"] == before[r["run_key"]] for r in rows if r["run_key"] in before)  # not run again
    again, _ = _run(path, db)
    assert again.ran == 0 and again.skipped == n
    forced, rows = _run(path, db, rerun=True)
    assert forced.ran == n and len(rows) == n


@pytest.mark.slow
def test_two_workers_overlap(write_suite, plugin, tmp_path):
    """Two workers run two sleeping runs side by side (a timing check, so marked slow)."""
    path = write_suite({"name": "par", "plugins": [plugin], "instances": [{"factory": "tiny"}],
                        "methods": [{"method": "bench-sleep", "options": {"sleep_s": 1.0}}], "seeds": [0, 1, 2, 3]})
    one, _ = _run(path, tmp_path / "a.sqlite", workers=1)
    two, _ = _run(path, tmp_path / "b.sqlite", workers=2)
    assert two.wall_s < 0.75 * one.wall_s


def test_changed_suite_reports_only_its_current_runs(write_suite, tmp_path):
    """Runs of an earlier version of a suite (another instance, same suite name) stay stored but leave its tables."""
    db = tmp_path / "r.sqlite"
    first = {"name": "same", "instances": [{"factory": "tiny", "label": "net"}], "methods": [{"method": "greedy"}, {"method": "cloud-only"}]}
    _run(write_suite(first), db)
    second = dict(first, instances=[{"file": str(ROOT / "instances" / "idn-10.yaml"), "label": "net"}], methods=[{"method": "greedy"}])
    summary, rows = _run(write_suite(second), db)
    assert summary.ran == 1
    (r,) = rows  # the current expansion: idn-10 with greedy only
    assert r["method"] == "greedy" and r["nodes"] == 10
    with Store(db) as store:
        assert len(store.rows(current=False)) == 3  # nothing was deleted
        assert [x["nodes"] for x in store.rows("same")] == [10]
