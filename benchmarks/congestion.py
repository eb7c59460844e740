"""What planning for congestion gains (options.queueing: ps), and how relax scales.

Part 1 -- on each instance at nominal, 2x and 3x load, with ``queueing: ps``:
J of ``milp`` (outer approximation of the waiting), of ``relax`` (with its
bound and gap), and of the load-blind ``milp`` plan (solved with ``queueing:
none``) re-evaluated under ``ps``: the difference is what planning for
congestion gains. A load at which no plan exists is reported as infeasible.

Part 2 -- analytical (ps) against simulated mean latency per class for the
``milp`` ps plan (``placement.simulate``, exponential service, PS servers):
the largest relative difference over classes and how many classes' 95 % CI
hold the prediction.

Part 3 -- relax gap, time and peak memory on the generated fleets at
nominal load under ``ps`` (``benchmarks/instances/<size>.yaml``; ``M-ps``
and ``L-ps`` draw SLOs every class can meet alone under waiting, see
``benchmarks/ps_slo.py``; ``XL-ps`` is the XL fleet likewise), with ``--jobs``
pricing processes, and ``milp`` (``--mip-gap 1e-3``) on the sizes of
``--milp-sizes``. Each run is a separate process (peak memory per run);
a failure prints its reason on stderr. The load average of the host is
printed with every row (the host may be shared).

Usage::

    python benchmarks/congestion.py [--instances instances/idn-10.yaml,instances/idn-100.yaml]
                                    [--loads 1,2,3] [--sizes M-ps,L-ps,XL-ps] [--milp-sizes M-ps] [--jobs 2]
                                    [--time-limit 600] [--sim-s 300]
                                    [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from milp_scaling import bench_instance  # noqa: E402

from placement import evaluate, load_instance  # noqa: E402
from placement.errors import InfeasibleError, SolverError  # noqa: E402
from placement.report import table  # noqa: E402
from solvers import solve  # noqa: E402
from solvers.congestion import with_queueing  # noqa: E402


def peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def show(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    heads = list(dict.fromkeys(h for r in rows for h in r))
    return table(heads, [[r.get(h, "") for h in heads] for r in rows])


def attempt(inst, method, why=None, **kw):
    """(plan or None, wall seconds, short status); ``why`` (a list) collects the failure's message."""
    t = time.perf_counter()
    try:
        plan = solve(inst, method, **kw)
    except (InfeasibleError, SolverError) as exc:
        if why is not None:
            why.append(f"{method}: {exc}")
        return None, time.perf_counter() - t, "infeasible" if isinstance(exc, InfeasibleError) else "no plan"
    return plan, time.perf_counter() - t, None


def part1(paths, loads, time_limit, sim_s, out):
    rows, sim_rows = [], []
    for path in paths:
        base = with_queueing(load_instance(path), "ps")
        for k in loads:
            inst = base.with_rates(base.rates * k)
            name = f"{Path(path).stem} x{k:g}"
            exact, t_m, err_m = attempt(inst, "milp", time_limit_s=time_limit, mip_gap=1e-3)
            rel, t_r, err_r = attempt(inst, "relax", time_limit_s=time_limit, mip_gap=1e-3)
            blind, _, err_b = attempt(with_queueing(inst, "none"), "milp", time_limit_s=time_limit, mip_gap=1e-3)
            ev_b = evaluate(inst, blind) if blind else None
            row = {
                "instance": name,
                "milp J": f"{exact.objective:.5f}" if exact else err_m,
                "milp gap": f"{exact.gap:.1e}" if exact else "",
                "milp s": f"{t_m:.1f}",
                "relax J": f"{rel.objective:.5f}" if rel else err_r,
                "relax gap": f"{rel.gap:.1e}" if rel else "",
                "relax s": f"{t_r:.1f}",
                "load-blind J under ps": (f"{ev_b.objective:.5f}" + ("" if ev_b.feasible else f" ({len(ev_b.violations)} violations)")) if ev_b else err_b,
            }
            if exact and ev_b:
                row["gain"] = f"{(ev_b.objective - exact.objective) / ev_b.objective:.1%}"
            rows.append(row)
            out.append({"part": 1, **row})
            if exact and sim_s:
                from placement.simulate import simulate

                res = simulate(inst, exact, duration_s=sim_s, warmup_s=sim_s / 10, seed=0)
                stats = [c for c in res.classes if c.mean_latency_s is not None]
                rel_err = max(abs(c.mean_latency_s - c.analytical_mean_latency_s) / c.analytical_mean_latency_s for c in stats) if stats else float("nan")
                inside = sum(1 for c in stats if c.analytical_in_ci)
                srow = {"instance": name, "classes": len(stats), "max |sim - analytical| / analytical": f"{rel_err:.2%}", "analytical inside 95% CI": f"{inside}/{len(stats)}"}
                sim_rows.append(srow)
                out.append({"part": 2, **srow})
            print(f"  {name} done", file=sys.stderr, flush=True)
    print(show(rows))
    if sim_rows:
        print()
        print(show(sim_rows))


def _run_size(size: str, method: str, time_limit: float, mip_gap: float, jobs: int, conn) -> None:
    """One run in a child process: (row, why) sent back through ``conn``."""
    import os

    with tempfile.TemporaryDirectory() as tmp:
        inst = with_queueing(bench_instance(size, Path(tmp)), "ps")
        why: list[str] = []
        plan, t, err = attempt(inst, method, why, time_limit_s=time_limit, mip_gap=mip_gap, **({"jobs": jobs} if method == "relax" else {}))
        row = {"instance": f"{size} ({len(inst.nodes)} nodes, {len(inst.demands)} classes)", "method": method, "status": plan.status if plan else err,
               "J": f"{plan.objective:.6f}" if plan else "", "bound": f"{plan.bound:.6f}" if plan else "",
               "gap": f"{plan.gap:.2e}" if plan else "", "time s": f"{t:.1f}", "peak RSS GB": f"{peak_rss_gb():.2f}",
               "load avg": f"{os.getloadavg()[0]:.1f}"}
        conn.send((row, why))


def part3(sizes, milp_sizes, time_limit, out, jobs: int = 2):
    import multiprocessing as mp

    rows = []
    runs = [(s, "relax", 0.02) for s in sizes] + [(s, "milp", 1e-3) for s in milp_sizes]
    for size, method, gap in runs:
        if not (ROOT / "benchmarks" / "instances" / f"{size}.yaml").exists():
            rows.append({"instance": size, "method": method, "status": "no config"})
            continue
        recv, send = mp.Pipe(duplex=False)
        proc = mp.get_context("spawn").Process(target=_run_size, args=(size, method, time_limit, gap, jobs, send))
        proc.start()
        proc.join()
        row, why = recv.recv() if recv.poll() else ({"instance": size, "method": method, "status": f"process ended ({proc.exitcode})"}, [])
        rows.append(row)
        out.append({"part": 3, **row, "why": why})
        print(f"  {size} {method} done" + "".join(f"\n    {w}" for w in why), file=sys.stderr, flush=True)
    print(show(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="instances/idn-10.yaml,instances/idn-100.yaml")
    ap.add_argument("--loads", default="1,2,3")
    ap.add_argument("--sizes", default="M-ps,L-ps,XL-ps", help="fleets for relax (benchmarks/instances/<size>.yaml)")
    ap.add_argument("--jobs", type=int, default=2, help="pricing processes of relax in part 3")
    ap.add_argument("--milp-sizes", default="M-ps", help="fleets for milp under ps")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--sim-s", type=float, default=300.0, help="simulated seconds per plan (0: skip part 2)")
    ap.add_argument("--json")
    args = ap.parse_args()
    print(f"# congestion benchmark; {platform.processor() or platform.machine()}, python {platform.python_version()}")
    out: list[dict] = []
    paths = [str(ROOT / p) if not Path(p).is_absolute() else p for p in args.instances.split(",") if p]
    if paths:
        part1(paths, [float(x) for x in args.loads.split(",")], args.time_limit, args.sim_s, out)
    if args.sizes or args.milp_sizes:
        print()
        part3([s for s in args.sizes.split(",") if s], [s for s in args.milp_sizes.split(",") if s], args.time_limit, out, args.jobs)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
