"""``idnplan pareto``: compute a Pareto front, or compare fronts (hypervolume, additive epsilon)."""

from __future__ import annotations

import argparse
import json

from .cliargs import method_options
from .errors import InfeasibleError, InputError
from .kernel import OBJECTIVES

#: Column heading of each objective in tables (unit in the name).
HEADINGS = {"latency": "mean_latency_s", "inaccuracy": "mean_inaccuracy", "energy": "mean_energy_j", "network": "network_bytes_per_s"}


def add_pareto_parser(sub) -> None:
    s = sub.add_parser(
        "pareto",
        help="Pareto front of feasible plans over latency, inaccuracy, energy, network; or `pareto compare A.json B.json`",
        description="idnplan pareto INSTANCE [options] -o FRONT.json  |  idnplan pareto compare FRONT.json FRONT.json [...]",
    )
    s.add_argument("args", nargs="+", metavar="INSTANCE | compare FRONT...", help="an instance file, or 'compare' and two or more front files")
    s.add_argument("--objectives", default=",".join(OBJECTIVES), help=f"comma-separated, from {','.join(OBJECTIVES)} (default: all four)")
    s.add_argument("--method", "-m", default="epsilon", help="epsilon | nsga2 | nsga3 | weights (default epsilon)")
    s.add_argument("--pop", type=int, help="population size (nsga2, nsga3)")
    s.add_argument("--gens", type=int, help="generations (nsga2, nsga3)")
    s.add_argument("--points", type=int, help="grid points per bounded objective (epsilon; default: complete front) or weight divisions (weights)")
    s.add_argument("--max-routes", type=int, help="routes per class in the pool (more: best by each objective)")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="other method option (repeatable; see idnplan methods NAME)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--time-limit", type=float, metavar="S", help="seconds; the front found so far is returned")
    s.add_argument("--out", "-o", metavar="FRONT.json", help="write the front here (atomically)")
    s.add_argument("--plot", metavar="FRONT.png", help="draw the front (PNG/SVG; needs matplotlib)")
    s.add_argument("--json", action="store_true", help="print the front (or the comparison) as JSON")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    s.set_defaults(func=cmd_pareto)


def cmd_pareto(args: argparse.Namespace) -> int:
    if args.args[0] == "compare":
        return _compare(args, args.args[1:])
    if len(args.args) != 1:
        raise InputError(f"pareto: expected one INSTANCE (or 'compare' and front files), got {' '.join(args.args)}")
    return _front(args, args.args[0])


def _front(args: argparse.Namespace, path: str) -> int:
    import sys

    from solvers.pareto import pareto

    from .front import write_front
    from .instance import load_instance

    inst = load_instance(path)
    extra: dict = {}
    for key, value in (("pop", args.pop), ("gens", args.gens), ("points", args.points), ("max_routes", args.max_routes)):
        if value is not None:
            extra[key] = value
    extra.update(method_options(args.option))
    if not args.quiet and not args.json:
        print(f"pareto front of {inst.summary()} by '{args.method}' over {args.objectives}...", file=sys.stderr)
    front = pareto(inst, args.method, args.objectives, time_limit_s=args.time_limit, seed=args.seed, **extra)
    if not front.points:
        raise InfeasibleError(["no feasible plan found" + (" (the instance may be infeasible: try `idnplan solve` for a diagnosis)" if front.status == "exact" else "")], method=args.method)
    if args.out:
        write_front(front, args.out)
    if args.plot:
        from .plot import plot_front

        plot_front(front, args.plot)
    if args.json:
        print(json.dumps(front.model_dump(mode="json"), indent=2))
        return 0
    print(front_text(front))
    for path_, what in ((args.out, "front"), (args.plot, "plot")):
        if path_:
            print(f"{what} written to {path_}")
    return 0


def front_text(front) -> str:
    """The points of a front as a table, with hypervolume and reference point."""
    from .report import table

    rows = [[i, *(f"{p.objectives[o]:.6g}" for o in front.objectives), f"{p.plan.objective:.6g}", len(p.plan.routes)] for i, p in enumerate(front.points)]
    lines = [table(["point", *(HEADINGS[o] for o in front.objectives), "J", "routes"], rows, "r" * (len(front.objectives) + 3))]
    lines.append(f"{len(front.points)} plans, status {front.status} (method {front.method}, {front.solve_time_s or 0:.2f} s); figures are estimates of the cost model")
    if front.hypervolume is not None:
        ref = ", ".join(f"{o}={v:.6g}" for o, v in zip(front.objectives, front.reference_point or []))
        lines.append(f"hypervolume {front.hypervolume:.6g} (reference point: {ref})")
    lines += [f"note: {n}" for n in front.notes]
    return "\n".join(lines)


def compare_fronts(fronts: list) -> dict:
    """Hypervolume of every front against one reference point, and the additive epsilon indicator of every pair."""
    import numpy as np

    from solvers.pareto.common import additive_epsilon, hypervolume, reference_point

    objectives = fronts[0].objectives
    for f in fronts[1:]:
        if f.objectives != objectives:
            raise InputError(f"pareto compare: fronts over different objectives ({','.join(objectives)} and {','.join(f.objectives)})")
    Fs = [f.F for f in fronts]
    ref = reference_point(*Fs)
    union = np.vstack([F for F in Fs if len(F)])
    lo, hi = union.min(axis=0), union.max(axis=0)
    hvs = [hypervolume(F, ref) for F in Fs]
    best = max(hvs) if hvs else 0.0
    return {
        "objectives": objectives,
        "reference_point": [float(x) for x in ref],
        "fronts": [{"method": f.method, "points": len(f.points), "hypervolume": hv, "hypervolume_ratio": hv / best if best > 0 else None, "solve_time_s": f.solve_time_s} for f, hv in zip(fronts, hvs)],
        "additive_epsilon": [[additive_epsilon(A, B, lo, hi) for B in Fs] for A in Fs],
    }


def _compare(args: argparse.Namespace, paths: list[str]) -> int:
    from .front import read_front
    from .report import table

    if len(paths) < 2:
        raise InputError("pareto compare: give two or more front files")
    fronts = [read_front(p) for p in paths]
    out = compare_fronts(fronts)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    rows = [[p, f["method"], f["points"], f"{f['hypervolume']:.6g}", f"{f['hypervolume_ratio']:.4f}" if f["hypervolume_ratio"] is not None else "-", f"{f['solve_time_s'] or 0:.2f}"] for p, f in zip(paths, out["fronts"])]
    print(table(["front", "method", "points", "hypervolume", "of best", "solve_time_s"], rows, "llrrrr"))
    print("reference point: " + ", ".join(f"{o}={v:.6g}" for o, v in zip(out["objectives"], out["reference_point"])))
    eps = [[p, *(f"{v:.4g}" for v in row)] for p, row in zip(paths, out["additive_epsilon"])]
    print("\nadditive epsilon I(row, column), objectives normalised to [0, 1] by the fronts' ideal and nadir (0: row covers column):")
    print(table(["", *[str(i) for i in range(len(paths))]], [[f"{i}: {r[0]}", *r[1:]] for i, r in enumerate(eps)], "l" + "r" * len(paths)))
    return 0
