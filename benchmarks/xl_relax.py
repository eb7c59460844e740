"""``relax`` on a whole generated fleet (default XL): wall and CPU time, gap, peak memory, load average.

Runs ``relax`` once on ``benchmarks/instances/<size>.yaml`` (queueing as in
the file unless ``--queueing`` says otherwise) with ``--mip-gap`` (default
2 %) and ``--jobs`` pricing processes, and prints one row: status, J, bound,
gap, wall seconds, CPU seconds (this process and its pricing processes),
the phases from the plan's stats, peak RSS of this process and of the
largest pricing process, and the host's load average at the end; then the
evaluator's check of the plan (feasible, J recomputed from its routes).

Usage::

    python benchmarks/xl_relax.py [--size XL] [--jobs 2] [--time-limit 600] [--queueing none|ps]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from milp_scaling import bench_instance  # noqa: E402

from placement import evaluate  # noqa: E402
from placement.errors import IdnplanError  # noqa: E402
from solvers import solve  # noqa: E402
from solvers.congestion import with_queueing  # noqa: E402


def cpu_s() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="XL")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--mip-gap", type=float, default=0.02)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--queueing", choices=("none", "ps"), default=None, help="override the file's queueing")
    ap.add_argument("--no-partial", action="store_true", help="full pricing passes only")
    ap.add_argument("--log", action="store_true", help="print relax's progress (each round and rounding) to stderr")
    args = ap.parse_args()
    if args.log:
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)9.0f ms %(message)s")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        inst = bench_instance(args.size, Path(tmp))
    if args.queueing:
        inst = with_queueing(inst, args.queueing)
    build_s = time.perf_counter() - t0
    print(f"{args.size}: {len(inst.nodes)} nodes, {len(inst.demands)} classes, queueing {inst.queueing}; built in {build_s:.1f} s", flush=True)
    t1, c1 = time.perf_counter(), cpu_s()
    try:
        plan = solve(inst, "relax", time_limit_s=args.time_limit, mip_gap=args.mip_gap, jobs=args.jobs, partial_pricing=not args.no_partial)
    except IdnplanError as e:
        lines = str(e).splitlines()
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"{type(e).__name__} after {time.perf_counter() - t1:.1f} s wall, {cpu_s() - c1:.1f} CPU s: {lines[0]} ({len(getattr(e, 'reasons', []) or lines[1:])} reasons);"
              f" peak RSS {me.ru_maxrss / 1e6:.2f} GB (largest pricing process {kids.ru_maxrss / 1e6:.2f} GB); load average {os.getloadavg()[0]:.1f}")
        print("\n".join(lines[1:4]))
        raise SystemExit(e.exit_code) from None
    wall, cpu = time.perf_counter() - t1, cpu_s() - c1
    s = plan.stats
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"status {plan.status}, J {plan.objective:.6f}, bound {plan.bound:.6f}, gap {plan.gap:.2e}; relax wall {wall:.1f} s, CPU {cpu:.1f} s (jobs {args.jobs});"
          f" initial routes {s['initial_routes_s']:.1f} s, relaxations {s['relaxation_s']:.1f} s, pricing {s['pricing_s']:.1f} s ({s['pricing_cpu_s']:.1f} CPU s),"
          f" {s['full_passes']} full and {s['partial_passes']} partial passes, {s['rounds']} rounds, {s['routes']} routes;"
          f" peak RSS {me.ru_maxrss / 1e6:.2f} GB (largest pricing process {kids.ru_maxrss / 1e6:.2f} GB); load average {os.getloadavg()[0]:.1f}", flush=True)
    for note in plan.notes:
        print("  " + note)
    t2 = time.perf_counter()
    ev = evaluate(inst, plan)  # the evaluator recomputes every figure from the plan's routes
    print(f"evaluator ({time.perf_counter() - t2:.1f} s): feasible {ev.feasible}, J {ev.objective:.9f} (plan says {plan.objective:.9f}),"
          f" {len(ev.violations)} violations, {len(ev.mismatches)} mismatches, max node utilization {ev.metrics.get('max_node_utilization', 0.0):.3f}, max link utilization {ev.metrics.get('max_link_utilization', 0.0):.3f}", flush=True)


if __name__ == "__main__":
    main()
