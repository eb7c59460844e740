"""The registry of solution methods.

A method is one module that registers a function under a name, with what it
supports (capabilities), what it needs from an instance (preconditions) and
the options it takes (typed, each with a default and one line of doc).
Everything declared is checked before the method runs, so a method is never
asked for what it cannot do, an unknown or mistyped option is refused with
the accepted ones listed, and the CLI lists methods straight from here
(``idnplan methods [NAME]``).

Three kinds of methods share the registry: ``static`` methods return a
:class:`~placement.plan.Plan` (:func:`solve`), ``online`` policies an online
run and ``pareto`` methods a front (their own entry points); asking
:func:`solve` for a method of another kind is refused.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from placement.errors import IdnplanError, InfeasibleError, MissingDependencyError, SolverError
from placement.instance import Instance
from placement.plan import Failure, Plan

#: Modules that register the built-in methods (imported on first use).
BUILTIN_MODULES = ("solvers.greedy", "solvers.milp", "solvers.relax", "solvers.pyomo_path", "solvers.splitdp", "solvers.twotier", "solvers.mincut", "solvers.online.methods", "solvers.pareto.epsilon", "solvers.pareto.weights", "solvers.pareto.nsga")


class MethodError(IdnplanError):
    """A method was asked for something it does not support (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Option:
    """A method option: ``--option NAME=VALUE`` on the command line, ``NAME=value`` in :func:`solve`.

    ``type`` is one of ``bool``, ``int``, ``float``, ``str`` or ``node`` (a node
    id of the instance); ``choices`` restricts a ``str``.
    """

    name: str
    type: str
    default: Any
    doc: str
    choices: tuple[str, ...] | None = None

    def parse(self, value: Any, method: str, instance: Instance | None = None) -> Any:
        """The typed value, or :class:`MethodError` saying what is expected."""
        where = f"method '{method}': option {self.name}"
        if value is None:
            return None
        try:
            if self.type == "bool":
                if isinstance(value, bool):
                    return value
                text = str(value).strip().lower()
                if text in ("1", "true", "yes", "on"):
                    return True
                if text in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if self.type == "int":
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                out = int(value)
                if out < 1:
                    raise MethodError(f"{where} must be a positive integer, got {value!r}")
                return out
            if self.type == "float":
                out = float(value)
                if not math.isfinite(out):
                    raise ValueError
                return out
        except (TypeError, ValueError):
            raise MethodError(f"{where} expects {self.type}, got {value!r}") from None
        text = str(value)
        if self.choices is not None and text not in self.choices:
            raise MethodError(f"{where} must be one of {', '.join(self.choices)}, got {text!r}")
        if self.type == "node" and instance is not None and text not in instance.node:
            raise MethodError(f"{where}: unknown node '{text}' (instance '{instance.name}' has {len(instance.nodes)} nodes)")
        return text

    def describe(self) -> str:
        kind = "|".join(self.choices) if self.choices else self.type
        return f"{self.name}={kind} (default {self.default!r}): {self.doc}"


@dataclass(frozen=True)
class SolveOptions:
    """Options every method receives; ``extra`` holds the method's own typed options.

    ``deadline`` is the ``time.perf_counter()`` value by which the method must
    return (None: no limit); :meth:`left` is the time still available.
    """

    time_limit_s: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    seed: int = 0
    verbose: bool = False
    extra: dict = field(default_factory=dict)
    deadline: float | None = None

    def left(self) -> float:
        """Seconds left before the deadline (inf without a time limit)."""
        return math.inf if self.deadline is None else self.deadline - time.perf_counter()

    def expired(self) -> bool:
        return self.left() <= 0


@dataclass(frozen=True)
class MethodInfo:
    """A registered method, what it supports and what it needs.

    Attributes
    ----------
    kind : str
        ``static`` (returns a plan), ``online`` or ``pareto``.
    exact : bool
        Proves optimality (reports a bound and a gap).
    splitting : bool
        May split a model over several nodes.
    routing : tuple of str
        Routing modes it can produce plans for.
    single_class : bool
        Handles only instances with one demand class.
    min_segments : int
        Needs ``options.max_segments`` at least this large.
    requires_tiers : tuple of str
        Needs at least one node of each of these tiers.
    needs_graph : bool
        Needs models with a dataflow graph (``graph`` in profiles).
    queueing : tuple of str
        Congestion models (``options.queueing``) it plans for; a method that
        plans load-blind is refused on ``ps`` instances.
    options : tuple of Option
        The options it takes.
    requires : tuple of str
        Python packages it needs (checked without importing them).
    """

    name: str
    summary: str
    func: Callable[[Instance, SolveOptions], Plan]
    kind: str = "static"
    exact: bool = False
    splitting: bool = False
    routing: tuple[str, ...] = ("splittable", "unsplittable")
    single_class: bool = False
    min_segments: int = 1
    requires_tiers: tuple[str, ...] = ()
    needs_graph: bool = False
    queueing: tuple[str, ...] = ("none",)
    options: tuple[Option, ...] = ()
    requires: tuple[str, ...] = ()

    def available(self) -> bool:
        return all(importlib.util.find_spec(p) is not None for p in self.requires)

    def capabilities(self) -> list[str]:
        caps = [self.kind] if self.kind != "static" else []
        if self.exact:
            caps.append("exact")
        if self.splitting:
            caps.append("splitting")
        caps.append("routing=" + "/".join(self.routing))
        if self.single_class:
            caps.append("single-class")
        if self.min_segments > 1:
            caps.append(f"max_segments>={self.min_segments}")
        if self.requires_tiers:
            caps.append("tiers: " + "+".join(self.requires_tiers))
        if self.needs_graph:
            caps.append("model graphs")
        if self.queueing != ("none",):
            caps.append("queueing=" + "/".join(self.queueing))
        return caps

    def check(self, instance: Instance) -> None:
        """Raise :class:`MethodError` when this method cannot take ``instance`` (says how to fix it)."""
        for pkg in self.requires:
            if importlib.util.find_spec(pkg) is None:
                raise MissingDependencyError(pkg, f"method '{self.name}'")
        if instance.queueing not in self.queueing:
            raise MethodError(f"method '{self.name}' plans without congestion (queueing: {', '.join(self.queueing)}); instance '{instance.name}' has options.queueing = {instance.queueing}: use 'relax' or 'milp', which model waiting, or solve a copy with queueing: none and evaluate that plan under {instance.queueing} (idnplan evaluate)")
        if instance.routing not in self.routing:
            raise MethodError(f"method '{self.name}' cannot produce {instance.routing} plans (it supports {', '.join(self.routing)}); choose another method or change options.routing")
        if self.single_class and len(instance.demands) != 1:
            raise MethodError(f"method '{self.name}' handles a single demand class; instance '{instance.name}' has {len(instance.demands)} (use 'milp' or 'greedy')")
        if instance.max_segments < self.min_segments:
            raise MethodError(f"method '{self.name}' splits a model over {self.min_segments} nodes; instance '{instance.name}' has options.max_segments = {instance.max_segments}")
        for tier in self.requires_tiers:
            if not any(n.tier == tier for n in instance.nodes):
                raise MethodError(f"method '{self.name}' needs a node of tier '{tier}'; no node of instance '{instance.name}' has one (set `tier: {tier}` on the nodes it should use)")
        if self.needs_graph and not any(m.graph is not None for m in instance.models.values()):
            raise MethodError(f"method '{self.name}' partitions model graphs; no model of instance '{instance.name}' has one (profile the models with `idnplan profile`, which records the graph, or give `graph:` in the instance)")

    def parse_options(self, given: dict, instance: Instance | None = None) -> dict:
        """Typed options with defaults filled in; unknown or mistyped ones are refused."""
        known = {o.name: o for o in self.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            accepted = "; ".join(o.describe() for o in self.options) or "none"
            raise MethodError(f"method '{self.name}': unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (accepted: {accepted})")
        return {name: opt.parse(given[name], self.name, instance) if name in given else opt.default for name, opt in known.items()}


_REGISTRY: dict[str, MethodInfo] = {}
_loaded = False


def register(name: str, summary: str, *, options: tuple[Option, ...] = (), **caps) -> Callable:
    """Decorator registering ``func(instance, options) -> Plan`` under ``name``.

    ``caps`` are :class:`MethodInfo` fields (``exact``, ``splitting``,
    ``routing``, ``single_class``, ``min_segments``, ``requires_tiers``,
    ``needs_graph``, ``queueing``, ``kind``, ``requires``).
    """

    def wrap(func: Callable[[Instance, SolveOptions], Plan]) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"method '{name}' registered twice")
        _REGISTRY[name] = MethodInfo(name=name, summary=summary, func=func, options=tuple(options), **caps)
        return func

    return wrap


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        for mod in BUILTIN_MODULES:
            importlib.import_module(mod)
        _loaded = True


def methods(kind: str | None = None) -> list[MethodInfo]:
    """Every registered method (of ``kind``, if given), sorted by name."""
    _load_builtin()
    return [_REGISTRY[k] for k in sorted(_REGISTRY) if kind is None or _REGISTRY[k].kind == kind]


def get_method(name: str) -> MethodInfo:
    """The method registered as ``name``; a clear error listing the names otherwise."""
    _load_builtin()
    if name not in _REGISTRY:
        raise MethodError(f"unknown method '{name}'; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def prepare(instance: Instance, method: str, kind: str, time_limit_s: float | None, mip_gap: float, threads: int | None, seed: int, verbose: bool, given: dict) -> tuple[MethodInfo, SolveOptions]:
    """Look up ``method``, check that it is of ``kind`` and can take ``instance``, and type its options."""
    info = get_method(method)
    if info.kind != kind:
        entry = {"static": "solvers.solve / idnplan solve", "online": "idnplan online", "pareto": "idnplan pareto"}[info.kind]
        raise MethodError(f"method '{method}' is a {info.kind} method; run it with {entry}")
    if time_limit_s is not None and not (time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise MethodError(f"time limit must be a positive number of seconds, got {time_limit_s!r}")
    if not (0 <= mip_gap < 1):
        raise MethodError(f"mip_gap must be in [0, 1), got {mip_gap!r}")
    if threads is not None and threads < 1:
        raise MethodError(f"threads must be >= 1, got {threads!r}")
    info.check(instance)
    typed = info.parse_options(given, instance)
    deadline = time.perf_counter() + time_limit_s if time_limit_s is not None else None
    return info, SolveOptions(time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose, extra=typed, deadline=deadline)


def solve(
    instance: Instance,
    method: str = "milp",
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    seed: int = 0,
    verbose: bool = False,
    **options,
) -> Plan:
    """Solve ``instance`` with the named static method and return its plan.

    ``options`` are the method's own options (``idnplan methods NAME``).

    Raises
    ------
    InfeasibleError
        No feasible plan exists (or, for a heuristic, none was found); the
        message says which demand class and why, with numbers.
    MethodError
        The method is unknown, of another kind, cannot take this instance, or
        an option is unknown or mistyped.
    SolverError
        The solver failed (or found no plan within the time limit).
    """
    info, opts = prepare(instance, method, "static", time_limit_s, mip_gap, threads, seed, verbose, options)
    start = time.perf_counter()
    plan = info.func(instance, opts)
    wall = time.perf_counter() - start
    if plan.solve_time_s is None:
        plan.solve_time_s = wall
    plan.wall_time_s = wall
    return plan


def try_solve(instance: Instance, method: str = "milp", **kwargs) -> Plan | Failure:
    """Like :func:`solve`, but an infeasible instance or a solver failure is a result, not an exception.

    Returns a :class:`~placement.plan.Failure` with status ``infeasible`` (and
    the diagnosis in ``reasons``) or ``error`` (and the message), so a batch of
    runs needs no exception control flow. Bad input (:class:`MethodError`,
    :class:`~placement.errors.InputError`) still raises: it is the caller's mistake.
    """
    start = time.perf_counter()
    try:
        return solve(instance, method, **kwargs)
    except InfeasibleError as exc:
        return Failure(instance=instance.name, method=method, status="infeasible", message=str(exc), reasons=list(exc.reasons), wall_time_s=time.perf_counter() - start)
    except SolverError as exc:
        return Failure(instance=instance.name, method=method, status="error", message=str(exc), reasons=[], wall_time_s=time.perf_counter() - start)
