"""Fuzz idnplan's input handling at scale and print what happened.

Runs N seeded mutations of the shipped instance, profiles and plan (see
``tests/fuzz.py``) through the library API, plus a sample through the CLI,
and prints the counts by exit code, the failures (internal errors, hangs,
invalid input accepted, files left behind) and the slowest case.

    python benchmarks/fuzz.py --cases 10000 --cli 20 --seed 1
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fuzz  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=10_000, help="library cases (default 10000)")
    p.add_argument("--cli", type=int, default=20, help="cases also run through the CLI (default 20)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--solve-every", type=int, default=20, help="solve every N-th accepted instance (default 20)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = fuzz.run_many(args.cases, args.seed, Path(tmp) / "lib", args.solve_every)
        bases = fuzz.Bases(Path(tmp) / "cli")
        rng = random.Random(args.seed + 1)
        cli, left = [], []
        for _ in range(args.cli):
            outcome, files = fuzz.run_cli_case(fuzz.make_case(rng, bases), bases)
            cli.append(outcome)
            if files:
                left.append((outcome.case.what, files))
    wall = time.perf_counter() - start
    for label, group in (("library API", outcomes), ("CLI", cli)):
        if not group:
            continue
        s = fuzz.summary(group)
        invalid = sum(o.case.expect == "invalid" for o in group)
        print(f"{label}: {len(group)} cases ({invalid} invalid by construction), mean {s['mean_ms']:.1f} ms per case")
        print("  exit code  cases")
        for code in sorted(s["counts"], key=str):
            print(f"  {code:>9}  {s['counts'][code]:>5}")
        slow = s["slowest"]
        print(f"  slowest: {slow.seconds:.3f} s ({slow.case.kind}: {slow.case.what[:90]})")
        print(f"  failures: {len(s['failures'])} (exit 70 or other: {sum(1 for o in group if o.code not in (0, 1, 2, 3, 'hang'))}, "
              f"hangs: {sum(1 for o in group if o.code == 'hang')}, invalid accepted: {sum(1 for o in group if o.case.expect == 'invalid' and o.code in (0, 1, 3))})")
        for kind, what, problem in s["failures"][:20]:
            print(f"    {kind}: {what[:90]}: {problem}")
    print(f"CLI: tracebacks or files left behind: {len(left)}")
    for what, files in left[:20]:
        print(f"    {what[:90]}: {files}")
    print(f"wall time {wall:.1f} s (measured on this host)")
    return 1 if left or any(o.problem() for o in outcomes + cli) else 0


if __name__ == "__main__":
    sys.exit(main())
