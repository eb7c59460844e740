"""What every Pareto method shares: objectives, options, plans from route shares, the front and its indicators.

Indicators (all objectives minimised):

- **hypervolume** (pymoo's ``HV`` indicator) of a front against a stated
  reference point, in the objectives' own units (seconds x bytes/s x ...);
  :func:`reference_point` puts it 10 % of each objective's range beyond the
  worst value (the nadir) of the fronts compared, so a point at the nadir
  still adds volume;
- **additive epsilon indicator** ``I(A, B)``: the smallest ``e`` such that
  every point of B is weakly dominated by some point of A shifted by ``-e``,
  computed on objectives normalised to [0, 1] by the ideal and nadir of the
  fronts compared (0: A covers B; > 0: by how much A falls short of B).
"""

from __future__ import annotations

import math
import time

import numpy as np

from placement.build import RouteChoice, build_plan
from placement.front import Front, FrontPoint, non_dominated
from placement.instance import Instance
from placement.kernel import F_FIELDS, OBJECTIVES
from placement.plan import Plan, PlanStatus, Termination

from ..registry import MethodError, Option
from .pool import RoutePool

OBJECTIVES_OPTION = Option("objectives", "str", "latency,inaccuracy,energy,network", f"comma-separated objectives to minimise, from {', '.join(OBJECTIVES)}")
POOL_OPTION = Option("max_routes", "int", 200, "routes per demand class in the pool; a class with more keeps the best by each objective (then exact only within the pool)")
#: Relative spacing below which two objective vectors count as the same point.
SAME_RTOL = 1e-9


def parse_objectives(text: str | list[str], method: str) -> list[str]:
    """The objective names, checked: known, distinct, at least two."""
    names = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    unknown = [n for n in names if n not in OBJECTIVES]
    if unknown:
        raise MethodError(f"method '{method}': unknown objective {', '.join(unknown)} (choose from {', '.join(OBJECTIVES)})")
    if len(set(names)) != len(names):
        raise MethodError(f"method '{method}': objective listed twice in {','.join(names)}")
    if len(names) < 2:
        raise MethodError(f"method '{method}': a front needs at least two objectives, got {','.join(names) or 'none'}")
    return names


def check_instance(instance: Instance, method: str) -> None:
    """The Pareto methods use the load-independent model: F is then linear in the route shares."""
    if instance.queueing != "none":
        raise MethodError(f"method '{method}' needs options.queueing: none (F is linear in the route shares only without congestion); instance '{instance.name}' has '{instance.queueing}'")


def objectives_and_pool(instance: Instance, opts, method: str) -> tuple[list[str], RoutePool]:
    """What every Pareto method does first: its objectives (option ``objectives``), the
    instance check, and the route pool of ``max_routes`` per class for those objectives."""
    objectives = parse_objectives(opts.extra["objectives"], method)
    check_instance(instance, method)
    return objectives, RoutePool.build(instance, opts.extra["max_routes"], tuple(objectives))


def plan_of(instance: Instance, pool: RoutePool, method: str, shares: dict[int, float], *, notes: list[str] | None = None, seed: int | None = None) -> Plan:
    """A plan from route index -> share, with the routes' own figures (the evaluator checks them).

    ``pool`` is anything with the routes as ``columns`` (a :class:`RoutePool`,
    or an :class:`~.mip.ObjectiveMILP` whose columns grow by pricing).
    """
    chosen = [RouteChoice(pool.columns[g].route, s, pool.columns[g].cost, pool.columns[g].latency_s, pool.columns[g].energy_j) for g, s in sorted(shares.items()) if s > 1e-12]
    by_class: dict[int, float] = {}
    for ch in chosen:
        by_class[ch.route.demand] = by_class.get(ch.route.demand, 0.0) + ch.share
    # shares of a class sum to 1 up to the LP's tolerance: rescale so the plan says exactly 1
    chosen = [RouteChoice(c.route, c.share / by_class[c.route.demand], c.cost, c.latency_s, c.energy_j) for c in chosen]
    return build_plan(instance, method, chosen, PlanStatus.HEURISTIC, termination=Termination.COMPLETED, seed=seed, notes=notes)


def plan_vector(plan: Plan, objectives: list[str]) -> np.ndarray:
    """F of a plan (the kernel's metrics), for the named objectives."""
    m = plan.metrics
    return np.array([getattr(m, F_FIELDS[OBJECTIVES.index(o)]) for o in objectives], dtype=float)


def reference_point(*fronts: np.ndarray) -> np.ndarray:
    """Nadir of the given objective matrices plus 10 % of their range (of |nadir|, or 1, where the range is 0 up to rounding)."""
    F = np.vstack([np.asarray(f, dtype=float) for f in fronts if len(f)])
    lo, hi = F.min(axis=0), F.max(axis=0)
    span = hi - lo
    flat = span <= 1e-9 * np.maximum(np.abs(hi), np.abs(lo))  # equal up to rounding
    span = np.where(flat, np.where(np.abs(hi) > 0, np.abs(hi), 1.0), span)
    return hi + 0.1 * span


def hypervolume(F: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by the rows of ``F`` up to ``ref`` (pymoo's HV indicator)."""
    F = np.asarray(F, dtype=float)
    if not len(F):
        return 0.0
    from pymoo.indicators.hv import HV

    return float(HV(ref_point=np.asarray(ref, dtype=float))(F))


def additive_epsilon(A: np.ndarray, B: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Additive epsilon indicator I(A, B) on objectives normalised by ``lo`` (ideal) and ``hi`` (nadir)."""
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    a = (np.asarray(A, dtype=float) - lo) / span
    b = (np.asarray(B, dtype=float) - lo) / span
    if not len(b):
        return 0.0
    if not len(a):
        return math.inf
    return float(np.max(np.min(np.max(a[:, None, :] - b[None, :, :], axis=2), axis=0)))


def assemble(instance: Instance, method: str, objectives: list[str], plans: list[Plan], *, status: str, start: float, seed: int | None, options: dict, notes: list[str]) -> Front:
    """The front of ``plans``: their non-dominated, distinct objective vectors, sorted by the first objective, with hypervolume."""
    F = np.array([plan_vector(p, objectives) for p in plans], dtype=float).reshape(len(plans), len(objectives))
    keep = np.flatnonzero(non_dominated(F, SAME_RTOL)) if len(F) else np.zeros(0, dtype=np.int64)
    keep = keep[np.lexsort(F[keep].T[::-1])] if len(keep) else keep
    wall = time.perf_counter() - start
    points = []
    for i in keep:
        plan = plans[int(i)]
        plan.solve_time_s = plan.solve_time_s if plan.solve_time_s is not None else wall
        points.append(FrontPoint(objectives={o: float(v) for o, v in zip(objectives, F[i])}, plan=plan))
    hv, ref = None, None
    if len(keep):
        ref = reference_point(F[keep])
        try:
            hv = hypervolume(F[keep], ref)
        except ImportError:
            notes = [*notes, "hypervolume not computed: pymoo is not installed (pip install 'idnplan[pareto]')"]
    return Front(
        instance=instance.name,
        method=method,
        objectives=list(objectives),
        points=points,
        status=status,
        hypervolume=hv,
        reference_point=None if ref is None else [float(x) for x in ref],
        solve_time_s=wall,
        seed=seed,
        options=options,
        notes=notes,
    )


__all__ = ["OBJECTIVES_OPTION", "POOL_OPTION", "additive_epsilon", "assemble", "check_instance", "hypervolume", "parse_objectives", "objectives_and_pool", "plan_of", "plan_vector", "reference_point"]
