"""Multi-objective methods: Pareto fronts of feasible plans over the objective vector F.

>>> from placement import load_instance
>>> from solvers.pareto import pareto
>>> front = pareto(load_instance("instances/idn-10.yaml"), "epsilon", ["latency", "energy"])  # doctest: +SKIP

Methods (one module each, registered with ``kind="pareto"``): ``epsilon``
(exact, epsilon-constraints on the MILP), ``weights`` (supported points by
weighted sums), ``nsga2`` and ``nsga3`` (pymoo, integer route encoding with a
repair operator). Each returns a :class:`placement.front.Front`.
"""

from __future__ import annotations

import time

from placement.front import Front
from placement.instance import Instance

from ..registry import prepare

#: Modules registering the Pareto methods.
MODULES = ("solvers.pareto.epsilon", "solvers.pareto.weights", "solvers.pareto.nsga")


def pareto(
    instance: Instance,
    method: str = "epsilon",
    objectives: list[str] | str = ("latency", "inaccuracy", "energy", "network"),
    *,
    time_limit_s: float | None = None,
    mip_gap: float = 1e-6,
    threads: int | None = None,
    seed: int = 0,
    verbose: bool = False,
    **options,
) -> Front:
    """The Pareto front of ``instance`` over ``objectives`` by the named method.

    ``options`` are the method's own (``idnplan methods NAME``), e.g.
    ``points``, ``pop``, ``gens``, ``max_routes``.

    Raises
    ------
    MethodError
        Unknown method or objective, a method of another kind, an option it does not take.
    """
    names = objectives if isinstance(objectives, str) else ",".join(objectives)
    info, opts = prepare(instance, method, "pareto", time_limit_s, mip_gap, threads, seed, verbose, {**options, "objectives": names})
    start = time.perf_counter()
    front = info.func(instance, opts)
    return front.model_copy(update={"solve_time_s": time.perf_counter() - start})


__all__ = ["MODULES", "pareto"]
