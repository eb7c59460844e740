"""Harness overhead per run, and the speed-up of two local workers over one.

Part 1: 1,000 trivial runs (greedy on the two-node ``tiny`` instance), one
worker: overhead per run = sweep wall time / runs - the method's own time
(``method_s``, measured inside the run process). It includes starting the run
process, rebuilding the instance from its JSON, evaluating the plan,
returning the row and committing it to SQLite. Measured twice: runs forked
from the warm pool (the default, :mod:`bench.pool`) and a new forkserver
process per run (``LocalExecutor(warm_pool=False)``).
Part 2: a 200-run CPU-bound suite (milp on idn-10, one HiGHS thread) with 1
and 2 workers (warm pool). The load average (1 min) before and after each part is printed:
other jobs on the machine inflate both figures.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/harness_overhead.py [--runs 1000] [--speedup-runs 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.executors import LocalExecutor  # noqa: E402
from bench.store import Store  # noqa: E402
from bench.suite import load_suite  # noqa: E402
from bench.sweep import run_suite  # noqa: E402
from placement.report import table  # noqa: E402

SLEEPER = """
import time
from solvers import register, solve


@register("overhead-sleep", "sleep 50 ms, then greedy")
def _sleep(instance, opts):
    time.sleep(0.05)
    return solve(instance, "greedy", seed=opts.seed)
"""


def sweep(folder: Path, name: str, suite: dict, workers: int, warm_pool: bool = True) -> tuple[float, list[dict]]:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(suite))
    with Store(folder / f"{name}-{workers}-{warm_pool}.sqlite") as store:
        summary = run_suite(load_suite(path), store, LocalExecutor(workers, warm_pool), progress=False)
        return summary.wall_s, store.rows()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--speedup-runs", type=int, default=200)
    ap.add_argument("--part", choices=["1", "2", "both"], default="both")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="idnplan-overhead-"))
    print(f"host: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; times measured, wall-clock")
    trivial = {"name": "trivial", "instances": [{"factory": "tiny"}], "methods": [{"method": "greedy"}], "seeds": [0], "repeats": args.runs}
    sweep(folder, "warm", {**trivial, "name": "warm", "repeats": 5}, 1)  # starts the forkserver
    rows_out = []
    for pool in (True, False) if args.part != "2" else ():
        load_before = os.getloadavg()[0]
        wall, rows = sweep(folder, "trivial", trivial, 1, pool)
        n = len(rows)
        method = statistics.fmean(r["method_s"] for r in rows)
        load = statistics.fmean(r["load_s"] for r in rows)
        child = statistics.fmean(r["wall_s"] for r in rows)
        rows_out.append(["warm pool (fork per run)" if pool else "forkserver process per run", n, f"{1e3 * wall / n:.1f}", f"{1e3 * method:.2f}",
                         f"{1e3 * load:.2f}", f"{1e3 * child:.1f}", f"{1e3 * (wall / n - method):.1f}", f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"])
    if rows_out:
        print()
        print("Part 1: trivial runs, 1 worker (ms per run, mean)")
        print(table(["isolation", "runs", "sweep wall / run", "method (solve call)", "instance rebuild", "whole run process", "overhead beyond the method", "load avg before / after"],
                    rows_out, "lrrrrrrr"))
    if args.part == "1":
        return 0
    cpu = {"name": "cpu", "instances": [{"file": str(ROOT / "instances" / "idn-10.yaml")}], "methods": [{"method": "milp", "threads": 1}],
           "seeds": [0], "repeats": args.speedup_runs}
    times, loads = {}, {}
    for w in (1, 2):
        before = os.getloadavg()[0]
        times[w] = sweep(folder, "cpu", cpu, w)[0]
        loads[w] = f"{before:.1f} / {os.getloadavg()[0]:.1f}"
    print()
    print(f"Part 2: {args.speedup_runs} runs of milp on idn-10 (warm pool)")
    print(table(["workers", "sweep wall s", "speed-up", "load avg before / after"], [[w, f"{t:.1f}", f"{times[1] / t:.2f}x", loads[w]] for w, t in times.items()]))
    # Part 3: the same number of runs that wait instead of computing: the harness's own parallelism, free cores or not
    plugin = folder / "sleeper.py"
    plugin.write_text(SLEEPER)
    sleepy = {"name": "sleep", "plugins": [str(plugin)], "instances": [{"factory": "tiny"}], "methods": [{"method": "overhead-sleep"}],
              "seeds": [0], "repeats": args.speedup_runs}
    waits = {w: sweep(folder, "sleep", sleepy, w)[0] for w in (1, 2)}
    print()
    print(f"Part 3: {args.speedup_runs} runs that sleep 50 ms (then greedy on tiny)")
    print(table(["workers", "sweep wall s", "speed-up"], [[w, f"{t:.1f}", f"{waits[1] / t:.2f}x"] for w, t in waits.items()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
