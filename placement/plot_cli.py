"""``idnplan plot``: figures of a network with a plan, model cuts against bandwidth, fronts and regret curves."""

from __future__ import annotations

import argparse

from .errors import InputError


def add_plot_parser(sub) -> None:
    s = sub.add_parser("plot", help="draw a network with a plan, cut latencies against bandwidth, fronts or regret curves (needs matplotlib)")
    kinds = s.add_subparsers(dest="plot_command", metavar="WHAT", required=True, parser_class=type(s))
    n = kinds.add_parser("network", help="the network by tier; with a plan: storage, one class's routes, link loads")
    n.add_argument("instance", metavar="INSTANCE")
    n.add_argument("plan", nargs="?", metavar="PLAN", help="a plan file, or a front file with --point")
    n.add_argument("--point", type=int, help="take the plan of this point of a front file")
    n.add_argument("--demand", type=int, default=0, help="class whose routes are drawn (default 0)")
    c = kinds.add_parser("cuts", help="latency against bandwidth for every cut of a model between two nodes")
    c.add_argument("instance", metavar="INSTANCE")
    c.add_argument("--model", required=True)
    c.add_argument("--head", required=True, help="node computing the first layers")
    c.add_argument("--tail", required=True, help="node computing the rest")
    c.add_argument("--min-bandwidth", type=float, default=1e3, help="bytes/s (default 1e3)")
    c.add_argument("--max-bandwidth", type=float, default=1e9, help="bytes/s (default 1e9)")
    c.add_argument("--propagation", type=float, default=0.0, help="link latency_s (default 0)")
    f = kinds.add_parser("front", help="one or more fronts over the same objectives")
    f.add_argument("fronts", nargs="+", metavar="FRONT")
    f.add_argument("--point", type=int, help="highlight this point (one front)")
    r = kinds.add_parser("regret", help="regret / t of online runs")
    r.add_argument("runs", nargs="+", metavar="RUN")
    for p in (n, c, f, r):
        p.add_argument("--out", "-o", required=True, metavar="FIGURE.png", help="PNG, SVG or PDF (by suffix)")
        p.set_defaults(func=cmd_plot)


def cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from . import plot
    from .instance import load_instance

    what = args.plot_command
    if what == "network":
        inst = load_instance(args.instance)
        the_plan = _plan(args.plan, args.point) if args.plan else None
        if not 0 <= args.demand < len(inst.demands):
            raise InputError(f"--demand {args.demand}: instance '{inst.name}' has classes 0..{len(inst.demands) - 1}")
        plot.plot_network(inst, the_plan, args.demand, args.out)
    elif what == "cuts":
        import numpy as np

        inst = load_instance(args.instance)
        for name, value, known in (("--model", args.model, inst.models), ("--head", args.head, inst.node), ("--tail", args.tail, inst.node)):
            if value not in known:
                raise InputError(f"{name} {value}: not in instance '{inst.name}' (known: {', '.join(sorted(known)[:12])})")
        bw = np.logspace(np.log10(args.min_bandwidth), np.log10(args.max_bandwidth), 61)
        plot.plot_cuts(inst, args.model, args.head, args.tail, bw, args.out, propagation_s=args.propagation)
    elif what == "front":
        from .front import read_front

        fronts = [read_front(p) for p in args.fronts]
        if len({tuple(f.objectives) for f in fronts}) > 1:
            raise InputError("plot front: the fronts are over different objectives")
        plot.plot_front(fronts if len(fronts) > 1 else fronts[0], args.out, highlight=args.point)
    else:
        from .online_run import read_online_run

        plot.plot_regret([read_online_run(p) for p in args.runs], args.out)
    print(f"figure written to {args.out}")
    return 0


def _plan(path: str, point: int | None):
    from .fileio import read_document

    data, _ = read_document(path, display=path)
    if isinstance(data, dict) and "points" in data:
        from .front import read_front

        front = read_front(path)
        if point is None or not 0 <= point < len(front.points):
            raise InputError(f"{path}: a front file; choose a plan with --point 0..{len(front.points) - 1}")
        return front.points[point].plan
    from .plan import read_plan

    return read_plan(path)
