"""The warm pool: every run in a process of its own (state does not leak between runs), statuses as with the forkserver."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bench.executors import LocalExecutor
from bench.store import Store
from bench.suite import load_suite
from bench.sweep import run_suite

STATE = str(Path(__file__).resolve().parent / "plugin_state.py")


def _run(write_suite, tmp_path, suite: dict, executor) -> list[dict]:
    with Store(tmp_path / f"{suite['name']}.sqlite") as store:
        run_suite(load_suite(write_suite(suite, suite["name"])), store, executor, progress=False)
        return store.rows()


def test_runs_forked_from_the_pool_do_not_share_state(write_suite, tmp_path):
    suite = {"name": "state", "plugins": [STATE], "instances": [{"factory": "tiny"}], "methods": [{"method": "bench-state"}], "repeats": 6}
    rows = _run(write_suite, tmp_path, suite, LocalExecutor(2))
    assert len(rows) == 6 and {r["status"] for r in rows} == {"heuristic"}
    notes = [json.loads((tmp_path / "state.sqlite.files" / "plans" / f"{r['plan_sha256']}.json").read_text())["notes"] for r in rows]
    assert all("calls=1" in n for n in notes), notes  # a fresh process each time: the global starts at 0
    pids = {x for n in notes for x in n if x.startswith("pid=")}
    assert len(pids) == 6


@pytest.mark.parametrize("warm_pool", [True, False])
def test_timeout_crash_and_memory_statuses(write_suite, plugin, tmp_path, warm_pool):
    suite = {"name": f"bad{int(warm_pool)}", "plugins": [plugin], "instances": [{"factory": "tiny"}], "timeout_s": 1.5, "memory_limit_gb": 1,
             "methods": [{"method": "bench-sleep", "options": {"sleep_s": 30}}, {"method": "bench-crash"},
                         {"method": "bench-hog", "options": {"bytes": 4_000_000_000}}, {"method": "greedy"}]}
    start = time.perf_counter()
    rows = {r["method"]: r for r in _run(write_suite, tmp_path, suite, LocalExecutor(1, warm_pool))}
    assert time.perf_counter() - start < 20
    assert rows["bench-sleep"]["status"] == "timeout"
    assert rows["bench-crash"]["status"] == "crashed" and "SIGSEGV" in rows["bench-crash"]["message"]
    assert rows["bench-hog"]["status"] == "memory"
    assert rows["greedy"]["status"] == "heuristic"  # the worker survived all of the above


def test_pool_overhead_is_small(write_suite, tmp_path):
    """50 trivial runs through the pool: well under the 50 ms per run target even on a loaded machine."""
    suite = {"name": "trivial", "instances": [{"factory": "tiny"}], "methods": [{"method": "greedy"}], "repeats": 50}
    path = write_suite(suite, "trivial")
    with Store(tmp_path / "t.sqlite") as store:
        summary = run_suite(load_suite(path), store, LocalExecutor(1), progress=False)
        method = sum(r["method_s"] for r in store.rows()) / 50
    assert summary.wall_s / 50 - method < 0.05
