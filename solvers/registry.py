"""The registry of solution methods.

A method is one module that registers a function under a name, with the
capabilities it supports. ``solve`` checks the capabilities against the
instance before running, so a method is never asked for what it cannot do,
and the CLI lists methods straight from here (``idnplan methods``).
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from placement.errors import IdnplanError, MissingDependencyError
from placement.instance import Instance
from placement.plan import Plan

#: Modules that register the built-in methods (imported on first use).
BUILTIN_MODULES = ("solvers.greedy", "solvers.milp", "solvers.pyomo_path", "solvers.splitdp", "solvers.twotier", "solvers.mincut")


class MethodError(IdnplanError):
    """A method was asked for something it does not support (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class SolveOptions:
    """Options every method receives; a method ignores those it has no use for."""

    time_limit_s: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    seed: int = 0
    verbose: bool = False
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MethodInfo:
    """A registered method and what it supports.

    Attributes
    ----------
    exact : bool
        Proves optimality (reports a bound and a gap).
    splitting : bool
        May split a model over several nodes.
    routing : tuple of str
        Routing modes it can produce plans for.
    single_class : bool
        Handles only instances with one demand class.
    online, multi_objective : bool
        Kind of method (see DESIGN.md).
    requires : tuple of str
        Python packages it needs (checked without importing them).
    """

    name: str
    summary: str
    func: Callable[[Instance, SolveOptions], Plan]
    exact: bool = False
    splitting: bool = False
    routing: tuple[str, ...] = ("splittable", "unsplittable")
    single_class: bool = False
    online: bool = False
    multi_objective: bool = False
    requires: tuple[str, ...] = ()

    def available(self) -> bool:
        return all(importlib.util.find_spec(p) is not None for p in self.requires)

    def capabilities(self) -> list[str]:
        caps = []
        if self.exact:
            caps.append("exact")
        if self.splitting:
            caps.append("splitting")
        caps.append("routing=" + "/".join(self.routing))
        if self.single_class:
            caps.append("single-class")
        if self.online:
            caps.append("online")
        if self.multi_objective:
            caps.append("multi-objective")
        return caps

    def check(self, instance: Instance) -> None:
        """Raise :class:`MethodError` when this method cannot take ``instance``."""
        for pkg in self.requires:
            if importlib.util.find_spec(pkg) is None:
                raise MissingDependencyError(pkg, f"method '{self.name}'")
        if instance.routing not in self.routing:
            raise MethodError(f"method '{self.name}' cannot produce {instance.routing} plans (it supports {', '.join(self.routing)}); choose another method or change options.routing")
        if self.single_class and len(instance.demands) != 1:
            raise MethodError(f"method '{self.name}' handles a single demand class; instance '{instance.name}' has {len(instance.demands)} (use 'milp' or 'greedy')")


_REGISTRY: dict[str, MethodInfo] = {}
_loaded = False


def register(name: str, summary: str, **caps) -> Callable:
    """Decorator registering ``func(instance, options) -> Plan`` under ``name``."""

    def wrap(func: Callable[[Instance, SolveOptions], Plan]) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"method '{name}' registered twice")
        _REGISTRY[name] = MethodInfo(name=name, summary=summary, func=func, **caps)
        return func

    return wrap


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        for mod in BUILTIN_MODULES:
            importlib.import_module(mod)
        _loaded = True


def methods() -> list[MethodInfo]:
    """Every registered method, sorted by name."""
    _load_builtin()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_method(name: str) -> MethodInfo:
    """The method registered as ``name``; a clear error listing the names otherwise."""
    _load_builtin()
    if name not in _REGISTRY:
        raise MethodError(f"unknown method '{name}'; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def solve(
    instance: Instance,
    method: str = "milp",
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    seed: int = 0,
    verbose: bool = False,
    **extra,
) -> Plan:
    """Solve ``instance`` with the named method and return its plan.

    Raises
    ------
    InfeasibleError
        No feasible plan exists (or, for a heuristic, none was found); the
        message says which demand class and why, with numbers.
    MethodError
        The method does not support this instance or is unknown.
    """
    info = get_method(method)
    info.check(instance)
    opts = SolveOptions(time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose, extra=extra)
    start = time.perf_counter()
    plan = info.func(instance, opts)
    if plan.solve_time_s is None:
        plan.solve_time_s = time.perf_counter() - start
    return plan
