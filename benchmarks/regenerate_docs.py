"""Regenerate every table and figure the docs show, through the harness, in one command.

Runs every suite of ``benchmarks/suites/`` except ``smoke`` into one results
database (resuming: finished runs are skipped), then writes each suite table
as Markdown to ``docs/tables/NAME.md`` and each figure to
``docs/figures/NAME.png``. Extra arguments go to ``idnplan bench run``
(e.g. ``--workers 2`` or ``--scheduler tcp://HOST:8786``)::

    PYTHONPATH=. python benchmarks/regenerate_docs.py [--db benchmarks/results.sqlite] [--only gains,scaling] [--workers 2]

The full pass takes hours (scaling's naive runs on L, XL, the complete
online table). ``--quick`` is a smoke pass of the same pipeline: every suite
cut to its first instance (first value of each factory grid), trace, model,
objective set and seed, one repeat, time limits of at most 10 s and short
traces, into a temporary database, with tables and figures written to a
temporary folder (or ``--out-dir``), never over the docs; XL is left out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from placement.cli import main as idnplan  # noqa: E402

SUITES = ROOT / "benchmarks" / "suites"
#: Suites a quick pass leaves out (resolving them alone takes minutes).
NOT_QUICK = ("scaling-xl",)
QUICK_LIMIT_S = 10.0
QUICK_SLOTS = 30


def _absolute(value: str, base: Path) -> str:
    return str((base / value).resolve())


def quick_suite(path: Path) -> dict:
    """The suite at ``path`` cut to a smoke pass (see the module docstring), with absolute file paths."""
    from placement.fileio import read_document

    data, _ = read_document(path)
    base = path.resolve().parent
    data["name"] = data["name"] + "-quick"
    data["plugins"] = [_absolute(p, base) for p in data.get("plugins", [])]
    inst = [dict(e) for e in data.get("instances", [])[:1]]
    for e in inst:
        for key in ("file", "generator"):
            if isinstance(e.get(key), str):
                e[key] = _absolute(e[key], base)
        if e.get("seeds"):
            e["seeds"] = e["seeds"][:1]
        if e.get("grid"):
            e["grid"] = {k: v[:1] for k, v in e["grid"].items()}
    data["instances"] = inst
    traces = [dict(t) for t in data.get("traces", [])[:1]]
    for t in traces:
        if isinstance(t.get("file"), str):
            t["file"] = _absolute(t["file"], base)
        if t.get("slots"):
            t["slots"] = min(int(t["slots"]), QUICK_SLOTS)
        if t.get("seeds"):
            t["seeds"] = t["seeds"][:1]
        if isinstance(t.get("resources"), dict) and t["resources"].get("file"):
            t["resources"] = dict(t["resources"], file=_absolute(t["resources"]["file"], base))
    data["traces"] = traces
    for key in ("models", "objectives"):
        if data.get(key):
            data[key] = data[key][:1]
    if data.get("kind") == "profile":  # the smallest model, and no timed full profile (20 timed forwards)
        data["models"] = ["mobilenet_v3_small"]
        data["methods"] = [m for m in data["methods"] if m["method"] != "idnplan-latency"]
        data["tables"] = [dict(t, methods=None) if t.get("methods") else t for t in data.get("tables", [])]
    data["seeds"] = data.get("seeds", [0])[:1]
    data["repeats"] = 1
    if data.get("kind", "static") in ("static", "pareto"):
        data["time_limit_s"] = min(float(data.get("time_limit_s") or QUICK_LIMIT_S), QUICK_LIMIT_S)
        for m in data["methods"]:
            if m.get("time_limit_s"):
                m["time_limit_s"] = min(float(m["time_limit_s"]), QUICK_LIMIT_S)
            if isinstance(m.get("options"), dict) and "gens" in m["options"]:
                m["options"] = dict(m["options"], gens=min(int(m["options"]["gens"]), 5), pop=min(int(m["options"].get("pop", 20)), 20))
    data["timeout_s"] = 300
    for key in ("traces", "plugins"):
        if not data[key]:
            del data[key]
    data["tables"] = [dict(t, name=t["name"] + "-quick") for t in data.get("tables", [])]
    # one instance and trace are left: drop the figures' label selectors
    data["figures"] = [{k: v for k, v in dict(f, name=f["name"] + "-quick").items() if k not in ("instances", "traces")} for f in data.get("figures", [])]
    return data


def write_outputs(db: str, tables_dir: Path, figures_dir: Path, suites: list[str] | None = None) -> int:
    """Every table of the database's suites (``suites`` only, when given) as Markdown, and every figure."""
    from bench.report import compute, find_tables, markdown, suite_rows
    from bench.store import Store
    from bench.suite import parse_suite_text
    from placement.fileio import atomic_write_text

    tables_dir.mkdir(parents=True, exist_ok=True)
    with Store(db, create=False) as store:
        stored = store.suites()
        for sname, table in find_tables(stored, None, None):
            if suites is not None and sname not in suites:
                continue
            order = [m.name for m in parse_suite_text(stored[sname], sname).methods]
            target = tables_dir / f"{table.name}.md"
            atomic_write_text(target, markdown(compute(suite_rows(store, sname), table, sname, order)))
            print(f"table written to {target}")
    code = 0
    for sname in suites if suites is not None else list(stored):
        spec = parse_suite_text(stored[sname], sname)
        if spec.figures:
            code = max(code, idnplan(["bench", "plot", db, "--suite", sname, "--out-dir", str(figures_dir)]))
    return code


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="results database (default benchmarks/results.sqlite; --quick: a temporary one)")
    ap.add_argument("--only", help="comma-separated suite file stems (default: all but smoke)")
    ap.add_argument("--quick", action="store_true", help="smoke pass: every suite cut to one small case, outputs to a temporary folder")
    ap.add_argument("--out-dir", help="write tables/ and figures/ here (default: docs/, or a temporary folder with --quick)")
    args, run_args = ap.parse_known_args(argv)
    paths = sorted(p for p in SUITES.glob("*.yaml") if p.stem != "smoke")
    if args.only:
        paths = [p for p in paths if p.stem in args.only.split(",")]
    tmp = tempfile.TemporaryDirectory(prefix="idnplan-regenerate-") if args.quick else None
    try:
        db = args.db or (str(Path(tmp.name) / "quick.sqlite") if tmp else str(ROOT / "benchmarks" / "results.sqlite"))
        out = Path(args.out_dir) if args.out_dir else (Path(tmp.name) if tmp else ROOT / "docs")
        names = []
        for path in paths:
            if args.quick:
                if path.stem in NOT_QUICK:
                    continue
                import yaml

                data = quick_suite(path)
                path = Path(tmp.name) / f"{path.stem}.yaml"
                path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            code = idnplan(["bench", "run", str(path), "--db", db, *run_args])
            if code != 0:
                return code
            from placement.fileio import read_document

            names.append(read_document(path)[0]["name"])
        return write_outputs(db, out / "tables", out / "figures", names)
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
