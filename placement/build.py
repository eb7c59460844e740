"""Turning a method's decision into a :class:`~placement.plan.Plan`.

Every method builds its plan through :func:`build_plan`, which fills each
reported figure (route latency and energy, objective, metrics) from the
evaluator. A plan therefore never reports a number the evaluator would not
recompute; methods keep their own objective value (e.g. a MILP's) only to
cross-check it in tests.
"""

from __future__ import annotations

from .evaluate import evaluate
from .graphroute import storage_of
from .instance import Instance
from .plan import Plan, PlanMetrics, PlanRoute, PlanSegment, PlanStatus, Termination
from .routes import Route


def build_plan(
    instance: Instance,
    method: str,
    routes: list[tuple[Route, float]],
    status: PlanStatus = PlanStatus.HEURISTIC,
    *,
    bound: float | None = None,
    termination: Termination | None = Termination.COMPLETED,
    solve_time_s: float | None = None,
    build_time_s: float | None = None,
    seed: int | None = None,
    options: dict | None = None,
    storage: dict[str, dict[str, list[tuple[int, int]]]] | None = None,
    notes: list[str] | None = None,
) -> Plan:
    """Assemble a plan from ``(route, share)`` pairs, with figures from the evaluator.

    ``routes`` may be chain routes or :class:`~placement.graphroute.GraphRoute` s.
    ``storage`` defaults to exactly the layers the routes compute. The gap is
    ``(objective - bound) / max(|objective|, 1e-12)`` when a bound is given.
    """
    kept = [(r, s) for r, s in routes if s > 0]
    plan_routes = [
        PlanRoute(
            demand=r.demand,
            model=r.model,
            share=float(s),
            segments=[PlanSegment(node=g.node, ops=list(g.ops)) if hasattr(g, "ops") else PlanSegment(node=g.node, layers=(g.first, g.last)) for g in r.segments],
        )
        for r, s in kept
    ]
    plan = Plan(
        instance=instance.name,
        method=method,
        status=status,
        storage=storage if storage is not None else storage_of(instance, [r for r, _ in kept]),
        routes=plan_routes,
        solve_time_s=solve_time_s,
        build_time_s=build_time_s,
        termination=termination,
        seed=seed,
        options=options or {},
        notes=notes or [],
    )
    ev = evaluate(instance, plan)
    for pr, re_ in zip(plan.routes, ev.routes):
        pr.latency_s, pr.energy_j = re_.latency_s, re_.energy_j
        pr.latency_source = "estimated" if re_.latency_source != "measured" else "measured compute, modelled transfers"
    plan.objective = ev.objective
    if bound is not None:
        plan.bound = float(bound)
        plan.gap = max(0.0, (ev.objective - bound) / max(abs(ev.objective), 1e-12))
    plan.metrics = PlanMetrics(**ev.metrics)
    return plan
