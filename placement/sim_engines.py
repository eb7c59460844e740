"""Event engines of the simulator: a hand-written heap loop and a SimPy model.

Both engines simulate the same thing from the same random draws (a
:class:`RequestSource`), so on one seed they give the same sample path up to
the order of simultaneous events: the SimPy model is the readable reference,
the heap loop the fast default (``docs/simulation.md`` has the measurements).

A compiled route is ``lead_prop_s`` (propagation before the first server) and
a list of steps ``(server, work_s, prop_s)``: the request is served at
``server`` for ``work_s`` seconds of service (times a multiplier drawn per
visit for exponential service), then travels ``prop_s`` seconds (a pure
delay) to its next step; the last step's ``prop_s`` brings the result home.

Processor sharing (``ps``) is exact and event-driven, with virtual time: at a
server with n jobs every job receives service at rate 1/n, so the attained
service V(t) grows at 1/n; a job with work w that arrives at virtual time V0
leaves when V reaches V0 + w. Each arrival or departure moves the server's
next completion; an outdated completion event is recognised by a version
number and skipped. ``fifo`` is one first-come-first-served server: a job's
departure is known when it arrives.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

Progress = Callable[[float, float], None]
_PROGRESS_EVERY = 1 << 16


@dataclass
class CompiledRoutes:
    """Routes as server visits; ``probs`` are rate x share / total rate."""

    n_servers: int
    demand: list[int]
    lead_prop_s: list[float]
    steps: list[list[tuple[int, float, float]]]
    probs: np.ndarray
    total_rate_rps: float

    @property
    def max_steps(self) -> int:
        return max((len(s) for s in self.steps), default=0)


@dataclass
class RawRun:
    """What an engine measured: one entry per recorded request, busy seconds per server."""

    demand: list[int] = field(default_factory=list)
    arrival_s: list[float] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    busy_s: list[float] = field(default_factory=list)
    visits: list[int] = field(default_factory=list)
    events: int = 0  # arrivals + 2 x server visits (the same count for every engine)
    end_time_s: float = 0.0


class RequestSource:
    """Poisson arrivals of every route, with each visit's service multiplier.

    Three independent streams spawned from ``seed`` (arrival times, route
    choice, service draws), so switching ``service`` keeps the arrivals
    (common random numbers). Chunks are drawn lazily: the run goes on past the
    measured window until every measured request has finished.
    """

    CHUNK = 1 << 15

    def __init__(self, routes: CompiledRoutes, seed: int, service: str):
        ss = np.random.SeedSequence(seed)
        self._times, self._choice, self._service = (np.random.default_rng(s) for s in ss.spawn(3))
        self.routes = routes
        self.exponential = service == "exponential"

    def chunks(self) -> Iterator[tuple[list[float], list[int], list[list[float]] | None]]:
        r = self.routes
        last, k, width = 0.0, self.CHUNK, max(r.max_steps, 1)
        cum = np.cumsum(r.probs)
        cum[-1] = 1.0
        while True:
            gaps = self._times.standard_exponential(k) / r.total_rate_rps
            times = last + np.cumsum(gaps)
            last = float(times[-1])
            picks = np.searchsorted(cum, self._choice.random(k), side="right")
            mults = self._service.standard_exponential((k, width)).tolist() if self.exponential else None
            yield times.tolist(), picks.tolist(), mults


def run_heap(routes: CompiledRoutes, source: RequestSource, warmup_s: float, end_s: float,
             discipline: str, progress: Progress | None = None) -> RawRun:
    """Simulate with a binary heap of events (the fast engine).

    Requests arriving in ``[warmup_s, end_s)`` are recorded; busy time is
    measured over the same window.
    """
    push, pop = heapq.heappush, heapq.heappop
    ps = discipline == "ps"
    ns = routes.n_servers
    N, V, TL, VER, JOBS = [0] * ns, [0.0] * ns, [0.0] * ns, [0] * ns, [[] for _ in range(ns)]
    BUSY, FREE, VISITS = [0.0] * ns, [0.0] * ns, [0] * ns
    steps_of, lead_of, dem_of = routes.steps, routes.lead_prop_s, routes.demand
    out = RawRun()
    rec_d, rec_t, rec_l = out.demand.append, out.arrival_s, out.latency_s
    rec_t, rec_l = rec_t.append, rec_l.append
    heap: list = [(warmup_s, -2, 2, 0, 0), (end_s, -1, 2, 1, 0)]  # markers: window start/end
    marks: list[list[float]] = []
    seq = 0
    inflight = 0  # recorded requests not yet finished
    chunks = source.chunks()
    a_t, a_r, a_m = next(chunks)
    ai, an = 0, len(a_t)
    next_arrival = a_t[0]
    events = arrivals = 0
    ended = False
    inf = float("inf")

    def finish(job, t):
        nonlocal inflight
        if job[4]:
            rec_d(dem_of[job[0]])
            rec_t(job[2])
            rec_l(t - job[2])
            inflight -= 1

    def enter(job, t):
        """Job ``job`` reaches the server of its current step at time t."""
        nonlocal seq
        route, k = job[0], job[1]
        s, w, p = steps_of[route][k]
        m = job[3]
        if m is not None:
            w *= m[k]
        VISITS[s] += 1
        if ps:
            n = N[s]
            if n:
                dt = t - TL[s]
                V[s] += dt / n
                BUSY[s] += dt
            TL[s] = t
            q = JOBS[s]
            push(q, (V[s] + w, seq, job))
            N[s] = n + 1
            ver = VER[s] + 1
            VER[s] = ver
            push(heap, (t + (q[0][0] - V[s]) * (n + 1), seq, 1, s, ver))
            seq += 1
        else:
            f = FREE[s]
            dep = (f if f > t else t) + w
            FREE[s] = dep
            BUSY[s] += w
            job[1] = k + 1
            if k + 1 == len(steps_of[route]):
                finish(job, dep + p)
            else:
                push(heap, (dep + p, seq, 0, job, 0))
                seq += 1

    while True:
        top = heap[0][0] if heap else inf
        if next_arrival <= top:
            t = next_arrival
            route = a_r[ai]
            job = [route, 0, t, a_m[ai] if a_m is not None else None, warmup_s <= t < end_s]
            inflight += job[4]
            arrivals += 1
            ai += 1
            if ai == an:
                a_t, a_r, a_m = next(chunks)
                ai, an = 0, len(a_t)
            next_arrival = a_t[ai]
            lead = lead_of[route]
            if not steps_of[route]:
                finish(job, t + lead)
            elif lead > 0:
                push(heap, (t + lead, seq, 0, job, 0))
                seq += 1
            else:
                enter(job, t)
        else:
            ev = pop(heap)
            t, code = ev[0], ev[2]
            if code == 1:
                s = ev[3]
                if ev[4] != VER[s]:
                    continue
                n = N[s]
                BUSY[s] += t - TL[s]
                TL[s] = t
                q = JOBS[s]
                fv, _, job = pop(q)
                N[s] = n - 1
                if n > 1:
                    V[s] = fv
                    ver = VER[s] + 1
                    VER[s] = ver
                    push(heap, (t + (q[0][0] - fv) * (n - 1), seq, 1, s, ver))
                    seq += 1
                else:
                    V[s] = 0.0  # idle: restart virtual time, keeps it small
                k = job[1] + 1
                job[1] = k
                p = steps_of[job[0]][k - 1][2]
                if k == len(steps_of[job[0]]):
                    finish(job, t + p)
                elif p > 0:
                    push(heap, (t + p, seq, 0, job, 0))
                    seq += 1
                else:
                    enter(job, t)
            elif code == 0:
                enter(ev[3], t)
            else:
                marks.append(_busy_at(t, ps, N, TL, BUSY, FREE))
                ended = ev[3] == 1
        events += 1
        if ended and not inflight:
            break
        if progress is not None and not events % _PROGRESS_EVERY:
            progress(t, end_s)
    out.busy_s = [b - a for a, b in zip(*marks)]
    # comparable across engines: arrivals plus one entry and one departure per server visit
    out.visits, out.events, out.end_time_s = VISITS, arrivals + 2 * sum(VISITS), t
    return out


def _busy_at(t: float, ps: bool, N: list, TL: list, BUSY: list, FREE: list) -> list[float]:
    """Busy seconds of every server up to time t (ps: while it holds jobs; fifo: work done)."""
    if ps:
        return [b + (t - tl if n else 0.0) for n, tl, b in zip(N, TL, BUSY)]
    return [b - (f - t if f > t else 0.0) for f, b in zip(FREE, BUSY)]
