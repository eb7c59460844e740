"""``milp-pyomo``: the path-based MILP written plainly in Pyomo, every route a variable.

The textbook formulation, for reading and for checking ``milp``: all routes
that meet their class's SLO and accuracy floor and fit their nodes' memory
are enumerated up front, each becomes a variable, and every storage
requirement of every route is its own constraint ``y[route] <= x[node, model, layer]``.
It is exact over the routes it enumerates (``routes=all``, the default, is the
whole route space of DESIGN.md) and refuses instances whose route space is
too large to enumerate. With ``routes=upward`` only routes computing on the
path from the origin towards its nearest cloud node are enumerated: the
"naive" formulation that benchmarks compare against (a restriction of the
problem, so the plan is not claimed optimal for the whole problem then).
"""

from __future__ import annotations

import time
from collections import defaultdict

from placement.build import RouteChoice, build_plan
from placement.errors import InfeasibleError
from placement.instance import Instance
from placement.plan import Plan, PlanStatus, Termination

from .candidates import ROUTES_OPTION, candidate_routes, upward_targets
from .columns import Column, column_from_candidate, storage_nodes
from .diagnose import class_reason
from .master import new_highs
from .origin_trees import origin_tree
from .registry import MethodError, Option, SolveOptions, register

#: Refuse to enumerate more routes than this (use ``milp`` instead).
MAX_ROUTES = 2_000_000


def enumerate_columns(instance: Instance, scope: str = "all", limit: int = MAX_ROUTES) -> list[Column]:
    """Every route of every class within ``scope``, as columns (SLO, accuracy, memory fits applied)."""
    store = storage_nodes(instance)
    cols: list[Column] = []
    for d in instance.demands:
        targets = upward_targets(instance, d.origin) if scope == "upward" else None
        tree = origin_tree(instance, d.origin)
        for cand in candidate_routes(instance, d, targets=targets):
            cols.append(column_from_candidate(instance, tree, cand, store))
            if len(cols) > limit:
                raise MethodError(f"milp-pyomo: more than {limit:,} routes to enumerate; use 'milp' (column generation) for instances this large")
    return cols


def build_model(instance: Instance, cols: list[Column]):
    """The Pyomo model over the given routes (see module docstring)."""
    import pyomo.environ as pyo

    m = pyo.ConcreteModel(name=instance.name)
    L = instance.total_rate_rps
    U = instance.max_utilization
    unsplittable = instance.routing == "unsplittable"
    m.R = pyo.RangeSet(0, len(cols) - 1)
    m.y = pyo.Var(m.R, domain=pyo.Binary if unsplittable else pyo.UnitInterval)
    keys = sorted({k for c in cols for k in c.keys})
    m.K = pyo.RangeSet(0, len(keys) - 1) if keys else pyo.Set(initialize=[])
    m.x = pyo.Var(m.K, domain=pyo.Binary)
    key_index = {k: i for i, k in enumerate(keys)}
    rate = [d.rate_rps for d in instance.demands]

    m.obj = pyo.Objective(expr=sum(rate[c.cls] * c.cost / L * m.y[j] for j, c in enumerate(cols)))
    by_class = defaultdict(list)
    node_terms = defaultdict(list)
    link_terms = defaultdict(list)
    mem_terms = defaultdict(list)
    for j, c in enumerate(cols):
        by_class[c.cls].append(j)
        for v, t in c.compute:
            node_terms[v].append((j, rate[c.cls] * t))
        for d, b in c.links:
            link_terms[d].append((j, rate[c.cls] * b))
    for k, (v, model, layer) in enumerate(keys):
        mem_terms[v].append((k, float(instance.models[model].param_bytes[layer])))

    m.serve = pyo.Constraint(range(len(instance.demands)), rule=lambda m, r: sum(m.y[j] for j in by_class[r]) == 1 if by_class[r] else pyo.Constraint.Infeasible)
    m.compute = pyo.Constraint(sorted(node_terms), rule=lambda m, v: sum(a * m.y[j] for j, a in node_terms[v]) <= U)
    bw = {d: instance.links[d // 2].bandwidth_bytes_per_s for d in link_terms}
    m.link = pyo.Constraint(sorted(link_terms), rule=lambda m, d: sum(a * m.y[j] for j, a in link_terms[d]) <= U * bw[d])
    m.memory = pyo.Constraint(sorted(mem_terms), rule=lambda m, v: sum(a * m.x[k] for k, a in mem_terms[v]) <= instance.nodes[v].memory_bytes)
    pairs = [(j, key_index[k]) for j, c in enumerate(cols) for k in c.keys]
    m.store = pyo.Constraint(range(len(pairs)), rule=lambda m, p: m.y[pairs[p][0]] <= m.x[pairs[p][1]])
    return m


def _termination(tc, kinds) -> Termination:
    """Why Pyomo's HiGHS interface stopped, in this project's terms."""
    return {
        kinds.convergenceCriteriaSatisfied: Termination.OPTIMAL,
        kinds.maxTimeLimit: Termination.TIME_LIMIT,
        kinds.iterationLimit: Termination.ITERATION_LIMIT,
        kinds.objectiveLimit: Termination.GAP_LIMIT,
        kinds.interrupted: Termination.INTERRUPTED,
    }.get(tc, Termination.OTHER)


@register(
    "milp-pyomo",
    "Exact on small instances: every route a variable, plain Pyomo + HiGHS (option routes=all|upward)",
    exact=True,
    splitting=True,
    requires=("pyomo", "highspy"),
    options=(ROUTES_OPTION, Option("max_routes", "int", MAX_ROUTES, "refuse instances with more routes than this (every route is a Pyomo variable)")),
)
def milp_pyomo(instance: Instance, opts: SolveOptions) -> Plan:
    import pyomo.environ as pyo
    from pyomo.contrib.solver.common.results import TerminationCondition
    from pyomo.contrib.solver.solvers.highs import Highs

    scope = opts.extra["routes"]
    t0 = time.perf_counter()
    cols = enumerate_columns(instance, scope, opts.extra["max_routes"])
    missing = sorted({d.index for d in instance.demands} - {c.cls for c in cols})
    if missing:
        reasons = [class_reason(instance, instance.demands[r]) or f"demand class {r}: no route within routes={scope}" for r in missing]
        raise InfeasibleError(reasons, method="milp-pyomo")
    model = build_model(instance, cols)
    build = time.perf_counter() - t0
    new_highs(opts.verbose)  # the first HiGHS of the process prints a banner; let it be this quiet one
    solver = Highs()
    kw = {"rel_gap": opts.mip_gap, "load_solutions": False, "raise_exception_on_nonoptimal_result": False}
    if opts.time_limit_s:
        kw["time_limit"] = opts.time_limit_s
    if opts.threads:
        kw["threads"] = opts.threads
    t1 = time.perf_counter()
    res = solver.solve(model, tee=opts.verbose, **kw)
    solve_s = time.perf_counter() - t1
    tc = res.termination_condition
    if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        raise InfeasibleError([f"no plan exists using routes={scope}: the capacities cannot serve every class together (milp explains which)"], method="milp-pyomo")
    if res.incumbent_objective is None:
        raise MethodError(f"milp-pyomo: no plan found ({tc.name}); raise --time-limit or use 'milp'")
    res.solution_loader.load_vars()
    chosen = [(c, float(pyo.value(model.y[j]))) for j, c in enumerate(cols) if pyo.value(model.y[j]) > 1e-9]
    per_class = defaultdict(float)
    for c, v in chosen:
        per_class[c.cls] += v
    if instance.routing == "unsplittable":
        best = {}
        for c, v in chosen:
            if v > best.get(c.cls, (None, -1))[1]:
                best[c.cls] = (c, v)
        picked = [(c, 1.0) for c, _ in best.values()]
    else:
        picked = [(c, v / per_class[c.cls]) for c, v in chosen]
    routes = [RouteChoice(c.route, s, c.cost, c.latency_s, c.energy_j) for c, s in picked]
    bound = float(res.objective_bound) if res.objective_bound is not None else None
    optimal = tc == TerminationCondition.convergenceCriteriaSatisfied
    exact_scope = scope == "all"
    plan = build_plan(
        instance,
        "milp-pyomo",
        sorted(routes, key=lambda c: c.route.demand),
        PlanStatus.OPTIMAL if optimal and exact_scope else (PlanStatus.FEASIBLE if exact_scope else PlanStatus.HEURISTIC),
        bound=bound if exact_scope else None,
        termination=_termination(tc, TerminationCondition),
        solve_time_s=solve_s,
        build_time_s=build,
        seed=opts.seed,
        options={"routes": scope, "mip_gap": opts.mip_gap, "time_limit_s": opts.time_limit_s},
        notes=[] if exact_scope else ["routes=upward: optimal only among routes computing towards the cloud, not for the whole problem"],
    )
    plan.stats = {
        "routes": len(cols),
        "variables": model.nvariables(),
        "constraints": model.nconstraints(),
        "solver_objective": float(res.incumbent_objective),
        "solver_bound": bound,
        "scope_optimal": optimal,
    }
    return plan
