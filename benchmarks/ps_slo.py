"""Which SLOs can be met under ``queueing: ps``: each class alone in the network.

For every demand class of a generated benchmark instance, the ``--routes``
cheapest routes at zero load (any SLO) are valued with the class's whole
rate on them and nothing else in the network: a server s the route asks
``a[s]`` of (compute seconds, or bytes / bandwidth) is at load ``rho[s] =
rate * a[s]``, and the route's latency is its zero-load latency plus
``sum_s a[s] * (1 / (1 - rho[s]) - 1)`` (processor sharing). The best of
these latencies over the class's SLO is the factor by which that SLO would
have to grow for the class to be served, alone, by one route; the largest
factor over classes is printed with the worst classes. This is how the SLO
ranges of ``benchmarks/instances/{M,L}-ps.yaml`` were chosen.

Usage::

    python benchmarks/ps_slo.py --sizes M,L [--routes 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from milp_scaling import bench_instance  # noqa: E402

from solvers.candidates import candidate_routes  # noqa: E402
from solvers.columns import column_from_candidate, storage_nodes  # noqa: E402
from solvers.congestion import server_bandwidth  # noqa: E402
from solvers.origin_trees import origin_tree  # noqa: E402


def alone_latency(instance, col, rate: float) -> float:
    """Waiting-inclusive latency of a route carrying ``rate`` requests/s alone in the network (inf if a server saturates)."""
    n = len(instance.nodes)
    bw = server_bandwidth(instance)
    use: dict[int, float] = {}
    for v, t in col.compute:
        use[v] = use.get(v, 0.0) + t
    for d, b in col.links:
        use[n + d] = use.get(n + d, 0.0) + b / bw[n + d]
    wait = 0.0
    for a in use.values():
        rho = rate * a
        if rho >= instance.max_utilization:
            return float("inf")
        wait += a * (1.0 / (1.0 - rho) - 1.0)
    return col.latency_s + wait


def slo_factors(instance, routes: int = 40) -> np.ndarray:
    """Per class: best alone latency among its ``routes`` cheapest routes, over its SLO."""
    store = storage_nodes(instance)
    out = np.full(len(instance.demands), np.inf)
    for d in instance.demands:
        tree = origin_tree(instance, d.origin)
        best = np.inf
        for k, cand in enumerate(candidate_routes(instance, d, respect_slo=False).iterate()):
            if k >= routes:
                break
            best = min(best, alone_latency(instance, column_from_candidate(instance, tree, cand, store), d.rate_rps))
        out[d.index] = best / d.max_latency_s
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="M,L")
    ap.add_argument("--routes", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            inst = bench_instance(size, Path(tmp))
            f = slo_factors(inst, args.routes)
            worst = np.argsort(-f)[:5]
            print(f"{size}: {len(f)} classes, {int((f > 1).sum())} miss their SLO alone; largest factor {f.max():.3f}; worst: "
                  + ", ".join(f"{c} (SLO {inst.demands[c].max_latency_s * 1e3:.1f} ms, x{f[c]:.2f})" for c in worst))


if __name__ == "__main__":
    main()
