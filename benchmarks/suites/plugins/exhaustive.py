"""Exhaustive enumeration as methods, the oracle of ``benchmarks/suites/split_exact.yaml``.

``exhaustive-chain`` tries every chain route of each class between its
origin and every other node (all on the origin, all on the other node, and
every cut in between), each turned into a plan and costed by the evaluator,
and keeps the cheapest feasible one. ``exhaustive-graph`` takes the optimum
over every device/server partition of each class's model graph
(:func:`solvers.downsets.enumerate_partitions`, a dynamic programme over the
down-sets) and every server. Both are exact for single-class instances with
no binding capacity (the split benchmark's device/server pairs); they share
no search code with the methods they check.
"""

from __future__ import annotations

import time

from placement.build import RouteChoice, build_plan, plan_from_routes
from placement.evaluate import evaluate
from placement.plan import PlanStatus
from placement.routes import Route, Segment
from solvers import register


def _single_class(instance, method):
    if len(instance.demands) != 1:
        from placement.errors import InputError

        raise InputError(f"{method}: built for single-class instances (got {len(instance.demands)} classes)")
    return instance.demands[0]


@register("exhaustive-chain", "oracle: every chain cut between the origin and each other node, evaluated (single class)", splitting=True)
def exhaustive_chain(instance, opts):
    demand = _single_class(instance, "exhaustive-chain")
    best = None
    for model in instance.models_for(demand):
        n = model.n_layers
        for server in [v.id for v in instance.nodes if v.id != demand.origin]:
            routes = [(Segment(demand.origin, 0, n - 1),), (Segment(server, 0, n - 1),)]
            routes += [(Segment(demand.origin, 0, k - 1), Segment(server, k, n - 1)) for k in range(1, n)]
            for segs in routes:
                plan = plan_from_routes(instance, [(Route(demand.index, model.id, segs), 1.0)], "exhaustive-chain")
                ev = evaluate(instance, plan)
                if ev.feasible and (best is None or ev.objective < best[0]):
                    best = (ev.objective, plan)
    if best is None:
        from placement.errors import InfeasibleError

        raise InfeasibleError(["no chain route is feasible"], method="exhaustive-chain")
    return best[1]


@register("exhaustive-graph", "oracle: the optimum over every device/server partition of the model graph (single class)", splitting=True, needs_graph=True)
def exhaustive_graph(instance, opts):
    from solvers.downsets import enumerate_partitions
    from solvers.graphcut import partition

    start = time.perf_counter()
    demand = _single_class(instance, "exhaustive-graph")
    best = None
    for model in instance.models_for(demand):
        for server in [v.id for v in instance.nodes if v.id != demand.origin]:
            found = enumerate_partitions(instance, model, demand, server)
            if best is None or found.cost < best[0]:
                best = (found.cost, partition(instance, model, demand, server, set(found.on_device)))
    cut = best[1]
    return build_plan(instance, "exhaustive-graph", [RouteChoice(cut.route, 1.0, cut.cost, cut.latency_s)], PlanStatus.OPTIMAL,
                      solve_time_s=time.perf_counter() - start)
