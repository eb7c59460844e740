"""Speed and accuracy of ``idnplan simulate``: heap loop against SimPy, ps prediction against the CIs.

For the shipped ``idn-100`` and the generated M instance of
``benchmarks/milp_scaling.py`` (341 nodes, 256 classes) at nominal load, with
the ``greedy`` plan: simulate 600 s (60 s warm-up) and print wall time
(engine alone and end to end, compile and statistics included), events
(arrivals + one entry and one departure per server visit), events/s, measured
requests, how many classes with >= 1,000 requests have the analytical ps mean
inside their 95 % CI and inside the simultaneous (Bonferroni) 95 % CI, and
the waiting per request that the load-independent model leaves out.

Usage::

    python benchmarks/simulate_speed.py [--duration 600] [--engines heap,simpy] [--json out.json]
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

from placement import load_instance  # noqa: E402
from placement.report import table  # noqa: E402
from placement.simulate import ci_coverage, simulate  # noqa: E402
from solvers import solve  # noqa: E402

CASES = [
    ("idn-100", "heap", "ps", "exponential"),
    ("idn-100", "heap", "ps", "deterministic"),
    ("idn-100", "heap", "fifo", "exponential"),
    ("idn-100", "simpy", "ps", "exponential"),
    ("M", "heap", "ps", "exponential"),
    ("M", "heap", "ps", "deterministic"),
    ("M", "heap", "fifo", "exponential"),
    ("M", "simpy", "ps", "exponential"),
]


def instances(workdir: Path) -> dict:
    out = {}
    for name in ("idn-100", "M"):
        inst = load_instance(ROOT / "instances" / "idn-100.yaml") if name == "idn-100" else bench_instance("M", workdir)
        out[name] = (inst, solve(inst, method="greedy"))
    return out


def run_case(inst, plan, engine: str, discipline: str, service: str, duration_s: float, seed: int) -> dict:
    start = time.perf_counter()
    res = simulate(inst, plan, duration_s, duration_s / 10, seed, service, discipline, engine=engine)
    total = time.perf_counter() - start
    cov = ci_coverage(res, 1000)
    n = sum(c.requests for c in res.classes)
    sim = sum(c.requests * c.mean_latency_s for c in res.classes if c.requests) / n
    none = sum(c.requests * c.no_wait_latency_s for c in res.classes if c.requests) / n
    return {
        "engine": engine, "discipline": discipline, "service": service, "duration_s": duration_s,
        "engine_wall_s": res.wall_s, "total_wall_s": total, "events": res.events, "events_per_s": res.events_per_s,
        "requests": res.requests, **cov, "mean_latency_s": sim, "no_wait_latency_s": none,
        "max_planned_utilization": res.servers[0].planned_utilization if res.servers else 0.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=600.0, help="simulated seconds (default 600)")
    ap.add_argument("--engines", default="heap,simpy", help="engines to run (default heap,simpy)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="FILE", help="also write the rows here")
    args = ap.parse_args()
    engines = set(args.engines.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        insts = instances(Path(tmp))
        rows = []
        for name, engine, discipline, service in CASES:
            if engine not in engines:
                continue
            inst, plan = insts[name]
            row = {"instance": name, "classes_total": len(inst.demands), **run_case(inst, plan, engine, discipline, service, args.duration, args.seed)}
            rows.append(row)
            print(f"{name} {engine} {discipline} {service}: {row['total_wall_s']:.1f} s", file=sys.stderr, flush=True)
    print(f"# simulate_speed: {args.duration:g} simulated s, greedy plans, seed {args.seed}; {platform.python_implementation()} "
          f"{platform.python_version()} on {platform.machine()}")
    headers = ["instance", "engine", "discipline", "service", "engine_wall_s", "total_wall_s", "events", "events_per_s",
               "requests", "in_ci95", "in_simultaneous_ci95", "mean_latency_ms", "no_wait_ms", "max_rho"]
    print(table(headers, [[
        r["instance"], r["engine"], r["discipline"], r["service"], f"{r['engine_wall_s']:.1f}", f"{r['total_wall_s']:.1f}",
        f"{r['events']:,}", f"{r['events_per_s']:,.0f}", f"{r['requests']:,}",
        f"{r['inside_ci95']}/{r['classes']}", f"{r['inside_simultaneous_ci95']}/{r['classes']}",
        f"{r['mean_latency_s'] * 1e3:.2f}", f"{r['no_wait_latency_s'] * 1e3:.2f}", f"{r['max_planned_utilization']:.2f}",
    ] for r in rows], "llllrrrrrrrrrr"))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
