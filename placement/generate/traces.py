"""Demand and resource trace generators for the online setting (seeded, reproducible).

Demand kinds (``requests`` = mean requests per slot over all pairs):

- ``stationary``: each slot draws its requests from one Zipf distribution
  (exponent ``zipf_s``, default 0.8) over the instance's (origin, task) pairs,
  ranked in a random order.
- ``shifting``: Zipf with s = 0.6 whose popularity ranking rolls by a quarter
  of the pairs every T/4 slots (the setting of the OnlineCache experiments).
- ``diurnal``: stationary Zipf popularity, volume per origin
  ``1 + 0.8 sin(2 pi t / period + phase[origin])`` (period T/4 by default).
- ``shot-noise``: Poisson shot noise: request sources are born at Poisson times
  (at the rate that makes them 90 % of the volume), each on a random pair,
  with an exponential lifetime (mean T/20 slots) and volume (mean 20 requests
  per slot over its life), over a 10 % stationary Zipf background.
- ``adversarial``: the pairs are split into two disjoint halves (mixes A and
  B, at random) and slots alternate A, B, A, ... with a volume growing over
  time, so the mix just seen always leads in recency *and* in cumulative
  count: LRU and LFU keep exactly the models the next slot does not need.

Resource kinds: ``congested-access`` (the uplink of an access-tier node,
both directions, at ``factor`` x its bandwidth during the busy quarter of
every ``period`` slots), ``peak-hours`` (the uplinks of *every* access-tier
node, both directions, at ``factor`` x their bandwidth during the busy
quarter of every period: an evening peak across the whole access network)
and ``slow-edge`` (an edge-tier node at ``factor`` x its speed from slot T/2
on). ``factor`` defaults to 0.2 for the link kinds and 0.5 for
``slow-edge``; ``period`` to T/4.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..instance import Instance
from ..traces import DemandTrace, ResourceEvent, ResourceTrace

DEMAND_KINDS = ("stationary", "shifting", "diurnal", "shot-noise", "adversarial")
RESOURCE_KINDS = ("congested-access", "peak-hours", "slow-edge")


def _pairs(instance: Instance) -> list[tuple[str, str]]:
    return list(dict.fromkeys((d.origin, d.task) for d in instance.demands))


def _zipf(n: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** s
    return p / p.sum()


def _draw(rng: np.random.Generator, volume: float, p: np.ndarray) -> np.ndarray:
    n = rng.poisson(max(volume, 0.0))
    return rng.multinomial(n, p / p.sum()) if p.sum() > 0 else np.zeros(len(p), dtype=np.int64)


def generate_demand_trace(instance: Instance, kind: str, n_slots: int, seed: int = 0, requests: float = 100.0, zipf_s: float | None = None, period: int | None = None) -> DemandTrace:
    """Generate a demand trace of ``kind`` (see the module docstring)."""
    if kind not in DEMAND_KINDS:
        raise InputError(f"unknown trace kind '{kind}'; known: {', '.join(DEMAND_KINDS)}")
    if n_slots < 1:
        raise InputError(f"--slots must be >= 1, got {n_slots}")
    rng = np.random.default_rng(seed)
    pairs = _pairs(instance)
    P = len(pairs)
    rank = rng.permutation(P)  # rank[i]: popularity rank of pair i
    counts = np.zeros((n_slots, P), dtype=np.int64)
    if kind == "stationary":
        p = _zipf(P, 0.8 if zipf_s is None else zipf_s)[rank]
        for t in range(n_slots):
            counts[t] = _draw(rng, requests, p)
    elif kind == "shifting":
        base = _zipf(P, 0.6 if zipf_s is None else zipf_s)
        phase = max(1, n_slots // 4)
        for t in range(n_slots):
            shift = (t // phase) * max(1, P // 4)
            counts[t] = _draw(rng, requests, base[(rank + shift) % P])
    elif kind == "diurnal":
        p = _zipf(P, 0.8 if zipf_s is None else zipf_s)[rank]
        per = period or max(4, n_slots // 4)
        origins = sorted({o for o, _ in pairs})
        phase = dict(zip(origins, rng.uniform(0, 2 * np.pi, len(origins))))
        ph = np.array([phase[o] for o, _ in pairs])
        for t in range(n_slots):
            w = p * (1.0 + 0.8 * np.sin(2 * np.pi * t / per + ph))
            counts[t] = _draw(rng, requests * w.sum(), w)
    elif kind == "shot-noise":
        p = _zipf(P, 0.8 if zipf_s is None else zipf_s)[rank]
        life, vol = max(1.0, n_slots / 20), 20.0
        active: list[tuple[int, int, float]] = []  # (pair, death slot, requests per slot)
        for t in range(n_slots):
            for _ in range(rng.poisson(0.9 * requests / (vol * life))):
                lifetime = rng.exponential(life)
                active.append((int(rng.integers(P)), t + max(1, int(np.ceil(lifetime))), rng.exponential(vol)))
            active = [a for a in active if a[1] > t]
            intensity = requests * 0.1 * p
            for pair, _, v in active:
                intensity[pair] += v
            counts[t] = rng.poisson(intensity)
    else:  # adversarial
        half = np.zeros(P, dtype=bool)
        half[rank[: P // 2]] = True
        mixes = [half, ~half] if P > 1 else [half | True, half | True]
        for t in range(n_slots):
            m = mixes[t % 2].astype(float)
            counts[t] = _draw(rng, requests * (0.5 + t / n_slots), m * _zipf(P, 0.0))
    return DemandTrace(tuple(pairs), counts, f"{kind} (seed {seed}, {n_slots} slots, {requests:g} requests/slot)")


def _uplink(instance: Instance, node: str) -> str:
    """The first hop of ``node``'s path toward the nearest cloud-tier node (else its first neighbour)."""
    reach = instance.network.reachable(node)
    clouds = sorted((d, n) for n, d in reach.items() if instance.node[n].tier == "cloud")
    path = instance.path(node, clouds[0][1]) if clouds else None
    return path[1] if path and len(path) > 1 else sorted(instance.network.graph.neighbors(node))[0]


def generate_resource_trace(instance: Instance, kind: str, n_slots: int, seed: int = 0, factor: float | None = None, period: int | None = None) -> ResourceTrace:
    """Generate a resource trace of ``kind`` (see the module docstring)."""
    if kind not in RESOURCE_KINDS:
        raise InputError(f"unknown resource trace kind '{kind}'; known: {', '.join(RESOURCE_KINDS)}")
    rng = np.random.default_rng(seed)
    tier = "edge" if kind == "slow-edge" else "access"
    cands = [n.id for n in instance.nodes if n.tier == tier]
    if not cands:
        raise InputError(f"resource trace '{kind}': the instance has no node of tier '{tier}'")
    target = cands[int(rng.integers(len(cands)))]
    events: list[ResourceEvent] = []
    if kind == "slow-edge":
        events.append(ResourceEvent(n_slots // 2, "node", target, 0.5 if factor is None else factor))
    else:
        f = 0.2 if factor is None else factor
        per = period or max(4, n_slots // 4)
        congested = cands if kind == "peak-hours" else [target]
        uplink = {node: _uplink(instance, node) for node in congested}
        for start in range(0, n_slots, per):
            busy_from, busy_to = start + per // 2, start + per // 2 + max(1, per // 4)
            for node, nxt in uplink.items():
                for slot, value in ((busy_from, f), (busy_to, 1.0)):
                    if slot < n_slots:
                        events.extend(ResourceEvent(slot, "link", f"{a}->{b}", value) for a, b in ((node, nxt), (nxt, node)))
        events.sort(key=lambda e: e.slot)
        if kind == "peak-hours":
            target = f"{len(congested)} access uplinks"
    return ResourceTrace(tuple(events), f"{kind} (seed {seed}, {n_slots} slots, {target})")
