"""Pareto benchmark (issue 11): nsga2, nsga3, epsilon and weights on S, idn-100 and M.

Per instance and method: points, hypervolume (one reference point per
instance: nadir of all fronts + 10 % of the range), its ratio to epsilon's,
time (measured wall time, and CPU time of the process, which a shared host
disturbs less), how many nsga points the epsilon front dominates, and how
many of epsilon's points are certified for the whole route space (epsilon
prices routes in beyond the pool unless ``--no-price``). The instances are run with ``routing: unsplittable`` by default
(``--routing as-is`` keeps the file's): then every method searches the same
finite set of plans and epsilon's grid points are exact front points (a
splittable front is a continuum that a grid samples).

    PYTHONPATH=. python benchmarks/pareto.py
    PYTHONPATH=. python benchmarks/pareto.py --instances S --objectives latency,energy --points 10
    PYTHONPATH=. python benchmarks/pareto.py --instances M --points 8 --methods epsilon,nsga2,nsga3 --time-limit 900
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from milp_scaling import bench_instance  # noqa: E402

from placement import Instance, load_instance  # noqa: E402
from placement.front import write_front  # noqa: E402
from placement.pareto_cli import compare_fronts  # noqa: E402
from placement.report import table  # noqa: E402
from solvers.pareto import pareto  # noqa: E402


def instance(name: str, routing: str, workdir: Path) -> Instance:
    inst = load_instance(ROOT / "instances" / f"{name}.yaml") if name.startswith("idn") else bench_instance(name, workdir)
    if routing == "as-is" or inst.routing == routing:
        return inst
    spec = inst.spec.model_copy(update={"options": inst.spec.options.model_copy(update={"routing": routing})})
    base = ROOT / "instances" if name.startswith("idn") else workdir
    return Instance.from_spec(spec, base, f"{name} ({routing})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="S,idn-100,M")
    ap.add_argument("--objectives", default="latency,energy")
    ap.add_argument("--routing", default="unsplittable", choices=["unsplittable", "splittable", "as-is"])
    ap.add_argument("--points", type=int, help="epsilon grid points per bounded objective (default: the complete front by recursion, within the time limit)")
    ap.add_argument("--weights", type=int, default=8, help="weight divisions per objective (weights)")
    ap.add_argument("--pop", type=int, default=60)
    ap.add_argument("--gens", type=int, default=80)
    ap.add_argument("--max-routes", type=int, default=40, help="routes per class in every method's pool")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per method run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="epsilon,weights,nsga2,nsga3", help="methods to run (epsilon always: it is the reference)")
    ap.add_argument("--save", type=Path, help="write every front to DIR/INSTANCE-METHOD.json (idnplan pareto compare reads them)")
    ap.add_argument("--no-price", action="store_true", help="epsilon and weights over the pool only (no column generation)")
    args = ap.parse_args()
    wanted = {"epsilon", *args.methods.split(",")}
    price = {"price": not args.no_price}
    objectives = args.objectives.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.instances.split(","):
            inst = instance(name, args.routing, Path(tmp))
            print(f"[{name}] {inst.summary()}", flush=True)
            fronts, cpu = {}, {}
            runs = (("epsilon", {**price} if args.points is None else {"points": args.points, **price}), ("weights", {"points": args.weights, **price}), ("nsga2", {"pop": args.pop, "gens": args.gens}), ("nsga3", {"pop": args.pop, "gens": args.gens}))
            for method, kw in (r for r in runs if r[0] in wanted):
                t, c = time.perf_counter(), time.process_time()
                fronts[method] = pareto(inst, method, objectives, time_limit_s=args.time_limit, seed=args.seed, max_routes=args.max_routes, **kw)
                cpu[method] = time.process_time() - c
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    write_front(fronts[method], args.save / f"{name}-{method}.json")
                print(f"  {method}: {len(fronts[method].points)} points in {time.perf_counter() - t:.1f} s ({cpu[method]:.1f} s CPU; load average {os.getloadavg()[0]:.1f})", flush=True)
            cmp = compare_fronts(list(fronts.values()))
            hv = {m: f["hypervolume"] for m, f in zip(fronts, cmp["fronts"])}
            E = fronts["epsilon"].F
            for m, f in fronts.items():
                dominated = "-"
                if m.startswith("nsga") and len(E):
                    F = f.F
                    dom = [np.any(np.all(E <= x + 1e-12 * np.abs(x), axis=1) & np.any(E < x - 1e-9 * np.abs(x), axis=1)) for x in F]
                    dominated = f"{int(np.sum(dom))}/{len(F)}"
                ratio = hv[m] / hv["epsilon"] if hv["epsilon"] > 0 else float("nan")
                certified = f"{sum(bool(p.plan.stats.get('certified')) for p in f.points)}/{len(f.points)}" if m in ("epsilon", "weights") else "-"
                rows.append([name, m, len(f.points), f"{hv[m]:.4g}", f"{ratio:.3f}", f"{f.solve_time_s:.1f}", f"{f.solve_time_s / max(fronts['epsilon'].solve_time_s, 1e-9):.3f}", f"{cpu[m]:.1f}", f"{cpu[m] / max(cpu['epsilon'], 1e-9):.3f}", dominated, certified, f.status + (" (time limit)" if any("time limit" in n for n in f.notes) else "")])
    print()
    grid = "complete front by recursion" if args.points is None else f"grid of {args.points} per bounded objective"
    print(f"objectives {args.objectives}; routing {args.routing}; epsilon {grid} ({args.time_limit:g} s limit, {'pool only' if args.no_price else 'routes priced in by column generation'}); weights {args.weights} divisions; pool {args.max_routes} routes per class; pop {args.pop} x {args.gens} generations; seed {args.seed}; load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(table(["instance", "method", "points", "hypervolume", "HV / epsilon", "time_s", "time / epsilon", "cpu_s", "cpu / epsilon", "nsga points dominated by epsilon", "certified", "status"], rows, "llrrrrrrrrrl"))


if __name__ == "__main__":
    main()
