"""dag-mincut against exhaustive enumeration of every graph partition, on the shipped profiles.

For each profile of ``instances/profiles/``, each device/server pair and each
bandwidth (0.1 Mbit/s to 1 Gbit/s; bytes/s = Mbit/s x 1.25e5; link latency 0,
so the figures are compute and transfer time only), the table gives

- ``graph_ms``: latency of dag-mincut's partition (the exact minimum cut, or
  all on the device when cheaper) and ``dev_ops``, its operators on the device;
- ``chain_ms``: the best chain cut (two-tier's scan, latencies of the chain);
- ``exhaustive_ms``: the optimum over every partition, by dynamic programming
  over the down-sets (:mod:`solvers.downsets`), and ``partitions``, how many;
- ``agree``: whether the cut's cost equals the optimum (relative 1e-9);
- ``cut_ms``/``enum_ms``: wall time of the cut and of the enumeration.

The objective is latency only (w_latency 1, others 0), so cost = latency.
Latencies are estimated (profiles' per-device figures). Run from the
repository root::

    PYTHONPATH=. python benchmarks/mincut_exact.py [--profiles resnet18 ...]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from placement import Instance
from placement.report import table
from placement.schema import InstanceSpec
from solvers.downsets import enumerate_partitions
from solvers.graphcut import best_partition
from solvers.twotier import cut_scan

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "instances" / "profiles"
MBIT_PER_S = [0.1, 1, 10, 30, 100, 1000]
PAIRS = [("rpi4", "x86-server"), ("jetson-nano", "a100")]


def profile_instance(profile: str, device: str, server: str) -> Instance:
    """A device and one server per bandwidth (``srv0``...), the profile as the only model."""
    prof = json.loads((PROFILES / f"{profile}.json").read_text())
    data = {
        "name": f"{profile}-{device}-{server}",
        "nodes": [{"id": "dev", "device": device, "memory_bytes": None}]
        + [{"id": f"srv{k}", "device": server, "tier": "edge", "memory_bytes": None} for k in range(len(MBIT_PER_S))],
        "links": [{"u": "dev", "v": f"srv{k}", "bandwidth_bytes_per_s": mbit * 1.25e5, "latency_s": 0.0}
                  for k, mbit in enumerate(MBIT_PER_S)],
        "models": [{"id": profile, "task": "cls", "accuracy": prof["accuracy"], "input_bytes": prof["input_bytes"],
                    "profile": f"{profile}.json"}],
        "demand": [{"origin": "dev", "task": "cls", "rate_rps": 1e-3, "max_latency_s": 1e4}],
        "objective": {"weights": {"latency": 1.0, "inaccuracy": 0.0, "energy": 0.0}},
        "options": {"max_segments": 2, "max_utilization": 1.0},
    }
    return Instance.from_spec(InstanceSpec.model_validate(data), base_dir=PROFILES)


def rows_for(profile: str, device: str, server: str) -> list[list]:
    inst = profile_instance(profile, device, server)
    model, demand = inst.models[profile], inst.demands[0]
    out = []
    for k, mbit in enumerate(MBIT_PER_S):
        srv = f"srv{k}"
        t0 = time.perf_counter()
        cut = best_partition(inst, model, demand, srv)
        t1 = time.perf_counter()
        oracle = enumerate_partitions(inst, model, demand, srv)
        t2 = time.perf_counter()
        chain = min(lat for _, lat, _ in cut_scan(inst, demand, srv))
        agree = abs(cut.cost - oracle.cost) <= 1e-9 * abs(oracle.cost)
        out.append([profile, f"{device}->{server}", f"{mbit:g}", f"{cut.latency_s * 1e3:.3f}", len(cut.device_ops),
                    f"{chain * 1e3:.3f}", f"{oracle.cost * 1e3:.3f}", "yes" if agree else "NO", oracle.partitions,
                    f"{(t1 - t0) * 1e3:.0f}", f"{(t2 - t1) * 1e3:.0f}"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", nargs="*", default=sorted(p.stem for p in PROFILES.glob("*.json")))
    args = ap.parse_args(argv)
    rows = []
    for profile in args.profiles:
        for device, server in PAIRS:
            rows.extend(rows_for(profile, device, server))
    print(f"dag-mincut vs exhaustive partitions ({platform.processor() or platform.machine()}, estimated latencies)\n")
    print(table(["profile", "pair", "mbit_per_s", "graph_ms", "dev_ops", "chain_ms", "exhaustive_ms", "agree", "partitions", "cut_ms", "enum_ms"],
                rows, "llrrrrrlrrr"))
    bad = sum(r[7] != "yes" for r in rows)
    print(f"\n{len(rows) - bad} of {len(rows)} cases agree with the exhaustive optimum")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
