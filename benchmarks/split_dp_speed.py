"""split-dp speed: one demand class, a chain model of N cuts, a path of P nodes.

Issue 4's target: a 1,000-cut model over a 6-node path in under 50 ms. The
table shows how the cost grows with the number of cuts (the DP is
O(K x P x N log N): K segments, P nodes, N layers) and, where the MILP is
quick enough, that both reach the same objective.

For each size the instance is built once (a device, an access point, an edge
server, a regional server and a cloud GPU in a line, plus one more edge hop;
memory binds on the device and the access point so the DP cannot just take
the whole model anywhere). ``best_route`` (the DP itself) is timed over
``--repeats`` runs after one warm-up run and reported as the median; ``plan``
is the whole ``solve(inst, "split-dp")`` call, evaluator included. Run from
the repository root::

    PYTHONPATH=. python benchmarks/split_dp_speed.py

The whole-solve times come from the harness too:
``idnplan bench run benchmarks/suites/split_dp_speed.yaml`` (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

from bench.factories import chain_path
from bench.timing import time_calls
from placement import InfeasibleError, Instance
from placement.report import table
from solvers import solve
from solvers.splitdp import best_route


def path_instance(layers: int, nodes: int, segments: int, seed: int = 0) -> Instance:
    """A line of ``nodes`` nodes from a phone-class device up to a cloud GPU; one class, one model."""
    spec = chain_path(layers, nodes, segments, seed)
    return Instance.from_spec(spec, None, spec.name)


def bench(layers: int, nodes: int, segments: int, repeats: int, milp_up_to: int) -> dict:
    inst = path_instance(layers, nodes, segments)
    demand = inst.demands[0]
    # one warm-up call fills the tree arrays and prefix sums cached on the instance
    timing, found = time_calls(lambda: best_route(inst, demand), repeats=repeats, warmup=1)
    t = time.perf_counter()
    try:
        plan = solve(inst, "split-dp")
        plan_s, objective, status = time.perf_counter() - t, plan.objective, str(plan.status)
    except InfeasibleError:
        plan_s, objective, status = time.perf_counter() - t, None, "infeasible"
    row = {
        "layers": layers, "path_nodes": nodes, "segments": segments,
        "dp_ms": 1e3 * timing.median_s, "dp_min_ms": 1e3 * timing.min_s,
        "plan_ms": 1e3 * plan_s, "status": status, "objective": objective,
        "route": None if found is None else " ".join(f"{s.node}[{s.first}-{s.last}]" for s in found[0].segments if s.first <= s.last),
    }
    if layers <= milp_up_to:
        t = time.perf_counter()
        try:
            exact = solve(inst, "milp", mip_gap=1e-9)
            row["milp_objective"], row["milp_s"] = exact.objective, time.perf_counter() - t
        except InfeasibleError:
            row["milp_objective"], row["milp_s"] = None, time.perf_counter() - t
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", default="100,300,1000,3000,10000", help="comma-separated model sizes (cuts)")
    ap.add_argument("--nodes", type=int, default=6, help="nodes on the path (default 6)")
    ap.add_argument("--segments", default="2,3", help="comma-separated max_segments values")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--milp-up-to", type=int, default=300, help="also solve with milp up to this many layers")
    args = ap.parse_args()
    print(f"host: {platform.machine()}, Python {platform.python_version()}; dp = best_route median of {args.repeats} [min]", flush=True)
    rows = []
    for k in (int(s) for s in args.segments.split(",")):
        for n in (int(s) for s in args.layers.split(",")):
            rows.append(bench(n, args.nodes, k, args.repeats, args.milp_up_to))
            r = rows[-1]
            print(f"  {n} layers, {k} segments: dp {r['dp_ms']:.2f} ms", flush=True)
    head = ["layers", "path nodes", "segments", "dp ms (median)", "dp ms (min)", "whole solve ms", "status", "objective J", "milp J", "milp s", "route"]
    body = [
        [r["layers"], r["path_nodes"], r["segments"], f"{r['dp_ms']:.2f}", f"{r['dp_min_ms']:.2f}", f"{r['plan_ms']:.1f}", r["status"],
         "-" if r["objective"] is None else f"{r['objective']:.9f}",
         f"{r['milp_objective']:.9f}" if r.get("milp_objective") is not None else "-",
         f"{r['milp_s']:.2f}" if "milp_s" in r else "-", r["route"] or "-"]
        for r in rows
    ]
    print()
    print(table(head, body))
    bad = [r for r in rows if r.get("milp_objective") is not None and r["objective"] is not None
           and abs(r["objective"] - r["milp_objective"]) > 1e-7 * abs(r["milp_objective"])]
    if bad:
        print(f"MISMATCH between split-dp and milp on {len(bad)} sizes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
