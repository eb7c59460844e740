"""Discrete-event simulation of a plan, beside its analytical latency.

Each demand class is a Poisson stream; each request picks one of its class's
routes with probability equal to the route's share and walks it: the input
crosses every link from the origin to the first computing node (store and
forward: each link direction is a server with service bytes /
bandwidth_bytes_per_s, then ``latency_s`` of propagation, a pure delay), each
segment is served at its node (service = the segment's compute seconds), each
cut tensor crosses to the next computing node and the result returns to the
origin. Nodes and link directions are processor-sharing (``ps``) or FIFO
servers; service is deterministic or exponential with the nominal mean.

Statistics: requests arriving in ``[warmup_s, duration_s)`` are measured (the
run goes on until all of them have finished, with arrivals continuing), per
class the mean latency with a 95 % batch-means confidence interval, p50, p95,
p99 and the fraction above the class's ``max_latency_s``; per server the
simulated busy fraction beside the plan's utilization.

The analytical prediction beside each mean (:func:`analytical_latency`):
under ``ps`` (Kleinrock; exact for PS servers with Poisson arrivals by the
BCMP theorem, whatever the service distribution) a service s at a server of
utilization rho takes s / (1 - rho); under ``none`` it is the evaluator's
load-independent route latency, which leaves waiting out.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from .errors import InputError, Problem
from .evaluate import evaluate
from .fileio import finite_or_null
from .graphroute import plan_route_figures
from .instance import Instance
from .kernel import RouteCosts, loads
from .network import direction_key
from .plan import Plan
from .routes import route_figures
from .sim_engines import CompiledRoutes, Progress, RawRun, RequestSource, run_heap

SERVICES = ("exponential", "deterministic")
DISCIPLINES = ("ps", "fifo")
ENGINES = ("heap", "simpy")
QUEUEING = ("ps", "none")
_SHARE_EPS = 1e-12


@dataclass(frozen=True)
class ClassStatistics:
    """Simulated latency of one demand class (all latencies in seconds)."""

    demand: int
    label: str
    rate_rps: float
    requests: int
    mean_latency_s: float | None
    ci95_latency_s: tuple[float, float] | None
    p50_latency_s: float | None
    p95_latency_s: float | None
    p99_latency_s: float | None
    max_latency_s: float
    slo_miss_fraction: float | None
    analytical_mean_latency_s: float
    no_wait_latency_s: float

    @property
    def analytical_in_ci(self) -> bool | None:
        """Whether the ``ps`` prediction lies inside the 95 % CI (None without a CI)."""
        if self.ci95_latency_s is None:
            return None
        lo, hi = self.ci95_latency_s
        return lo <= self.analytical_mean_latency_s <= hi


@dataclass(frozen=True)
class ServerStatistics:
    """One node or link direction: simulated busy fraction beside the plan's utilization."""

    server: str
    kind: str
    simulated_utilization: float
    planned_utilization: float
    visits: int


@dataclass(frozen=True)
class SimulationResult:
    """Everything :func:`simulate` measured, with its settings and cost."""

    instance: str
    method: str | None
    duration_s: float
    warmup_s: float
    seed: int
    service: str
    discipline: str
    engine: str
    batches: int
    service_time_source: str
    requests: int
    events: int
    wall_s: float
    events_per_s: float
    classes: tuple[ClassStatistics, ...]
    servers: tuple[ServerStatistics, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain data for ``idnplan simulate --json`` (non-finite numbers become null)."""
        data = asdict(self)
        data["classes"] = [dict(asdict(c), analytical_in_ci=c.analytical_in_ci) for c in self.classes]
        return finite_or_null(data)


def analytical_latency(instance: Instance, plan: Plan, queueing: str = "ps") -> dict[int, float]:
    """Mean latency per demand class predicted without simulation.

    Parameters
    ----------
    instance, plan
        The plan's routes and shares define each server's utilization rho
        (node: sum of rate x share x compute seconds; link direction: bytes
        per second / bandwidth_bytes_per_s), as the evaluator computes it.
    queueing : {'ps', 'none'}
        ``ps``: per route, the sum over the servers it visits of
        service / (1 - rho) plus propagation (infinite when rho >= 1);
        ``none``: the evaluator's load-independent route latency.

    Returns
    -------
    dict
        Demand index -> share-weighted mean latency in seconds.
    """
    if queueing not in QUEUEING:
        raise InputError(Problem(None, "queueing", f"unknown queueing model '{queueing}' (one of {', '.join(QUEUEING)})"))
    costs = RouteCosts.pack(instance, [plan_route_figures(instance, pr) for pr in plan.routes])
    share = np.array([pr.share for pr in plan.routes], dtype=float)
    load = loads(instance, costs, instance.rates[costs.demand] * share, queueing)
    latency = costs.latency_s(load.node_factor, load.link_factor)
    out: dict[int, float] = {}
    for pr, lat in zip(plan.routes, latency):
        if pr.share > _SHARE_EPS:
            out[pr.demand] = out.get(pr.demand, 0.0) + pr.share * float(lat)
    return out


def compile_routes(instance: Instance, plan: Plan) -> tuple[CompiledRoutes, list[str], list[str]]:
    """The plan's routes as server visits; returns them with each server's name and kind."""
    names: dict[tuple[str, str, str], int] = {}

    def server(kind: str, a: str, b: str = "") -> int:
        return names.setdefault((kind, a, b), len(names))

    demand, leads, steps, probs = [], [], [], []
    total = instance.total_rate_rps
    for pr in plan.routes:
        if pr.share <= _SHARE_EPS:
            continue
        dem = instance.demands[pr.demand]
        lead, visits = _fold_idle(_route_visits(instance, pr, server))
        demand.append(pr.demand)
        leads.append(lead)
        steps.append(visits)
        probs.append(dem.rate_rps * pr.share / total)
    p = np.asarray(probs, dtype=float)
    routes = CompiledRoutes(len(names), demand, leads, steps, p / p.sum(), total)
    order = sorted(names, key=names.get)
    labels = [a if kind == "node" else direction_key(a, b) for kind, a, b in order]
    return routes, labels, [kind for kind, _, _ in order]


def _route_visits(instance: Instance, pr, server) -> list[tuple[int, float, float]]:
    """(server, service seconds, propagation after it) of every visit of a request, in order."""
    dem = instance.demands[pr.demand]
    model = instance.models[pr.model]
    path = instance.path(dem.origin, pr.segments[-1].node)
    pos = [path.index(s.node) for s in pr.segments]
    out: list[tuple[int, float, float]] = []

    def hops(nbytes: float, i: int, j: int) -> None:
        step = 1 if j > i else -1
        for k in range(i, j, step):
            link = instance.network.link(path[k], path[k + step])
            out.append((server("link", path[k], path[k + step]), nbytes / link.bandwidth_bytes_per_s, link.latency_s))

    hops(model.input_bytes, 0, pos[0])
    for k, seg in enumerate(pr.segments):
        node = instance.node[seg.node]
        out.append((server("node", seg.node), model.segment_latency(node.device, seg.layers[0], seg.layers[1]), 0.0))
        hops(float(model.out_bytes[seg.layers[1]]), pos[k], pos[k + 1] if k + 1 < len(pos) else 0)
    return out


def _fold_idle(visits: list[tuple[int, float, float]]) -> tuple[float, list[tuple[int, float, float]]]:
    """Drop visits with no service, keeping their delay: (delay before the first visit, visits)."""
    lead, kept = 0.0, []
    for s, work, prop in visits:
        if work > 0:
            kept.append((s, work, prop))
        elif kept:
            kept[-1] = (kept[-1][0], kept[-1][1], kept[-1][2] + prop)
        else:
            lead += prop
    return lead, kept


def _check(instance: Instance, plan: Plan, duration_s, warmup_s, service, discipline, engine, batches):
    problems = []
    if not (isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0):
        problems.append(Problem(None, "duration_s", f"must be a positive number of seconds, got {duration_s!r}"))
    elif not (isinstance(warmup_s, (int, float)) and 0 <= warmup_s < duration_s):
        problems.append(Problem(None, "warmup_s", f"must be >= 0 and below duration_s = {duration_s:g}, got {warmup_s!r}"))
    for name, value, allowed in (("service", service, SERVICES), ("discipline", discipline, DISCIPLINES), ("engine", engine, ENGINES)):
        if value not in allowed:
            problems.append(Problem(None, name, f"unknown {name} '{value}' (one of {', '.join(allowed)})"))
    if batches < 2:
        problems.append(Problem(None, "batches", f"batch means need at least 2 batches, got {batches}"))
    if problems:
        raise InputError(problems)
    ev = evaluate(instance, plan)
    bad = [v for v in ev.violations if v.kind in ("instance", "unknown-id", "route", "share", "coverage")]
    if bad:
        raise InputError([Problem(None, v.where, f"cannot simulate this plan: {v.message}") for v in bad])
    return ev


def simulate(instance: Instance, plan: Plan, duration_s: float = 600.0, warmup_s: float = 60.0, seed: int = 0,
             service: str = "exponential", discipline: str = "ps", progress: Progress | None = None,
             engine: str = "heap", batches: int = 20) -> SimulationResult:
    """Simulate ``plan`` for ``duration_s`` seconds and compare with the analytical latency.

    Parameters
    ----------
    instance, plan
        The plan must be well formed (routes valid, shares summing to 1);
        capacity violations are simulated (a server with utilization >= 1 is
        unstable: its queue grows for the whole run, and a warning says so).
    duration_s, warmup_s : float
        Simulated seconds; requests arriving before ``warmup_s`` are not measured.
    seed : int
        The same seed gives identical results.
    service : {'exponential', 'deterministic'}
        Service time of every visit: exponential with the nominal mean, or the nominal value.
    discipline : {'ps', 'fifo'}
        Processor sharing or first come, first served, at every node and link direction.
    progress : callable, optional
        Called now and then with (simulated seconds so far, duration_s).
    engine : {'heap', 'simpy'}
        The hand-written event loop (fast) or the SimPy model (reference).
    batches : int
        Number of batches (equal spans of arrival time) for the confidence intervals.

    Returns
    -------
    SimulationResult
    """
    ev = _check(instance, plan, duration_s, warmup_s, service, discipline, engine, batches)
    routes, labels, kinds = compile_routes(instance, plan)
    start = time.perf_counter()
    source = RequestSource(routes, seed, service)
    if engine == "simpy":
        from .sim_simpy import run_simpy

        raw = run_simpy(routes, source, float(warmup_s), float(duration_s), discipline, progress)
    else:
        raw = run_heap(routes, source, float(warmup_s), float(duration_s), discipline, progress)
    wall = time.perf_counter() - start
    window = duration_s - warmup_s
    planned = [float((ev.nodes if k == "node" else ev.links)[name]["utilization"]) for name, k in zip(labels, kinds)]
    servers = sorted(
        (ServerStatistics(name, k, b / window, rho, n) for name, k, b, rho, n in zip(labels, kinds, raw.busy_s, planned, raw.visits)),
        key=lambda s: (-s.planned_utilization, s.server),
    )
    warnings = tuple(f"{s.kind} {s.server} has utilization {s.planned_utilization:.3f} >= 1: its queue grows without bound, the simulated figures depend on the duration"
                     for s in servers if s.planned_utilization >= 1.0)
    classes = _class_statistics(instance, plan, raw, float(warmup_s), float(duration_s), batches)
    sources = {route_figures(instance, pr.to_route()).compute_source for pr in plan.routes if pr.share > _SHARE_EPS}
    return SimulationResult(
        instance.name, plan.method, float(duration_s), float(warmup_s), seed, service, discipline, engine, batches,
        sources.pop() if len(sources) == 1 else "mixed", len(raw.latency_s), raw.events, wall,
        raw.events / wall if wall > 0 else math.inf, classes, tuple(servers), warnings,
    )


def _class_statistics(instance: Instance, plan: Plan, raw: RawRun, warmup_s: float, end_s: float, batches: int) -> tuple[ClassStatistics, ...]:
    """Per class: mean with a batch-means 95 % CI, percentiles, SLO misses, predictions."""
    from scipy.stats import t as student_t

    ps_pred = analytical_latency(instance, plan, "ps")
    none_pred = analytical_latency(instance, plan, "none")
    dem = np.asarray(raw.demand, dtype=np.int64)
    arr = np.asarray(raw.arrival_s, dtype=float)
    lat = np.asarray(raw.latency_s, dtype=float)
    n_cls = len(instance.demands)
    batch = np.minimum(((arr - warmup_s) / (end_s - warmup_s) * batches).astype(np.int64), batches - 1)
    key = dem * batches + batch
    counts = np.bincount(key, minlength=n_cls * batches).reshape(n_cls, batches)
    sums = np.bincount(key, weights=lat, minlength=n_cls * batches).reshape(n_cls, batches)
    order = np.argsort(dem, kind="stable")
    bounds = np.searchsorted(dem[order], np.arange(n_cls + 1))
    out = []
    for d in instance.demands:
        x = lat[order[bounds[d.index] : bounds[d.index + 1]]]
        n = len(x)
        mean = ci = p50 = p95 = p99 = miss = None
        if n:
            mean = float(x.mean())
            p50, p95, p99 = (float(v) for v in np.percentile(x, [50, 95, 99]))
            miss = float((x > d.max_latency_s).mean())
            full = counts[d.index] > 0
            if full.sum() >= 2:
                means = sums[d.index][full] / counts[d.index][full]
                half = float(student_t.ppf(0.975, full.sum() - 1) * means.std(ddof=1) / math.sqrt(full.sum()))
                ci = (mean - half, mean + half)
        out.append(ClassStatistics(d.index, d.label, d.rate_rps, n, mean, ci, p50, p95, p99, d.max_latency_s, miss,
                                   ps_pred.get(d.index, math.nan), none_pred.get(d.index, math.nan)))
    return tuple(out)


def ci_coverage(result: SimulationResult, min_requests: int = 1000) -> dict[str, int]:
    """How many classes have the ``ps`` prediction inside their CI.

    Counts classes with at least ``min_requests`` measured requests: inside
    the 95 % CI of each class (about 1 in 20 should miss by chance alone), and
    inside the simultaneous 95 % CI over all of them (Bonferroni: each CI
    widened to level 1 - 0.05 / classes), which all classes should meet.
    """
    from scipy.stats import t as student_t

    big = [c for c in result.classes if c.requests >= min_requests and c.ci95_latency_s is not None]
    df = result.batches - 1
    widen = float(student_t.ppf(1 - 0.025 / max(len(big), 1), df) / student_t.ppf(0.975, df))
    inside = joint = 0
    for c in big:
        lo, hi = c.ci95_latency_s
        half = (hi - lo) / 2 * widen
        inside += bool(c.analytical_in_ci)
        joint += abs(c.analytical_mean_latency_s - c.mean_latency_s) <= half
    return {"classes": len(big), "inside_ci95": inside, "inside_simultaneous_ci95": joint}
