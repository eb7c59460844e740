"""The warm pool: every run in a process of its own (state does not leak between runs), statuses as with the forkserver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

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


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out |= {int(x) for x in fh.read().split()}
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="reads /proc")
def test_a_killed_sweep_leaves_no_run_behind(tmp_path, plugin):
    """SIGKILL the sweep while a pool worker's run sleeps: the worker kills that run and leaves, as does the forkserver."""
    suite = {"name": "orphan", "plugins": [plugin], "instances": [{"factory": "tiny"}], "methods": [{"method": "bench-sleep", "options": {"sleep_s": 60}}]}
    path = tmp_path / "orphan.yaml"
    path.write_text(yaml.safe_dump(suite))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([sys.executable, "-m", "placement.cli", "bench", "run", str(path), "--db", str(tmp_path / "o.sqlite"), "-q"], env=env)
    deadline = time.monotonic() + 20
    started: set[int] = set()
    while time.monotonic() < deadline and len(started) < 4:  # resource tracker, forkserver, pool worker, run child
        started |= _descendants(proc.pid)
        time.sleep(0.2)
    assert len(started) >= 4, started
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(p) for p in started):
        time.sleep(0.2)
    assert not [p for p in started if _running(p)]
