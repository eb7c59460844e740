"""``idnplan trace`` (generate demand/resource traces) and ``idnplan online`` (run policies)."""

from __future__ import annotations

import argparse
import sys

from .cliargs import method_options
from .errors import InputError
from .generate.traces import RESOURCE_KINDS


def add_trace_parser(sub) -> None:
    t = sub.add_parser("trace", help="generate demand or resource traces for the online setting")
    kinds = t.add_subparsers(dest="trace_command", metavar="ACTION", required=True, parser_class=type(t))
    g = kinds.add_parser("generate", help="a demand trace: stationary, shifting, diurnal, shot-noise or adversarial")
    g.add_argument("instance", metavar="INSTANCE")
    g.add_argument("kind", metavar="KIND", choices=["stationary", "shifting", "diurnal", "shot-noise", "adversarial"])
    g.add_argument("--slots", type=int, required=True, metavar="T")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--requests", type=float, default=100.0, help="mean requests per slot (default 100)")
    g.add_argument("--zipf", type=float, help="Zipf exponent (default 0.8; shifting 0.6)")
    g.add_argument("--period", type=int, help="diurnal period in slots (default T/4)")
    g.add_argument("--out", "-o", required=True, metavar="TRACE.csv")
    g.set_defaults(func=_cmd_generate)
    r = kinds.add_parser("resources", help="a resource trace: congested-access, peak-hours or slow-edge")
    r.add_argument("instance", metavar="INSTANCE")
    r.add_argument("kind", metavar="KIND", choices=list(RESOURCE_KINDS))
    r.add_argument("--slots", type=int, required=True, metavar="T")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--factor", type=float, help="bandwidth or speed factor while degraded (default 0.2 / 0.5)")
    r.add_argument("--period", type=int, help="congestion period in slots (default T/4)")
    r.add_argument("--out", "-o", required=True, metavar="RTRACE.csv")
    r.set_defaults(func=_cmd_resources)


def add_online_parser(sub) -> None:
    s = sub.add_parser("online", help="run an online placement policy on a demand trace (regret against hindsight)")
    s.add_argument("instance", metavar="INSTANCE", nargs="?")
    s.add_argument("trace", metavar="TRACE", nargs="?")
    s.add_argument("--resources", metavar="RTRACE", help="resource trace (node speed / link bandwidth factors)")
    s.add_argument("--policy", "-p", help="policy name (see --list)")
    s.add_argument("--compare", metavar="P1,P2,...", help="run several policies and print the comparison table")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="policy option (repeatable; --list shows them)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", "-o", metavar="RUN.json", help="write the run (with --compare: one file per policy, RUN.<policy>.json)")
    s.add_argument("--csv", metavar="SLOTS.csv", help="write per-slot figures as CSV (single policy)")
    s.add_argument("--plot", metavar="REGRET.png", help="plot regret/t against t (PNG or SVG; needs matplotlib)")
    s.add_argument("--no-hindsight", action="store_true", help="skip the exact hindsight MILPs (no regret figures)")
    s.add_argument("--curve-points", type=int, default=10, help="prefix lengths at which regret is computed exactly (default 10)")
    s.add_argument("--list", action="store_true", help="list the policies and their options")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_online)


def _cmd_generate(args: argparse.Namespace) -> int:
    from .generate.traces import generate_demand_trace
    from .instance import load_instance
    from .traces import write_demand_trace

    inst = load_instance(args.instance)
    tr = generate_demand_trace(inst, args.kind, args.slots, args.seed, args.requests, args.zipf, args.period)
    write_demand_trace(tr, args.out)
    print(f"{args.out}: {tr.name}, {tr.total_requests} requests over {len(tr.pairs)} (origin, task) pairs")
    return 0


def _cmd_resources(args: argparse.Namespace) -> int:
    from .generate.traces import generate_resource_trace
    from .instance import load_instance
    from .traces import write_resource_trace

    inst = load_instance(args.instance)
    tr = generate_resource_trace(inst, args.kind, args.slots, args.seed, args.factor, args.period)
    write_resource_trace(tr, args.out)
    print(f"{args.out}: {tr.name}, {len(tr.events)} events")
    return 0


def _cmd_online(args: argparse.Namespace) -> int:
    from solvers.online.registry import get_policy, option_help, parse_options, policies

    from .report import table

    if args.list:
        print(table(["policy", "summary", "options"], [[p.name, p.summary, option_help(p)] for p in policies()]))
        return 0
    if args.instance is None or args.trace is None:
        raise InputError("idnplan online: give INSTANCE and TRACE (or --list)")
    names = [n.strip() for n in args.compare.split(",") if n.strip()] if args.compare else ([args.policy] if args.policy else [])
    if not names:
        raise InputError("idnplan online: give --policy NAME or --compare P1,P2 (see --list)")
    options = method_options(args.option)
    for n in names:  # refuse bad names and options before any work
        info = get_policy(n)
        if not args.compare:
            parse_options(info, options)
    from solvers.online.runner import checkpoints_for, hindsight_costs, prepare, run_online

    from .instance import load_instance
    from .online_run import slots_csv, write_online_run
    from .traces import read_demand_trace, read_resource_trace

    inst = load_instance(args.instance)
    from solvers.online.costs import instance_pairs

    trace = read_demand_trace(args.trace, instance_pairs(inst), set(inst.node))
    resources = None
    if args.resources:
        dirs = {f"{l.u}->{l.v}" for l in inst.links} | {f"{l.v}->{l.u}" for l in inst.links}
        resources = read_resource_trace(args.resources, set(inst.node), dirs)
    setting = prepare(inst, trace, resources)
    hind = None
    if not args.no_hindsight and trace.n_slots:
        if not args.quiet:
            print(f"solving the hindsight MILPs at {args.curve_points} prefix lengths...", file=sys.stderr)
        hind = hindsight_costs(setting, checkpoints_for(trace.n_slots, max(1, args.curve_points)))
    runs = []
    for n in names:
        opts = {k: v for k, v in options.items() if any(o.name == k for o in get_policy(n).options)} if args.compare else options
        run = run_online(setting, n, opts, args.seed, hind, progress=not args.quiet)
        runs.append(run)
        if args.out:
            path = args.out if len(names) == 1 else _suffixed(args.out, n)
            write_online_run(run, path)
    if args.csv and len(runs) == 1:
        from .fileio import atomic_write_text

        atomic_write_text(args.csv, slots_csv(runs[0]))
    print(comparison_table(runs))
    if args.plot:
        from .online_plot import plot_regret

        plot_regret(runs, args.plot)
        print(f"plot written to {args.plot}")
    return 0


def _suffixed(path: str, name: str) -> str:
    stem, dot, ext = path.rpartition(".")
    return f"{stem}.{name}.{ext}" if dot else f"{path}.{name}"


def comparison_table(runs: list) -> str:
    """One row per run: totals, regret, fetched bytes, update time (costs estimated)."""
    from .report import fmt_bytes, table

    def f(x: float | None, d: int = 4) -> str:
        return "-" if x is None else f"{x:.{d}g}"

    rows = []
    for r in runs:
        s = r.summary
        rows.append([r.policy, f(s.total_cost, 6), f(s.ratio_to_hindsight, 5), f(s.regret, 4), f(s.regret_per_slot, 4), fmt_bytes(s.fetched_bytes), str(s.storage_changes), f"{1e3 * s.mean_update_time_s:.3g}", f"{1e3 * s.max_update_time_s:.3g}"])
    head = ["policy", "total_cost", "ratio_to_hindsight", "regret", "regret_per_slot", "fetched_bytes", "storage_changes", "mean_update_ms", "max_update_ms"]
    src = runs[0].cost_source if runs else "estimated"
    return table(head, rows, "lrrrrrrrr") + f"\ncosts in objective units, from {src} compute times; update times measured on this host"



