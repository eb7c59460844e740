"""Online placement benchmark: every policy x every trace kind (issue 10).

Instances: the shipped 100-node instance and a generated 341-node tree
(fanout 4,4,4,4, 20 synthetic models over 2 tasks), with every non-repository
node's memory cut to ``--memory-fraction`` of the bytes of the models it could
hold (the shipped memories hold every model, which makes storage trivial).
Per (instance, trace, policy): total cost relative to hindsight, regret/T at
T/10, T/2 and T (exact hindsight at each), mean per-slot update time
(measured), bytes fetched; with update cost 0 and ``--update`` (cost per byte),
and with a congested-access resource trace.

    PYTHONPATH=. python benchmarks/online.py --slots 1000
    PYTHONPATH=. python benchmarks/online.py --slots 200 --instances idn-100 --kinds adversarial
"""

from __future__ import annotations

import argparse
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


def tree341(folder: Path) -> Path:
    out = folder / "tree-341.yaml"
    subprocess.run([sys.executable, "-m", "placement.cli", "generate", "tiered", "-o", str(out), "--tasks", "2", "--models-per-task", "10", "--seed", "0", "--name", "tree-341"], check=True, cwd=ROOT, capture_output=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slots", type=int, default=1000)
    ap.add_argument("--instances", default="idn-100,tree-341")
    ap.add_argument("--kinds", default=",".join(DEMAND_KINDS))
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--memory-fraction", type=float, default=0.3)
    ap.add_argument("--update", type=float, default=0.0, help="update cost per byte (0 = none)")
    ap.add_argument("--resources", action="store_true", help="add a congested-access resource trace")
    ap.add_argument("--requests", type=float, default=200.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    T = args.slots
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.instances.split(","):
            src = ROOT / "instances" / f"{name}.yaml" if name != "tree-341" else tree341(folder)
            inst = tightened(load_instance(src), args.memory_fraction, args.update, folder)
            for kind in args.kinds.split(","):
                tr = generate_demand_trace(inst, kind, T, args.seed, args.requests)
                res = generate_resource_trace(inst, "congested-access", T, args.seed) if args.resources else None
                st = prepare(inst, tr, res)
                h = hindsight_costs(st, [max(1, T // 10), max(1, T // 2), T])
                for pol in args.policies.split(","):
                    run = run_online(st, pol, seed=args.seed, hindsight=h)
                    s = run.summary
                    per = [p.regret_per_slot for p in s.regret_curve]
                    rows.append([inst.name.split("-mem")[0], kind, pol, f"{s.ratio_to_hindsight:.4f}"] + [f"{x:.4g}" for x in per] + [f"{1e3 * s.mean_update_time_s:.3g}", fmt_bytes(s.fetched_bytes)])
                    print(" | ".join(rows[-1]), file=sys.stderr)
    head = ["instance", "trace", "policy", "cost/hindsight", "regret/t @T/10", "@T/2", "@T", "update_ms", "fetched"]
    print(f"T = {T} slots, {args.requests:g} requests/slot, memory fraction {args.memory_fraction:g}, update {args.update:g}/byte, resources: {'congested-access' if args.resources else 'none'}; costs estimated, times measured")
    print(table(head, rows, "lllrrrrrr"))


if __name__ == "__main__":
    main()
