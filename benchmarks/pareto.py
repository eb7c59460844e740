"""Pareto benchmark (issue 11): nsga2, nsga3, epsilon and weights on S, idn-100 and M.

Per instance and method: points, hypervolume (one reference point per
instance: nadir of all fronts + 10 % of the range), its ratio to epsilon's,
time (measured wall time), and how many nsga points the epsilon front
dominates. The instances are run with ``routing: unsplittable`` by default
(``--routing as-is`` keeps the file's): then every method searches the same
finite set of plans and epsilon's grid points are exact front points (a
splittable front is a continuum that a grid samples).

    PYTHONPATH=. python benchmarks/pareto.py
    PYTHONPATH=. python benchmarks/pareto.py --instances S --objectives latency,energy --points 10
"""

from __future__ import annotations

import argparse
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
    args = ap.parse_args()
    objectives = args.objectives.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.instances.split(","):
            inst = instance(name, args.routing, Path(tmp))
            print(f"[{name}] {inst.summary()}", flush=True)
            fronts = {}
            for method, kw in (("epsilon", {} if args.points is None else {"points": args.points}), ("weights", {"points": args.weights}), ("nsga2", {"pop": args.pop, "gens": args.gens}), ("nsga3", {"pop": args.pop, "gens": args.gens})):
                t = time.perf_counter()
                fronts[method] = pareto(inst, method, objectives, time_limit_s=args.time_limit, seed=args.seed, max_routes=args.max_routes, **kw)
                print(f"  {method}: {len(fronts[method].points)} points in {time.perf_counter() - t:.1f} s", flush=True)
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
                rows.append([name, m, len(f.points), f"{hv[m]:.4g}", f"{ratio:.3f}", f"{f.solve_time_s:.1f}", f"{f.solve_time_s / max(fronts['epsilon'].solve_time_s, 1e-9):.3f}", dominated, f.status + (" (time limit)" if any("time limit" in n for n in f.notes) else "")])
    print()
    grid = "complete front by recursion" if args.points is None else f"grid of {args.points} per bounded objective"
    print(f"objectives {args.objectives}; routing {args.routing}; epsilon {grid} ({args.time_limit:g} s limit); weights {args.weights} divisions; pool {args.max_routes} routes per class; pop {args.pop} x {args.gens} generations; seed {args.seed}")
    print(table(["instance", "method", "points", "hypervolume", "HV / epsilon", "time_s", "time / epsilon", "nsga points dominated by epsilon", "status"], rows, "llrrrrrrl"))


if __name__ == "__main__":
    main()
