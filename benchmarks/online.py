"""Online placement benchmark: every policy x every trace kind (issue 10).

Instances: the shipped 100-node instance and generated trees (20 synthetic
models: 5 tasks x 4 models): ``tree-341`` (fanout 4,4,4,4), ``tree-103``
(3,3,10: the "100 nodes x 20 models" update-time size) and ``tree-1003``
(3,3,10,10: the 1,000-node size), with every non-repository node's memory cut
to ``--memory-fraction`` (0.15) of the bytes of the models it could hold (the
shipped memories hold every model, which makes storage trivial). Every table
line says the host's load average (a shared machine: update times are
measured beside other work).
Per (instance, trace, policy): total cost relative to hindsight, regret/T at
T/10, T/2 and T (exact hindsight at each), mean per-slot update time
(measured), bytes fetched; with update cost 0 and ``--update`` (cost per byte),
and with a congested-access resource trace.

    PYTHONPATH=. python benchmarks/online.py --slots 1000
    PYTHONPATH=. python benchmarks/online.py --slots 200 --instances idn-100 --kinds adversarial
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from placement.generate.traces import DEMAND_KINDS, generate_demand_trace, generate_resource_trace  # noqa: E402
from placement.instance import Instance, load_instance, save_instance  # noqa: E402
from placement.report import fmt_bytes, table  # noqa: E402
from solvers.online.costs import build_table  # noqa: E402
from solvers.online.runner import hindsight_costs, prepare, run_online  # noqa: E402

POLICIES = ["omd", "ftpl", "lru", "lfu", "static-first", "resolve", "hindsight"]


def tightened(inst: Instance, fraction: float, update: float, folder: Path) -> Instance:
    """The instance with each cache node's memory at ``fraction`` of its candidate models' bytes."""
    tab = build_table(inst)
    need: dict[str, float] = {}
    for k in range(tab.n_items):
        v = tab.nodes[tab.item_node[k]]
        need[v] = need.get(v, 0.0) + float(tab.item_bytes[k])
    spec = inst.spec.model_copy(deep=True)
    for n in spec.nodes:
        if n.id in need and n.id not in tab.repository:
            n.memory_bytes = fraction * need[n.id]
    spec.objective.weights.update = update
    path = folder / f"{inst.name}-mem{fraction:g}-u{update:g}.yaml"
    save_instance(spec, path, Path(inst.source).resolve().parent if inst.source else None)
    return load_instance(path)


TREES = {"tree-341": "4,4,4,4", "tree-103": "3,3,10", "tree-1003": "3,3,10,10"}


def tree(name: str, folder: Path) -> Path:
    """Generate a tree of :data:`TREES` with 5 tasks x 4 synthetic models (seed 0)."""
    out = folder / f"{name}.yaml"
    if not out.exists():
        subprocess.run([sys.executable, "-m", "placement.cli", "generate", "tiered", "-o", str(out), "--fanout", TREES[name], "--tasks", "5", "--models-per-task", "4", "--seed", "0", "--name", name], check=True, cwd=ROOT, capture_output=True)
    return out


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slots", type=int, default=1000)
    ap.add_argument("--instances", default="idn-100,tree-341")
    ap.add_argument("--kinds", default=",".join(DEMAND_KINDS))
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--memory-fraction", type=float, default=0.15)
    ap.add_argument("--update", type=float, default=0.0, help="update cost per byte (0 = none)")
    ap.add_argument("--resources", nargs="?", const="congested-access", default=None, choices=["congested-access", "peak-hours", "slow-edge"],
                    help="add a resource trace of this kind (default when given alone: congested-access)")
    ap.add_argument("--requests", type=float, default=200.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=None, help="folder for generated instances (default: a temporary one)")
    ap.add_argument("--no-hindsight", action="store_true", help="update-time rows only: no regret")
    ap.add_argument("--omd-rounding", choices=["local", "greedy", "coupled"], default=None, help="omd's rounding (default: the policy's, local)")
    ap.add_argument("--ftpl-greedy", action="store_true", help="ftpl with the greedy leader re-solved every slot (solver=greedy, every=1) instead of its default exact leader every 10 slots")
    args = ap.parse_args()
    T = args.slots
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.work or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.instances.split(","):
            src = tree(name, folder) if name in TREES else ROOT / "instances" / f"{name}.yaml"
            inst = tightened(load_instance(src), args.memory_fraction, args.update, folder)
            for kind in args.kinds.split(","):
                tr = generate_demand_trace(inst, kind, T, args.seed, args.requests)
                res = generate_resource_trace(inst, args.resources, T, args.seed) if args.resources else None
                st = prepare(inst, tr, res)
                h = None if args.no_hindsight else hindsight_costs(st, [max(1, T // 10), max(1, T // 2), T])
                for pol in args.policies.split(","):
                    opts = {"solver": "greedy", "every": 1} if pol == "ftpl" and args.ftpl_greedy else {}
                    opts = {"rounding": args.omd_rounding} if pol == "omd" and args.omd_rounding else opts
                    run = run_online(st, pol, opts, seed=args.seed, hindsight=h)
                    s = run.summary
                    per = [p.regret_per_slot for p in s.regret_curve] or [None] * 3
                    ratio = "-" if s.ratio_to_hindsight is None else f"{s.ratio_to_hindsight:.4f}"
                    rows.append([inst.name.split("-mem")[0], kind, pol + "".join(f" {v}" if k in ("solver", "rounding") else "" for k, v in opts.items()), ratio] + ["-" if x is None else f"{x:.4g}" for x in per]
                                + [f"{1e3 * s.mean_update_time_s:.3g}", f"{1e3 * s.max_update_time_s:.3g}", fmt_bytes(s.fetched_bytes), f"{os.getloadavg()[0]:.1f}"])
                    print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    head = ["instance", "trace", "policy", "cost/hindsight", "regret/t @T/10", "@T/2", "@T", "update_ms", "max_ms", "fetched", "load"]
    print(f"T = {T} slots, {args.requests:g} requests/slot, memory fraction {args.memory_fraction:g}, update {args.update:g}/byte, resources: {args.resources or 'none'}; costs estimated, times measured; {load_note()}")
    print(table(head, rows, "lllrrrrrrrr"))


if __name__ == "__main__":
    main()
