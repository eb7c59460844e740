"""Regenerate every table and figure the docs show, through the harness, in one command.

Runs every suite of ``benchmarks/suites/`` except ``smoke`` into one results
database (resuming: finished runs are skipped), then writes each suite table
as Markdown to ``docs/tables/NAME.md`` and each figure to
``docs/figures/NAME.png``. Extra arguments go to ``idnplan bench run``
(e.g. ``--workers 2`` or ``--scheduler tcp://HOST:8786``)::

    PYTHONPATH=. python benchmarks/regenerate_docs.py [--db benchmarks/results.sqlite] [--only gains,scaling] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from placement.cli import main as idnplan  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=str(ROOT / "benchmarks" / "results.sqlite"))
    ap.add_argument("--only", help="comma-separated suite file stems (default: all but smoke)")
    args, run_args = ap.parse_known_args()
    suites = sorted(p for p in (ROOT / "benchmarks" / "suites").glob("*.yaml") if p.stem != "smoke")
    if args.only:
        suites = [p for p in suites if p.stem in args.only.split(",")]
    for path in suites:
        code = idnplan(["bench", "run", str(path), "--db", args.db, *run_args])
        if code != 0:
            return code
    from bench.report import compute, find_tables, markdown
    from bench.store import Store
    from bench.suite import parse_suite_text

    with Store(args.db, create=False) as store:
        stored = store.suites()
        for sname, table in find_tables(stored, None, None):
            order = [m.name for m in parse_suite_text(stored[sname], sname).methods]
            target = ROOT / "docs" / "tables" / f"{table.name}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(markdown(compute(store.rows(sname), table, sname, order)))
            print(f"table written to {target}")
    return idnplan(["bench", "plot", args.db, "--out-dir", str(ROOT / "docs" / "figures")])


if __name__ == "__main__":
    sys.exit(main())
