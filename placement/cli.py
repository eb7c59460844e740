"""The ``idnplan`` command line.

Exit codes: 0 success; 1 a plan violates constraints (``evaluate``);
2 bad input or usage; 3 infeasible instance (no plan written); 4 solver
failure; 130 interrupted. Errors are one clear message per problem, never a
traceback (``IDNPLAN_DEBUG=1`` shows one for internal errors).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback

from . import _startup
from . import cliargs as ca
from .errors import IdnplanError, InputError
from .limits import check_output_path, printable


def _err(msg: str) -> None:
    print(printable(msg), file=sys.stderr)  # ids in messages never reach the terminal raw


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and a one-line hint on usage errors."""

    def error(self, message: str) -> None:  # noqa: D102
        self.print_usage(sys.stderr)
        _err(f"{self.prog}: error: {message}")
        raise SystemExit(2)


# -- commands ---------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from .instance import load_instance

    status = 0
    for path in args.instances:
        try:
            inst = load_instance(path)
        except InputError as exc:
            for p in exc.problems:
                _err(str(p))
            _err(f"{path}: invalid ({len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''})")
            status = 2
            continue
        for w in inst.warnings:
            _err(f"warning: {w}")
        print(f"ok: {path}: {inst.summary()}")
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    from .front import Front
    from .online_run import OnlineRun
    from .plan import Plan
    from .schema import InstanceSpec, ProfileSpec

    model = {"instance": InstanceSpec, "plan": Plan, "profile": ProfileSpec, "front": Front, "online-run": OnlineRun}[args.what]
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"idnplan {args.what} file"
    print(json.dumps(schema, indent=2))
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from .catalog import builtin_catalog
    from .report import fmt_bytes, table

    cat = builtin_catalog()
    if args.json:
        print(json.dumps({k: v.model_dump(mode="json", exclude_none=True) for k, v in cat.items()}, indent=2))
        return 0
    rows = [
        [name, d.kind, d.precision, f"{d.effective_macs_per_s:.3g}", f"{d.peak_flops:.3g}", fmt_bytes(d.memory_bytes), fmt_bytes(d.ram_bytes), f"{d.active_power_w:g}", f"{d.idle_power_w:g}", d.runtime]
        for name, d in cat.items()
    ]
    print(table(["device", "kind", "precision", "effective_macs_per_s", "peak_flops", "memory_bytes", "ram_bytes", "active_power_w", "idle_power_w", "runtime"], rows, "lllrrrrrrl"))
    print("Sources of every figure: idnplan devices --json (field 'sources'); latencies from this catalog are estimates.")
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    from solvers import get_method, methods

    from .report import table

    if args.name:
        info = get_method(args.name)
        print(f"{info.name} ({info.kind}): {info.summary}")
        print("capabilities: " + ", ".join(info.capabilities()))
        if info.requires:
            print("needs packages: " + ", ".join(info.requires) + ("" if info.available() else " (missing)"))
        if not info.options:
            print("options: none")
            return 0
        rows = [[o.name, "|".join(o.choices) if o.choices else o.type, repr(o.default), o.doc] for o in info.options]
        print(table(["option", "type", "default", "meaning"], rows))
        print("Give options as --option NAME=VALUE (repeatable).")
        return 0
    rows = [[m.name, ", ".join(m.capabilities()), "yes" if m.available() else "no (missing: " + ", ".join(m.requires) + ")", m.summary] for m in methods()]
    print(table(["method", "capabilities", "available", "summary"], rows))
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    from solvers import solve

    from .instance import load_instance
    from .plan import plan_json, write_plan
    from .report import plan_text

    if args.out is not None:
        check_output_path(args.out, "--out", args.mkdir)
    inst = load_instance(args.instance)
    for w in inst.warnings:
        _err(f"warning: {w}")
    extra = ca.method_options(args.option)
    if not args.quiet:
        _err(f"solving {inst.summary()} with '{args.method}'...")
    if args.verbose:  # methods' own progress lines (relax: every round and rounding) on stderr
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    start = time.perf_counter()
    plan = solve(inst, method=args.method, time_limit_s=args.time_limit, mip_gap=args.mip_gap, threads=args.threads, seed=args.seed, verbose=args.verbose, **extra)
    wall = time.perf_counter() - start
    if args.out is not None:
        write_plan(plan, args.out)
    if args.json:
        print(plan_json(plan), end="")
    elif args.out and args.quiet:
        pass  # the plan is in the file; --quiet prints nothing else
    else:
        print(plan_text(inst, plan))
        if args.out:
            print(f"plan written to {args.out}  (wall time {wall:.2f} s)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate
    from .instance import load_instance
    from .plan import read_plan
    from .report import evaluation_text

    inst = load_instance(args.instance)
    plan = read_plan(args.plan)
    ev = evaluate(inst, plan)
    if args.json:
        print(json.dumps(ev.to_dict(), indent=2))
    else:
        print(evaluation_text(ev))
    return 0 if ev.feasible and not ev.mismatches else 1


def cmd_profile(args: argparse.Namespace) -> int:
    if args.out is not None:
        check_output_path(args.out, "--out", args.mkdir)
    try:
        from profiling.cli import profile_from_args  # type: ignore[import-not-found]
    except ImportError as exc:
        if "torch" in str(exc):
            from .errors import MissingDependencyError

            raise MissingDependencyError("torch", "idnplan profile", "profile") from None
        raise
    return profile_from_args(args)


# -- parser -----------------------------------------------------------------------


def _add_bench(sub) -> None:
    """``idnplan bench`` lives in the top-level ``bench`` package, above ``solvers``."""
    from bench.cli import add_bench_parser

    add_bench_parser(sub)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="idnplan", description="Plan where ML models and model segments run in an inference delivery network.")
    p.add_argument("--version", action="version", version=f"idnplan {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("validate", help="check instance files (exit 2 with every problem listed)")
    s.add_argument("instances", nargs="+", metavar="INSTANCE")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("schema", help="print the JSON Schema of instance, plan, profile, front or online-run files")
    s.add_argument("what", nargs="?", choices=["instance", "plan", "profile", "front", "online-run"], default="instance")
    s.set_defaults(func=cmd_schema)

    s = sub.add_parser("devices", help="list the built-in device catalog")
    s.add_argument("--json", action="store_true", help="full catalog with the source of every figure")
    s.set_defaults(func=cmd_devices)

    s = sub.add_parser("methods", help="list the registered solution methods, or one method's options")
    s.add_argument("name", nargs="?", metavar="NAME", help="show this method's capabilities and options")
    s.set_defaults(func=cmd_methods)

    s = sub.add_parser("solve", help="solve an instance and print the plan")
    s.add_argument("instance", metavar="INSTANCE")
    s.add_argument("--method", "-m", default="milp", help="method name (see `idnplan methods`; default: milp)")
    s.add_argument("--out", "-o", metavar="PLAN.json", help="write the plan here (atomically)")
    s.add_argument("--mkdir", action="store_true", help="create the folder of --out if it does not exist")
    s.add_argument("--time-limit", type=ca.positive_seconds, metavar="S", help="time limit in seconds, > 0 (exact methods)")
    s.add_argument("--mip-gap", type=ca.nonneg_number, default=1e-4, metavar="G", help="relative MIP gap to stop at, >= 0 (default 1e-4)")
    s.add_argument("--threads", type=ca.threads, help="solver threads (1 to 4 per CPU)")
    s.add_argument("--seed", type=ca.seed, default=0, help="random seed, 0 to 2**32-1 (default 0)")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="method-specific option (repeatable)")
    s.add_argument("--json", action="store_true", help="print the plan as JSON instead of a table")
    s.add_argument("--verbose", "-v", action="store_true", help="show solver output and the method's progress lines (relax: every round and rounding)")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
    s.set_defaults(func=cmd_solve)

    s = sub.add_parser("evaluate", help="recompute and check a plan (exit 1 if it violates constraints)")
    s.add_argument("instance", metavar="INSTANCE")
    s.add_argument("plan", metavar="PLAN")
    s.add_argument("--json", action="store_true", help="one JSON object with objective, violations, metrics, routes")
    s.set_defaults(func=cmd_evaluate)

    from .generate.cli import add_generate_parser

    add_generate_parser(sub)
    from .online_cli import add_online_parser, add_trace_parser

    add_trace_parser(sub)
    add_online_parser(sub)

    from .simulate_cli import add_simulate_parser

    add_simulate_parser(sub)
    from .pareto_cli import add_pareto_parser

    add_pareto_parser(sub)
    from .plot_cli import add_plot_parser

    add_plot_parser(sub)
    _add_bench(sub)

    s = sub.add_parser("profile", help="profile a PyTorch model layer by layer (needs torch)")
    s.add_argument("model", metavar="MODEL", help="torchvision:NAME or package.module:callable")
    s.add_argument("--input-shape", default="1,3,224,224", help="comma-separated input shape, ';' between several inputs (default 1,3,224,224)")
    s.add_argument("--devices", help="comma-separated catalog device types to estimate for (default: the whole catalog)")
    s.add_argument("--no-latency", action="store_true", help="skip host latency and energy measurement (counts and estimates only)")
    s.add_argument("--dtype", choices=["float32", "float16", "int8"], default="float32", help="precision of byte figures (default float32)")
    s.add_argument("--out", "-o", metavar="PROFILE.json", help="write the profile here (atomically)")
    s.add_argument("--mkdir", action="store_true", help="create the folder of --out if it does not exist")
    s.add_argument("--name", help="model id in the profile (default: the torchvision name or the callable's name)")
    s.add_argument("--repeats", type=lambda t: ca.positive_int(t, 100_000), default=20, help="timed runs for host latency (default 20)")
    s.add_argument("--threads", type=ca.threads, help="torch threads while timing, 1 to 4 per CPU (default: torch's default)")
    s.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where host latency is measured (default cpu)")
    s.add_argument("--quiet", "-q", action="store_true", help="no table")
    s.set_defaults(func=cmd_profile)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``idnplan`` console script; returns the exit code."""
    args = argparse.Namespace(command=None)
    try:
        _startup.release_interrupts()  # from here on, Ctrl-C is a KeyboardInterrupt caught below
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return args.func(args)
    except InputError as exc:
        for p in exc.problems:
            _err(str(p))
        return exc.exit_code
    except IdnplanError as exc:
        _err(f"idnplan {args.command}: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last resort: never a bare traceback
        if os.environ.get("IDNPLAN_DEBUG"):
            traceback.print_exc()
        _err(f"idnplan {args.command}: internal error: {type(exc).__name__}: {exc} (set IDNPLAN_DEBUG=1 for a traceback, and please report it)")
        return 70
    finally:
        _startup.guard_interrupts()  # the CLI process only: a late Ctrl-C still exits 130 without a traceback


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
