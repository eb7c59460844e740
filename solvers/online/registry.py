"""Registry of online policies, each with typed options.

A policy module registers its class with :func:`register_policy`, naming its
options (name, type, default, one line of doc). ``parse_options`` turns the
CLI's ``K=V`` strings into typed values and refuses unknown or mistyped ones
with a message that lists the accepted options (exit code 2).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from placement.errors import InputError

_POLICIES: dict[str, PolicyInfo] = {}
_MODULES = ("solvers.online.omd", "solvers.online.caches", "solvers.online.static", "solvers.online.ftpl")


@dataclass(frozen=True)
class Opt:
    """One typed option of a policy."""

    name: str
    type: type
    default: Any
    doc: str


@dataclass(frozen=True)
class PolicyInfo:
    """A registered policy: its class, one-line summary, options and flags.

    ``clairvoyant`` policies see the whole trace in advance (baselines that
    are not online methods: ``hindsight``, ``static-first``).
    """

    name: str
    cls: type
    summary: str
    options: tuple[Opt, ...] = ()
    clairvoyant: bool = False
    extra: dict = field(default_factory=dict)

    def option_help(self) -> str:
        return ", ".join(f"{o.name} ({o.type.__name__}, default {o.default!r}): {o.doc}" for o in self.options) or "none"


def register_policy(name: str, summary: str, options: tuple[Opt, ...] = (), clairvoyant: bool = False) -> Callable[[type], type]:
    """Class decorator: register an online policy under ``name``."""

    def deco(cls: type) -> type:
        _POLICIES[name] = PolicyInfo(name, cls, summary, tuple(options), clairvoyant)
        cls.name = name
        return cls

    return deco


def _load() -> None:
    for mod in _MODULES:
        importlib.import_module(mod)


def policies() -> list[PolicyInfo]:
    """Every registered policy, by name."""
    _load()
    return [_POLICIES[k] for k in sorted(_POLICIES)]


def get_policy(name: str) -> PolicyInfo:
    """The policy called ``name`` (InputError listing the known ones otherwise)."""
    _load()
    if name not in _POLICIES:
        raise InputError(f"--policy: unknown policy '{name}'; known: {', '.join(sorted(_POLICIES))}")
    return _POLICIES[name]


def _convert(opt: Opt, value: Any) -> Any:
    if opt.type is bool and isinstance(value, str):
        low = value.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    if opt.type is int and isinstance(value, (str, float)):
        f = float(value)
        if f != int(f):
            raise ValueError(value)
        return int(f)
    return opt.type(value)


def parse_options(info: PolicyInfo, given: dict[str, Any]) -> dict[str, Any]:
    """Typed options of ``info``: defaults overridden by ``given`` (strings or values)."""
    known = {o.name: o for o in info.options}
    out = {o.name: o.default for o in info.options}
    for key, value in given.items():
        if key not in known:
            raise InputError(f"--option {key}: policy '{info.name}' has no option '{key}'; accepted: {info.option_help()}")
        try:
            out[key] = _convert(known[key], value)
        except (TypeError, ValueError):
            raise InputError(f"--option {key}={value}: expected {known[key].type.__name__} ({known[key].doc})") from None
    return out
