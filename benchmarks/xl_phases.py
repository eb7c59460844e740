"""Where ``relax``'s time and memory go on a large fleet (XL), from a sample of classes.

Building the XL instance (11,337 nodes, 10,240 classes) and running
``relax`` on it takes longer than a shared 2-core host allows, so this
measures the phases on a sample of classes (evenly spaced blocks of
``--block`` consecutive classes: the devices under one access point, which
share its re-rooted origin tree as they do in a whole pass), in CPU seconds
(robust to other jobs on the host), and extrapolates linearly to all
classes: the initial routes (the cheapest routes of each class), one
relaxation over the sample's routes (every class present, the unsampled
ones served by their artificial), and one pricing pass (route generation
with that relaxation's prices). Trees are kept in a bounded memo, far
smaller than 10,240 trees, so every pass builds them again (one Dijkstra
per access point, a re-rooting per device). Peak memory is the process's.

Usage::

    python benchmarks/xl_phases.py [--size XL] [--sample 500] [--block 10]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from milp_scaling import bench_instance  # noqa: E402

from solvers.candidates import candidate_routes  # noqa: E402
from solvers.columns import column_from_candidate  # noqa: E402
from solvers.congestion import with_queueing  # noqa: E402
from solvers.origin_trees import origin_tree  # noqa: E402
from solvers.registry import prepare  # noqa: E402
from solvers.relax import INITIAL_ROUTES, Relax  # noqa: E402


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="XL")
    ap.add_argument("--sample", type=int, default=500)
    ap.add_argument("--block", type=int, default=10, help="consecutive classes per sampled block (10: the devices of one access point, which share its tree)")
    args = ap.parse_args()
    c0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        inst = with_queueing(bench_instance(args.size, Path(tmp)), "ps")
    C = len(inst.demands)
    print(f"{args.size}: {len(inst.nodes)} nodes, {C} classes; instance built in {time.process_time() - c0:.1f} CPU s, peak {peak_gb():.2f} GB", flush=True)
    _, opts = prepare(inst, "relax", "static", None, 0.02, None, 0, False, {})
    rx = Relax(inst, opts)
    blocks = max(1, args.sample // args.block)
    sample = [c for start in range(0, C, max(args.block, C // blocks))[:blocks] for c in range(start, min(C, start + args.block))]
    prof = cProfile.Profile()
    c0 = time.process_time()
    prof.enable()
    for c in sample:
        d = inst.demands[c]
        tree = origin_tree(inst, d.origin)
        cols = []
        for cand in candidate_routes(inst, d).iterate():
            cols.append(column_from_candidate(inst, tree, cand, rx.storage_nodes))
            if len(cols) >= INITIAL_ROUTES:
                break
        rx.add(cols)
    prof.disable()
    per = (time.process_time() - c0) / len(sample)
    st = pstats.Stats(prof)
    parts = {name: 0.0 for name in ("__init__", "reroot", "pair_bounds", "_shortest_tree")}
    for (file, _line, fn), (_cc, _nc, _tt, ct, _) in st.stats.items():
        if file.endswith("candidates.py") and fn in ("__init__", "reroot", "pair_bounds"):
            parts[fn] += ct
        if fn == "_shortest_tree":
            parts[fn] += ct
    print(f"initial routes: {per * 1e3:.1f} CPU ms per class over {len(sample)} classes -> {per * C:.0f} CPU s for all {C};"
          f" of which origin trees {parts['__init__'] / len(sample) * 1e3:.1f} ms (shortest-path tree {parts['_shortest_tree'] / len(sample) * 1e3:.1f} ms),"
          f" re-rooted leaf trees {parts['reroot'] / len(sample) * 1e3:.1f} ms,"
          f" pair bounds {parts['pair_bounds'] / len(sample) * 1e3:.1f} ms per class; trees kept {len(inst.topology.trees)}, {inst.topology.trees.nbytes / 1e9:.2f} GB;"
          f" peak {peak_gb():.2f} GB", flush=True)
    from solvers.relax_model import RelaxModel

    c0 = time.process_time()
    model = RelaxModel(inst, rx.pool, rx.storage_nodes, None, fixed_rates=True)
    sol = model.solve()
    print(f"relaxation over {len(rx.pool)} routes (all {C} classes, unsampled ones artificial): {time.process_time() - c0:.1f} CPU s"
          f" (compile {model.problem.compilation_time:.1f} s, CLARABEL {model.problem.solver_stats.solve_time:.1f} s), peak {peak_gb():.2f} GB", flush=True)
    prices = model.class_prices(sol, model.server_prices(sol))
    c0 = time.process_time()
    new = 0
    for c in sample:
        _, cols = rx.price_class(inst.demands[c], prices[c], 1e-9)
        new += len(cols)
    per = (time.process_time() - c0) / len(sample)
    print(f"pricing pass: {per * 1e3:.1f} CPU ms per class -> {per * C:.0f} CPU s per round over all {C} classes ({new} routes found for {len(sample)} classes); peak {peak_gb():.2f} GB", flush=True)


if __name__ == "__main__":
    main()
