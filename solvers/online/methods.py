"""Imported by :mod:`solvers.registry` to register every online policy (``kind="online"``)."""

from .registry import _load

_load()
