"""``idnplan bench``: run suites into a results database, report tables, plot figures.

This module imports only argparse at load time; the harness itself is
imported when a ``bench`` command runs.
"""

from __future__ import annotations

import argparse
import sys


def add_bench_parser(sub) -> None:
    """Add ``idnplan bench run|report|plot`` to the CLI's subcommands."""
    b = sub.add_parser("bench", help="benchmark suites: run (resumable, isolated, local or Dask), report tables, plot figures",
                       description="Run benchmark suites into a SQLite results database and make tables and figures from it.")
    cmds = b.add_subparsers(dest="bench_command", metavar="SUBCOMMAND", required=True, parser_class=type(b))

    r = cmds.add_parser("run", help="run every run of a suite not yet in the database")
    r.add_argument("suite", metavar="SUITE.yaml")
    r.add_argument("--db", default="results.sqlite", metavar="RESULTS.sqlite", help="results database (default results.sqlite; created when missing)")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=1, metavar="N", help="local run processes at a time (default 1)")
    where.add_argument("--scheduler", metavar="tcp://HOST:8786", help="send runs to this Dask scheduler")
    where.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster of N workers")
    r.add_argument("--timeout", type=float, metavar="S", help="wall-clock limit per run, seconds (default: the suite's timeout_s, else none)")
    r.add_argument("--memory-limit", type=float, metavar="GB", help="address-space limit per run, GiB (default: the suite's memory_limit_gb, else none)")
    r.add_argument("--rerun", action="store_true", help="run every run again, replacing stored results")
    r.add_argument("--dry-run", action="store_true", help="check the suite and list how many runs it has and how many are stored")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

    p = cmds.add_parser("report", help="tables: mean +- 95 %% CI over seeds, best of each row marked")
    p.add_argument("db", metavar="RESULTS.sqlite")
    p.add_argument("--table", metavar="NAME", help="a table declared by a suite (default: every table)")
    p.add_argument("--suite", metavar="NAME", help="only this suite's tables")
    p.add_argument("--format", choices=["markdown", "latex", "csv"], default="markdown")
    p.add_argument("--out", "-o", metavar="FILE", help="write here (atomically) instead of printing")
    p.set_defaults(func=cmd_report)

    f = cmds.add_parser("plot", help="figures: time vs instance size (log-log, fitted slope), gain bars, regret curves, fronts")
    f.add_argument("db", metavar="RESULTS.sqlite")
    f.add_argument("--figure", metavar="NAME", help="a figure declared by a suite (default: every figure, into --out-dir)")
    f.add_argument("--suite", metavar="NAME", help="only this suite's figures")
    f.add_argument("--out", "-o", metavar="FILE.png|pdf|svg", help="output file (one figure)")
    f.add_argument("--out-dir", default=".", metavar="DIR", help="folder for every figure, named NAME.png (default .)")
    f.set_defaults(func=cmd_plot)


def _executor(args: argparse.Namespace):
    from placement.errors import InputError, Problem

    from .executors import DaskExecutor, LocalExecutor

    if args.scheduler:
        return DaskExecutor(scheduler=args.scheduler)
    if args.dask_local is not None:
        if args.dask_local < 1:
            raise InputError(Problem(None, "--dask-local", f"expected at least 1 worker, got {args.dask_local}"))
        return DaskExecutor(local_workers=args.dask_local)
    if args.workers < 1:
        raise InputError(Problem(None, "--workers", f"expected at least 1, got {args.workers}"))
    return LocalExecutor(args.workers)


def cmd_run(args: argparse.Namespace) -> int:
    from .store import Store
    from .suite import load_suite
    from .sweep import run_suite

    for flag, value in (("--timeout", args.timeout), ("--memory-limit", args.memory_limit)):
        if value is not None and value <= 0:
            from placement.errors import InputError, Problem

            raise InputError(Problem(None, flag, f"expected a positive number, got {value:g}"))
    suite = load_suite(args.suite)
    executor = _executor(args)
    with Store(args.db) as store:
        stored = len(set(r.key for r in suite.runs) & store.finished(suite.name))
        if args.dry_run:
            print(f"{args.suite}: suite '{suite.name}', {len(suite.instances)} instances, {len(suite.spec.methods)} methods, "
                  f"{len(suite.runs)} runs ({stored} stored in {args.db}, {len(suite.runs) - (0 if args.rerun else stored)} to run)")
            return 0
        if not args.quiet:
            print(f"suite '{suite.name}': {len(suite.runs)} runs, {stored} already stored{' (rerun: all run again)' if args.rerun else ''}; {executor.describe()}", file=sys.stderr)
        summary = run_suite(suite, store, executor, rerun=args.rerun, timeout_s=args.timeout, memory_limit_gb=args.memory_limit, progress=not args.quiet)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items())) or "none"
    print(f"suite '{suite.name}': ran {summary.ran} runs in {summary.wall_s:.1f} s ({statuses}); skipped {summary.skipped} stored; results in {args.db}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from placement.fileio import atomic_write_text

    from .report import report
    from .store import Store

    with Store(args.db, create=False) as store:
        text = report(store, args.table, args.suite, args.format)
    if args.out:
        atomic_write_text(args.out, text)
    else:
        print(text, end="")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from .plot import plot_all
    from .store import Store

    with Store(args.db, create=False) as store:
        for path in plot_all(store, args.figure, args.suite, args.out, args.out_dir):
            print(f"figure written to {path}")
    return 0
