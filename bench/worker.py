"""What runs inside a run's own process: rebuild the instance from data, solve, evaluate.

:func:`execute` takes the small description of :meth:`bench.suite.Run.describe`
and returns one result row (plain data). It never raises for a failed run:
an infeasible instance, a solver failure, an exhausted memory limit or any
other exception becomes the row's ``status`` and ``message``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import platform
import resource
import socket
import sys
import time

#: Options every method accepts (the fields of ``solvers.SolveOptions``).
COMMON_OPTIONS = frozenset({"time_limit_s", "mip_gap", "threads", "verbose"})
#: Method-specific options of the built-in methods (read from ``SolveOptions.extra``).
#: Plugin files already imported in this process (a second import would register twice).
_PLUGINS: dict[str, object] = {}
#: Packages whose versions every row records.
PACKAGES = ("idnplan", "numpy", "scipy", "highspy", "pyomo", "pydantic", "networkx")
#: Statuses of runs that produced a plan.
SOLVED = ("optimal", "feasible", "heuristic")


def load_plugins(paths: list[str]) -> None:
    """Import plugin files (each registers methods with ``solvers.register``) once per process."""
    for path in paths:
        if path in _PLUGINS:
            continue
        spec = importlib.util.spec_from_file_location(f"idnplan_bench_plugin_{len(_PLUGINS)}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        _PLUGINS[path] = module


def method_options(method: str) -> frozenset[str]:
    """The options ``method`` accepts: the solver options every method takes and the
    typed options it declared when it registered (``idnplan methods NAME``)."""
    from solvers import get_method

    info = get_method(method)
    return (COMMON_OPTIONS if info.kind != "online" else frozenset()) | frozenset(o.name for o in info.options)


@functools.lru_cache(maxsize=1)
def environment() -> dict:
    """Host name, Python and package versions of this process (computed once)."""
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"host": socket.gethostname(), "python": platform.python_version(), "versions": versions}


def preload() -> None:
    """Import everything a run needs, so forked run processes start warm."""
    import placement.evaluate  # noqa: F401
    import solvers

    from .factories import tiny

    solvers.methods()
    environment()
    # one throw-away run fills the lazy caches (device catalog, validators) before any fork
    execute({"key": "warm-up", "method": "greedy", "options": {}, "seed": 0, "instance_json": tiny().model_dump_json(), "instance_label": "warm-up"})


def _peak_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def execute(desc: dict) -> dict:
    """Run one description; return its result row (never raises for a failed run)."""
    start = time.perf_counter()
    row: dict = {"key": desc["key"], "status": "error", "message": None, **environment()}
    try:
        row.update(_solve(desc))
    except MemoryError:
        row.update(status="memory", message="MemoryError: the run exceeded its memory limit")
    except Exception as exc:  # noqa: BLE001 - a failed run is a result, not a crash of the sweep
        row.update(status="error", message=f"{type(exc).__name__}: {exc}")
    row["wall_s"] = time.perf_counter() - start
    row["peak_memory_bytes"] = _peak_rss_bytes()
    return row


def _solve(desc: dict) -> dict:
    from placement.errors import InfeasibleError, SolverError
    from placement.evaluate import evaluate
    from placement.instance import Instance
    from placement.plan import plan_json
    from placement.schema import InstanceSpec
    from solvers import solve

    load_plugins(desc.get("plugins", []))
    if desc.get("kind") == "online":
        from .online import execute_online

        return execute_online(desc)
    if desc.get("kind") == "pareto":
        from .pareto import execute_pareto

        return execute_pareto(desc)
    if desc.get("kind") == "profile":
        from .profile import execute_profile

        return execute_profile(desc)
    t = time.perf_counter()
    inst = Instance.from_spec(InstanceSpec.model_validate_json(desc["instance_json"]), None, desc["instance_label"])
    out: dict = {"load_s": time.perf_counter() - t}
    opts = dict(desc["options"])
    t = time.perf_counter()
    try:
        plan = solve(inst, method=desc["method"], seed=desc["seed"], **opts)
    except InfeasibleError as exc:
        out.update(status="infeasible", message="; ".join(exc.reasons), method_s=time.perf_counter() - t)
        return out
    except SolverError as exc:
        out.update(status="error", message=str(exc), method_s=time.perf_counter() - t)
        return out
    out["method_s"] = time.perf_counter() - t
    ev = evaluate(inst, plan)
    m = ev.metrics
    out.update(
        status=str(plan.status), objective=plan.objective, bound=plan.bound, gap=plan.gap,
        build_s=plan.build_time_s, solve_s=plan.solve_time_s,
        mean_latency_s=m.get("mean_latency_s"), mean_inaccuracy=m.get("mean_inaccuracy"), mean_energy_j=m.get("mean_energy_j"),
        network_bytes_per_s=m.get("network_bytes_per_s"), violations=len(ev.violations), plan_json=plan_json(plan),
    )
    if ev.violations:
        out["message"] = f"the evaluator found {len(ev.violations)} violations: " + "; ".join(str(v) for v in ev.violations[:3])
    return out
