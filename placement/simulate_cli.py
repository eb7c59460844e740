"""``idnplan simulate INSTANCE PLAN``: discrete-event simulation of a plan."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

from .errors import InputError, Problem

#: Classes with at least this many measured requests count in the CI summary line.
MIN_REQUESTS_FOR_CI = 1000


def add_simulate_parser(sub) -> None:
    """Register ``simulate`` on the ``idnplan`` subcommand parser."""
    s = sub.add_parser(
        "simulate",
        help="discrete-event simulation of a plan: latency per class with CIs, beside the analytical figure",
        description="Simulate a plan: Poisson arrivals per demand class, routes drawn by share, every node and link "
                    "direction a processor-sharing (or FIFO) server, propagation as pure delay. Prints per class the "
                    "mean latency with a 95 %% batch-means CI, p50/p95/p99 and the analytical prediction.",
    )
    s.add_argument("instance", metavar="INSTANCE")
    s.add_argument("plan", metavar="PLAN")
    s.add_argument("--duration", type=float, default=600.0, metavar="S", help="simulated seconds (default 600)")
    s.add_argument("--warmup", type=float, metavar="S", help="seconds not measured at the start (default: duration / 10)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0); the same seed gives the same output")
    s.add_argument("--service", choices=["exponential", "deterministic"], default="exponential", help="service-time distribution around the nominal figure (default exponential)")
    s.add_argument("--discipline", choices=["ps", "fifo"], default="ps", help="processor sharing or first come, first served at every server (default ps)")
    s.add_argument("--engine", choices=["heap", "simpy"], default="heap", help="event loop: hand-written heap (fast, default) or SimPy (reference)")
    s.add_argument("--batches", type=int, default=20, help="batches for the batch-means confidence intervals (default 20)")
    s.add_argument("--top", type=int, default=10, metavar="N", help="servers shown, by planned utilization (default 10)")
    s.add_argument("--json", action="store_true", help="print every figure as one JSON object")
    s.add_argument("--out", "-o", metavar="FILE.json", help="also write the JSON result here (atomically)")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    s.set_defaults(func=simulate_from_args)


class ProgressBar:
    """A one-line progress bar with ETA on stderr, shown once a run has taken ~2 s."""

    def __init__(self, stream=None, delay_s: float = 2.0, width: int = 30):
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.delay_s, self.width = delay_s, width
        self.shown = False

    def __call__(self, now_s: float, end_s: float) -> None:
        elapsed = time.perf_counter() - self.start
        if elapsed < self.delay_s:
            return
        frac = min(max(now_s / end_s, 1e-9), 1.0)
        eta = elapsed * (1.0 - frac) / frac
        bar = "#" * int(frac * self.width)
        self.stream.write(f"\rsimulating [{bar:<{self.width}}] {frac:6.1%}  {min(now_s, end_s):.0f}/{end_s:.0f} s simulated  ETA {eta:.0f} s ")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def simulate_from_args(args: argparse.Namespace) -> int:
    from .fileio import atomic_write_text
    from .instance import load_instance
    from .plan import read_plan
    from .simulate import simulate

    warmup = args.duration / 10 if args.warmup is None else args.warmup
    problems = []
    if not (math.isfinite(args.duration) and args.duration > 0):
        problems.append(Problem(None, "--duration", f"must be a positive number of seconds, got {args.duration:g}"))
    elif not (math.isfinite(warmup) and 0 <= warmup < args.duration):
        problems.append(Problem(None, "--warmup", f"must be >= 0 and below --duration {args.duration:g}, got {warmup:g}"))
    if args.batches < 2:
        problems.append(Problem(None, "--batches", f"batch means need at least 2 batches, got {args.batches}"))
    if problems:
        raise InputError(problems)
    inst = load_instance(args.instance)
    plan = read_plan(args.plan)
    bar = ProgressBar() if not args.quiet and sys.stderr.isatty() else None
    try:
        result = simulate(inst, plan, args.duration, warmup, args.seed, args.service, args.discipline, bar, args.engine, args.batches)
    except InputError as exc:  # the plan's problems: name the file they are in
        raise InputError([Problem(p.file or args.plan, p.path, p.message, p.line) for p in exc.problems]) from None
    finally:
        if bar is not None:
            bar.close()
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    text = json.dumps(result.to_dict(), indent=2)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    print(text if args.json else simulation_text(result, args.top))
    return 0


def simulation_text(result, top: int = 10) -> str:
    """The tables ``idnplan simulate`` prints (latencies in ms, utilizations as fractions)."""
    from .report import fmt_ms, table

    r = result
    head = [
        f"instance {r.instance}  plan method {r.method}  discipline {r.discipline}  service {r.service}  seed {r.seed}",
        f"simulated {r.duration_s:g} s (first {r.warmup_s:g} s not measured): {r.requests:,} requests, {r.events:,} events "
        f"in {r.wall_s:.2f} s ({r.events_per_s:,.0f} events/s, engine {r.engine})",
        f"latencies simulated from {r.service_time_source} service times; CI: 95 % batch means over {r.batches} batches; "
        "analytical ps = sum of service / (1 - utilization) + propagation; no-wait = load-independent latency (queueing: none)",
    ]
    rows = []
    for c in r.classes:
        ci = "-" if c.ci95_latency_s is None else f"[{fmt_ms(c.ci95_latency_s[0])}, {fmt_ms(c.ci95_latency_s[1])}]"
        inside = {None: "-", True: "yes", False: "no"}[c.analytical_in_ci]
        wait = None if c.mean_latency_s is None else c.mean_latency_s - c.no_wait_latency_s
        miss = "-" if c.slo_miss_fraction is None else f"{c.slo_miss_fraction:.1%}"
        rows.append([c.demand, c.label, f"{c.rate_rps:g}", c.requests, fmt_ms(c.mean_latency_s), ci, fmt_ms(c.p50_latency_s),
                     fmt_ms(c.p95_latency_s), fmt_ms(c.p99_latency_s), miss, fmt_ms(c.analytical_mean_latency_s), inside,
                     fmt_ms(c.no_wait_latency_s), fmt_ms(wait)])
    classes = table(["class", "origin/task", "rate_rps", "requests", "mean_ms", "ci95_ms", "p50_ms", "p95_ms", "p99_ms",
                     "slo_miss", "analytical_ps_ms", "in_ci", "no_wait_ms", "waiting_ms"], rows, "rlrrrlrrrrrlrr")
    srows = [[s.server, s.kind, f"{s.planned_utilization:.3f}", f"{s.simulated_utilization:.3f}", s.visits] for s in r.servers[:top]]
    servers = table(["server", "kind", "planned_utilization", "simulated_utilization", "visits"], srows, "llrrr")
    return "\n".join(head + ["", classes, "", f"top {min(top, len(r.servers))} of {len(r.servers)} servers by planned utilization", servers, "", summary_line(r)])


def summary_line(result) -> str:
    """How many classes have the ps prediction inside the CI, and the waiting the no-wait model leaves out."""
    from .simulate import ci_coverage

    cov = ci_coverage(result, MIN_REQUESTS_FOR_CI)
    lines = [f"analytical ps mean inside the simulated 95 % CI for {cov['inside_ci95']} of {cov['classes']} classes with >= "
             f"{MIN_REQUESTS_FOR_CI} requests (about 1 in 20 may miss by chance), inside the simultaneous 95 % CI "
             f"(Bonferroni over those classes) for {cov['inside_simultaneous_ci95']}"]
    measured = [c for c in result.classes if c.mean_latency_s is not None]
    n = sum(c.requests for c in measured)
    if n:
        sim = sum(c.requests * c.mean_latency_s for c in measured) / n
        none = sum(c.requests * c.no_wait_latency_s for c in measured) / n
        lines.append(f"waiting left out by the load-independent model (queueing: none): {(sim - none) * 1e3:.3f} ms per request "
                     f"on average, {(sim - none) / sim:.1%} of the simulated mean {sim * 1e3:.3f} ms")
    return "\n".join(lines)
