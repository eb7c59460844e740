"""Online policies in the main method registry (``kind="online"``).

A policy module registers its class with :func:`register_policy`, naming its
options (name, type, default, one line of doc, choices). The class goes into
:mod:`solvers.registry` like any method, so ``idnplan methods`` lists the
policies with their typed options and one registry checks every kind:

- ``MethodInfo.func`` of an online method is the *policy factory*: the
  :class:`~solvers.online.base.Policy` subclass, called as
  ``func(env, **typed_options)`` with an :class:`~solvers.online.base.Env`
  (not ``func(instance, SolveOptions)`` as for static methods);
- the class attribute ``clairvoyant`` marks baselines that read the whole
  trace in advance (``hindsight``, ``static-first``): the runner gives them
  the trace, never the online policies;
- :func:`solvers.registry.prepare` with ``kind="online"`` refuses a method of
  another kind and unknown or mistyped options (exit code 2, the accepted
  options listed); this module's helpers are thin wrappers over it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from solvers.registry import MethodInfo, Option, get_method, methods, register

#: Modules that register the online policies (imported by the main registry's loader).
POLICY_MODULES = ("solvers.online.omd", "solvers.online.caches", "solvers.online.static", "solvers.online.ftpl")
_TYPES = {bool: "bool", int: "int", float: "float", str: "str"}


@dataclass(frozen=True)
class Opt:
    """One typed option of a policy (becomes a :class:`solvers.registry.Option`)."""

    name: str
    type: type
    default: Any
    doc: str
    choices: tuple[str, ...] | None = None

    def option(self) -> Option:
        return Option(self.name, _TYPES[self.type], self.default, self.doc, self.choices)


def register_policy(name: str, summary: str, options: tuple[Opt, ...] = (), clairvoyant: bool = False) -> Callable[[type], type]:
    """Class decorator: register an online policy under ``name`` in the main registry.

    Online policies cost options with the load-independent model (the
    online setting of the docs), so they declare ``queueing=('none',)``.
    """

    def deco(cls: type) -> type:
        cls.name = name
        cls.clairvoyant = clairvoyant
        register(name, summary, kind="online", options=tuple(o.option() for o in options))(cls)
        return cls

    return deco


def _load() -> None:
    for mod in POLICY_MODULES:
        importlib.import_module(mod)


def policies() -> list[MethodInfo]:
    """Every registered online policy, by name."""
    _load()
    return methods(kind="online")


def get_policy(name: str) -> MethodInfo:
    """The online method called ``name`` (MethodError, exit 2, when unknown or of another kind)."""
    from solvers.registry import MethodError

    _load()
    info = get_method(name)
    if info.kind != "online":
        known = ", ".join(m.name for m in methods(kind="online"))
        raise MethodError(f"method '{name}' is a {info.kind} method, not an online policy; online policies: {known}")
    return info


def is_clairvoyant(info: MethodInfo) -> bool:
    """Whether the policy reads the whole trace in advance (a baseline, not an online method)."""
    return bool(getattr(info.func, "clairvoyant", False))


def option_help(info: MethodInfo) -> str:
    """One line listing the options of a policy."""
    return "; ".join(o.describe() for o in info.options) or "none"


def parse_options(info: MethodInfo, given: dict[str, Any]) -> dict[str, Any]:
    """Typed options of ``info``: defaults overridden by ``given`` (strings or values)."""
    return info.parse_options(given)
