"""How the exact MILP scales, against a naive path formulation, and the gain of splitting.

Part 1 -- scaling. Tiered instances S (11 nodes), M (341 nodes, 256 classes)
and L (1,365 nodes, 1,024 classes), each with 5 tasks x 4 models x 30 cuts,
generated from ``benchmarks/instances/{S,M,L}.yaml``. For each:

- ``milp``: branch-and-price over the whole route space of DESIGN.md;
- ``milp routes=upward``: the same method restricted to routes computing on
  the path from the origin to the cloud (the route space of the naive model);
- ``naive``: ``milp-pyomo routes=upward``: every such route a Pyomo variable,
  one Pyomo constraint per storage requirement, solved by HiGHS.

It prints model size (variables, constraints), build and solve time, wall
time, objective, gap and status, and the naive/milp time ratio on the same
route space. Part 2 -- gains: on the shipped instances, mean latency of
optimal splitting (``milp``) against ``device-only``, ``edge-only`` and
``cloud-only`` (objective = latency only, SLOs lifted so every baseline has a
plan, capacities and accuracy floors kept): the table Neurosurgeon and DADS report.

The same tables come from the harness, stored and resumable:
``idnplan bench run benchmarks/suites/scaling.yaml`` and ``.../gains.yaml``
(see docs/benchmarks.md).

Usage::

    python benchmarks/milp_scaling.py [--sizes S,M,L] [--no-naive] [--naive-time-limit 900]
                                      [--no-gains] [--json results.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.timing import median_run  # noqa: E402
from placement import InfeasibleError, Instance, SolverError, load_instance  # noqa: E402
from placement.fileio import parse_model, read_document  # noqa: E402
from placement.generate import GeneratorConfig, generate  # noqa: E402
from placement.report import table  # noqa: E402
from solvers import solve  # noqa: E402


def bench_instance(size: str, workdir: Path) -> Instance:
    cfg_path = ROOT / "benchmarks" / "instances" / f"{size}.yaml"
    data, lines = read_document(cfg_path)
    cfg = parse_model(GeneratorConfig, data, str(cfg_path), lines)
    spec, _ = generate(cfg, cfg_path.parent)
    return Instance.from_spec(spec, workdir, f"{size} (generated)")


def run(inst: Instance, method: str, **kw) -> dict:
    label = method + ("" if not kw.get("routes") else f" routes={kw['routes']}")
    t = time.perf_counter()
    try:
        plan = solve(inst, method, **kw)
    except InfeasibleError as exc:
        return {"method": label, "status": "infeasible", "wall_s": time.perf_counter() - t, "reason": exc.reasons[0]}
    except SolverError as exc:  # e.g. no plan within the time limit
        return {"method": label, "status": "no plan", "wall_s": time.perf_counter() - t, "reason": str(exc)}
    wall = time.perf_counter() - t
    st = plan.stats
    variables = st.get("variables", (st.get("columns", 0) + st.get("storage_variables", 0)) or None)
    return {
        "method": method + ("" if not kw.get("routes") else f" routes={kw['routes']}"),
        "status": str(plan.status),
        "variables": variables,
        "constraints": st.get("constraints", st.get("rows")),
        "build_s": plan.build_time_s,
        "solve_s": plan.solve_time_s,
        "wall_s": wall,
        "objective": plan.objective,
        "gap": plan.gap if plan.gap is not None else st.get("gap", _scope_gap(st)),
        "routes": st.get("routes"),
        "cg_rounds": st.get("cg_rounds"),
    }


def _scope_gap(stats: dict) -> float | None:
    obj, bound = stats.get("solver_objective"), stats.get("solver_bound")
    if obj is None or bound is None:
        return None
    return max(0.0, (obj - bound) / max(abs(obj), 1e-12))


def repeated(inst: Instance, method: str, repeats: int, **kw) -> dict:
    """``run`` ``repeats`` times: the median run's figures, with the wall-time min and max."""
    runs = []
    for _ in range(repeats):
        inst.cache.clear()
        inst.topology.trees.clear()
        runs.append(run(inst, method, **kw))
    return median_run(runs, "wall_s")


def scaling(sizes: list[str], naive: bool, naive_limit: float, workdir: Path, repeats: int = 1, naive_repeats: int = 1, time_limit: float | None = None) -> list[dict]:
    """Every size in its own process, so each row's peak memory is that size's alone."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    rows = []
    for size in sizes:
        with ctx.Pool(1) as pool:
            rows.extend(pool.apply(_size_rows, (size, naive, naive_limit, str(workdir), repeats, naive_repeats, time_limit)))
    return rows


def _size_rows(size: str, naive: bool, naive_limit: float, workdir: str, repeats: int, naive_repeats: int, time_limit: float | None) -> list[dict]:
    import resource

    rows = []
    t = time.perf_counter()
    inst = bench_instance(size, Path(workdir))
    load = time.perf_counter() - t
    print(f"[{size}] {inst.summary()} (generated and validated in {load:.1f} s)", flush=True)
    base = {"size": size, "nodes": len(inst.nodes), "classes": len(inst.demands), "load_s": load}
    limit = {} if time_limit is None else {"time_limit_s": time_limit}
    naive_runs = [("milp-pyomo", {"routes": "upward", "time_limit_s": naive_limit})] if naive else []
    for method, kw in [("milp", dict(limit)), ("milp", {"routes": "upward", **limit})] + naive_runs:
        res = repeated(inst, method, naive_repeats if method == "milp-pyomo" else repeats, **kw)
        if method == "milp-pyomo":
            res["method"] = "naive (milp-pyomo routes=upward)"
        # peak resident memory of this process so far (kilobytes on Linux): loading, and every run before
        res["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append({**base, **res})
        print(f"    {res['method']}: {res['status']} J={res.get('objective')} wall {res['wall_s']:.1f} s, peak {res['peak_mb']:.0f} MB", flush=True)
    return rows


def gains(workdir: Path, load: float = 1.0) -> list[dict]:
    """Gain of optimal splitting over the baselines on every shipped instance; ``load`` scales all rates."""
    rows = []
    for path in sorted((ROOT / "instances").glob("idn-*.yaml"), key=lambda p: int(p.stem.split("-")[1])):
        inst0 = load_instance(path)
        spec = copy.deepcopy(inst0.spec)
        spec.objective.weights.latency, spec.objective.weights.inaccuracy, spec.objective.weights.energy = 1.0, 0.0, 0.0
        for d in spec.demand:
            d.max_latency_s = 1.0e6  # lift SLOs so every baseline has a plan to compare
            d.rate_rps *= load
        inst = Instance.from_spec(spec, path.parent, str(path))
        out = {"instance": path.stem, "nodes": len(inst.nodes), "classes": len(inst.demands)}
        for method in ("device-only", "edge-only", "cloud-only", "milp"):
            try:
                plan = solve(inst, method)
                out[method] = plan.metrics.mean_latency_s
                out[method + "_energy"] = plan.metrics.mean_energy_j
                if method == "milp":  # does any capacity bind? (the title says so, honestly)
                    out["milp_max_util"] = max(plan.metrics.max_node_utilization, plan.metrics.max_link_utilization or 0.0)
                    out["max_utilization"] = inst.max_utilization
            except InfeasibleError as exc:
                out[method] = None
                out[method + "_why"] = exc.reasons[min(1, len(exc.reasons) - 1)]
        # device-only serves only the classes whose origin can hold a model: compare on those
        local = [d for d in spec.demand if _device_can_serve(inst, d)]
        out["device_classes"] = len(local)
        if local and len(local) < len(spec.demand):
            sub = copy.deepcopy(spec)
            sub.demand = local
            sub_inst = Instance.from_spec(sub, path.parent, str(path))
            for method in ("device-only", "milp"):
                try:
                    out[f"{method}@device-classes"] = solve(sub_inst, method).metrics.mean_latency_s
                except InfeasibleError:
                    out[f"{method}@device-classes"] = None
        elif local:
            out["device-only@device-classes"], out["milp@device-classes"] = out["device-only"], out["milp"]
        rows.append(out)
        print(f"[gains, load x{load:g}] {path.stem} done", flush=True)
    return rows


def _device_can_serve(inst: Instance, demand) -> bool:
    node = inst.node[demand.origin]
    return any(
        m.accuracy >= demand.min_accuracy and m.total_param_bytes <= node.memory_bytes and float(m.peak_activation_bytes.max()) <= node.ram_bytes
        for m in inst.models.values() if m.task == demand.task
    )


def fmt(x, spec=".3f"):
    return "-" if x is None else format(x, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="S,M,L", help="comma-separated among S, M, L, XL (XL: the 11,337-node TinyML fleet)")
    ap.add_argument("--time-limit", type=float, help="time limit of each milp run in seconds (default none; use e.g. 600 with XL)")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive Pyomo formulation")
    ap.add_argument("--naive-time-limit", type=float, default=900.0)
    ap.add_argument("--repeats", type=int, default=1, help="runs of milp per size; wall time as median [min-max] (default 1)")
    ap.add_argument("--naive-repeats", type=int, default=1, help="runs of the naive formulation per size (default 1: it is slow)")
    ap.add_argument("--no-gains", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="idnplan-bench-"))
    print(f"host: {platform.processor() or platform.machine()}, Python {platform.python_version()}; times in seconds, wall = whole method call")
    rows = scaling(args.sizes.split(","), not args.no_naive, args.naive_time_limit, workdir, args.repeats, args.naive_repeats, args.time_limit)
    print()
    print(table(
        ["size", "nodes", "classes", "method", "status", "variables", "constraints", "build_s", "solve_s", "wall_s median [min-max]", "runs", "objective_J", "gap", "peak_MB"],
        [[r["size"], r["nodes"], r["classes"], r["method"], r["status"], r.get("variables") or "-", r.get("constraints") or "-",
          fmt(r.get("build_s"), ".2f"), fmt(r.get("solve_s"), ".2f"), f"{r['wall_s']:.2f} [{r['wall_min_s']:.2f}-{r['wall_max_s']:.2f}]", r["runs"],
          fmt(r.get("objective"), ".9f"), fmt(r.get("gap"), ".1e"), f"{r['peak_mb']:.0f}"] for r in rows],
        "lrrllrrrrrrrrr",
    ))
    print()
    for size in args.sizes.split(","):
        by = {r["method"]: r for r in rows if r["size"] == size}
        up, naive = by.get("milp routes=upward"), by.get("naive (milp-pyomo routes=upward)")
        full = by.get("milp")
        if up and naive and up.get("objective") and naive.get("objective"):
            print(f"{size}: naive / milp on the same (upward) route space: {naive['wall_s'] / up['wall_s']:.1f}x median wall time; objectives {naive['objective']:.9f} vs {up['objective']:.9f}")
        if full and up and full.get("objective") and up.get("objective"):
            print(f"{size}: whole route space vs upward only: J {full['objective']:.9f} vs {up['objective']:.9f} ({(up['objective'] - full['objective']) / up['objective']:.3%} better)")
    result = {"scaling": rows}
    for load in ([] if args.no_gains else [1e-3, 1.0]):
        g = gains(workdir, load)
        result[f"gains_load_{load:g}"] = g
        print()
        binds = [r["instance"] for r in g if r.get("milp_max_util") is not None and r["milp_max_util"] >= r["max_utilization"] * (1 - 1e-6)]
        if load < 1:
            what = "light load (every rate x 1e-3: no capacity binds, as in Neurosurgeon/DADS)"
        elif binds:
            what = f"nominal load (shipped rates; a capacity binds in the milp plan of {', '.join(binds)})"
        else:
            what = "nominal load (shipped rates; with latency the only objective no capacity binds in the milp plans, so this equals light load)"
        print(f"Mean latency per request (ms, estimated), {what}; latency is the only objective, SLOs lifted; gain = baseline / optimal split")
        print(table(
            ["instance", "nodes", "classes", "device-only", "edge-only", "cloud-only", "milp (split)", "gain vs device", "gain vs edge", "gain vs cloud"],
            [[r["instance"], r["nodes"], r["classes"], fmt(r["device-only"] and r["device-only"] * 1e3), fmt(r["edge-only"] and r["edge-only"] * 1e3),
              fmt(r["cloud-only"] and r["cloud-only"] * 1e3), fmt(r["milp"] and r["milp"] * 1e3),
              *[("-" if r[b] is None or not r["milp"] else f"{r[b] / r['milp']:.2f}x") for b in ("device-only", "edge-only", "cloud-only")]] for r in g],
            "lrrrrrrrrr",
        ))
        print()
        print("device-only can serve only classes whose origin holds a whole model; on those classes alone:")
        print(table(
            ["instance", "classes served on device", "device-only_ms", "milp (split)_ms", "gain vs device"],
            [[r["instance"], f"{r['device_classes']} of {r['classes']}", fmt(r.get("device-only@device-classes") and r["device-only@device-classes"] * 1e3),
              fmt(r.get("milp@device-classes") and r["milp@device-classes"] * 1e3),
              "-" if not r.get("device-only@device-classes") or not r.get("milp@device-classes") else f"{r['device-only@device-classes'] / r['milp@device-classes']:.2f}x"] for r in g],
            "lrrrr",
        ))
        for r in g:
            for b in ("device-only", "edge-only", "cloud-only"):
                if r[b] is None:
                    print(f"  {r['instance']} {b} on all classes: no plan ({r.get(b + '_why', '')})")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
