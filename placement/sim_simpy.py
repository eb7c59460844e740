"""The simulator's SimPy engine: requests as processes, servers as resources.

SimPy has no processor-sharing resource, so :class:`PSServer` is one: a
process that holds the jobs' finishing virtual times (see
:mod:`placement.sim_engines`) and sleeps until the next completion or the next
arrival, whichever comes first. FIFO servers are ``simpy.Resource(capacity=1)``.
It draws from the same :class:`~placement.sim_engines.RequestSource` as the
heap engine, so both give the same sample path; it is kept as the readable
reference and for the speed comparison in ``docs/simulation.md``.
"""

from __future__ import annotations

import heapq

from .errors import MissingDependencyError
from .sim_engines import _PROGRESS_EVERY, CompiledRoutes, Progress, RawRun, RequestSource

_EPS = 1e-12


class PSServer:
    """An exact processor-sharing server for SimPy: ``yield server.serve(work_s)``."""

    def __init__(self, env):
        self.env = env
        self.jobs: list = []  # heap of (finishing virtual time, seq, event)
        self.v = 0.0
        self.t = 0.0
        self.busy_s = 0.0
        self.seq = 0
        self.wake = env.event()
        env.process(self._run())

    def _advance(self) -> None:
        now, n = self.env.now, len(self.jobs)
        if n:
            self.v += (now - self.t) / n
            self.busy_s += now - self.t
        self.t = now

    def busy_at(self, now: float) -> float:
        return self.busy_s + (now - self.t if self.jobs else 0.0)

    def serve(self, work_s: float):
        """An event that fires when ``work_s`` seconds of service have been received."""
        self._advance()
        done = self.env.event()
        heapq.heappush(self.jobs, (self.v + work_s, self.seq, done))
        self.seq += 1
        if not self.wake.triggered:
            self.wake.succeed()
        return done

    def _run(self):
        env = self.env
        while True:
            if not self.jobs:
                yield self.wake
                self.wake = env.event()
                continue
            dt = (self.jobs[0][0] - self.v) * len(self.jobs)
            yield env.timeout(max(dt, 0.0)) | self.wake
            if self.wake.triggered:
                self.wake = env.event()
            self._advance()
            while self.jobs and self.jobs[0][0] <= self.v + _EPS * max(1.0, self.v):
                fv, _, done = heapq.heappop(self.jobs)
                self.v = max(self.v, fv)
                done.succeed()
            if not self.jobs:
                self.v = 0.0


def run_simpy(routes: CompiledRoutes, source: RequestSource, warmup_s: float, end_s: float,
              discipline: str, progress: Progress | None = None) -> RawRun:
    """Simulate with SimPy (same inputs and outputs as :func:`~placement.sim_engines.run_heap`)."""
    try:
        import simpy
    except ImportError:
        raise MissingDependencyError("simpy", "the SimPy engine of idnplan simulate") from None
    env = simpy.Environment()
    ps = discipline == "ps"
    servers = [PSServer(env) if ps else simpy.Resource(env, capacity=1) for _ in range(routes.n_servers)]
    fifo_busy = [0.0] * routes.n_servers
    out = RawRun(visits=[0] * routes.n_servers)
    state = {"inflight": 0, "ended": False, "count": 0}
    drained = env.event()
    marks: list[list[float]] = []

    def busy_now() -> list[float]:
        now = env.now
        if ps:
            return [s.busy_at(now) for s in servers]
        # fifo_busy counts a service when it starts; take off what is still to run
        return [b - max(0.0, getattr(s, "_until", now) - now) for s, b in zip(servers, fifo_busy)]

    def request(route: int, t0: float, mults, recorded: bool):
        lead = routes.lead_prop_s[route]
        if lead > 0:
            yield env.timeout(lead)
        for k, (s, w, p) in enumerate(routes.steps[route]):
            if mults is not None:
                w *= mults[k]
            out.visits[s] += 1
            if ps:
                yield servers[s].serve(w)
            else:
                with servers[s].request() as req:
                    yield req
                    fifo_busy[s] += w
                    servers[s]._until = env.now + w
                    yield env.timeout(w)
            if p > 0:
                yield env.timeout(p)
        if recorded:
            out.demand.append(routes.demand[route])
            out.arrival_s.append(t0)
            out.latency_s.append(env.now - t0)
            state["inflight"] -= 1
            if state["ended"] and not state["inflight"] and not drained.triggered:
                drained.succeed()

    def arrivals():
        for times, picks, mults in source.chunks():
            for i, t in enumerate(times):
                yield env.timeout(t - env.now)
                recorded = warmup_s <= t < end_s
                state["inflight"] += recorded
                env.process(request(picks[i], t, mults[i] if mults is not None else None, recorded))
                state["count"] += 1
                if progress is not None and not state["count"] % _PROGRESS_EVERY:
                    progress(env.now, end_s)

    def markers():
        yield env.timeout(warmup_s)
        marks.append(busy_now())
        yield env.timeout(end_s - warmup_s)
        marks.append(busy_now())
        state["ended"] = True
        if not state["inflight"]:
            drained.succeed()

    env.process(arrivals())
    env.process(markers())
    env.run(until=drained)
    out.busy_s = [b - a for a, b in zip(*marks)]
    out.end_time_s = env.now
    out.events = state["count"] + 2 * sum(out.visits)  # the heap engine's count
    return out
