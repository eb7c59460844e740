"""Solution methods: turn an instance into a plan.

>>> from placement import load_instance
>>> from solvers import solve
>>> plan = solve(load_instance("instances/idn-10.yaml"), method="greedy")  # doctest: +SKIP

Every method is registered by name with its capabilities (see
:mod:`solvers.registry`); ``idnplan methods`` lists them.
"""

from .registry import MethodError, MethodInfo, Option, SolveOptions, get_method, methods, register, solve, try_solve

__all__ = ["MethodError", "MethodInfo", "Option", "SolveOptions", "get_method", "methods", "register", "solve", "try_solve"]
