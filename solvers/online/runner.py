"""Run online policies on a trace: charge every slot, compute regret against hindsight.

Each slot t: the policy fixes its storage (timed), the slot is charged
(requests x per-request cost under the resource factors in force from slot t,
plus ``w_update`` x bytes newly stored), then the policy observes the slot's
counts and gains (timed too: the update time of slot t is decision + learning).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from placement.errors import SolverError
from placement.instance import Instance
from placement.online_run import OnlineRun, OnlineSlot, OnlineSummary, RegretPoint
from placement.traces import DemandTrace, ResourceTrace

from .base import Env, NodeGroups
from .costs import OnlineTable, build_table, option_costs
from .gains import Gains
from .registry import is_clairvoyant
from .static import _epochs, solve_static


@dataclass(frozen=True, eq=False)
class Setting:
    """Instance, table, traces and the gains of every resource epoch."""

    table: OnlineTable
    trace: DemandTrace
    resources: ResourceTrace | None
    epochs: tuple[tuple[int, Gains], ...]
    w_update: float

    def gains_at(self, t: int) -> Gains:
        starts = [s for s, _ in self.epochs]
        return self.epochs[int(np.searchsorted(starts, t, side="right")) - 1][1]


def prepare(instance: Instance, trace: DemandTrace, resources: ResourceTrace | None = None, table: OnlineTable | None = None) -> Setting:
    """Build the cost table (unless given) and the gains of every resource epoch."""
    table = table or build_table(instance)
    if tuple(trace.pairs) != table.pairs:
        col = {p: i for i, p in enumerate(trace.pairs)}
        counts = np.zeros((trace.n_slots, table.n_pairs), dtype=np.int64)
        for j, p in enumerate(table.pairs):
            if p in col:
                counts[:, j] = trace.counts[:, col[p]]
        trace = DemandTrace(table.pairs, counts, trace.name)
    net = instance.network
    speed = np.ones(len(instance.nodes))
    factor = np.ones(2 * len(net.links))
    epochs = [(0, Gains.from_costs(table, option_costs(table)))]
    events = list(resources.events) if resources else []
    for slot in sorted({e.slot for e in events}):
        for e in (e for e in events if e.slot == slot):
            if e.kind == "node":
                speed[instance.node[e.id].index] = e.factor
            else:
                u, v = e.id.split("->")
                factor[int(net.directions(np.array([net.pos[u]]), np.array([net.pos[v]]))[0])] = e.factor
        g = Gains.from_costs(table, option_costs(table, speed.copy(), factor.copy()))
        if slot == 0:
            epochs[0] = (0, g)
        else:
            epochs.append((slot, g))
    w = float(getattr(instance.spec.objective.weights, "update", 0.0))
    return Setting(table, trace, resources, tuple(epochs), w)


def static_cost(setting: Setting, x: np.ndarray, n_slots: int) -> float:
    """Total cost of keeping storage ``x`` over the first ``n_slots`` slots (fetched at slot 0)."""
    total = setting.w_update * float(setting.table.item_bytes @ x)
    for g, counts in _epochs(_env(setting), setting.trace.counts[:n_slots], 0):
        total += g.request_cost(x, counts)
    return total


def _env(setting: Setting, seed: int = 0, clairvoyant: bool = False, time_limit_s: float | None = None) -> Env:
    return Env(setting.table, setting.epochs[0][1], setting.trace.n_slots, setting.w_update, seed, time_limit_s, setting.trace if clairvoyant else None, setting.epochs)


def hindsight_costs(setting: Setting, checkpoints: list[int]) -> dict[int, float]:
    """Exact best static cost for each prefix length in ``checkpoints``."""
    env = _env(setting, clairvoyant=True)
    out = {}
    for t in sorted(set(checkpoints)):
        x = solve_static(env, _epochs(env, setting.trace.counts[:t], 0))
        out[t] = static_cost(setting, x, t)
    return out


def checkpoints_for(n_slots: int, points: int) -> list[int]:
    """About ``points`` prefix lengths from n_slots / points to n_slots."""
    if n_slots <= 0:
        return []
    return sorted({max(1, int(round(n_slots * (i + 1) / points))) for i in range(points)})


def typed_policy(setting: Setting, policy: str, options: dict | None, seed: int = 0):
    """The registry's check of an online method on this setting: ``(MethodInfo, typed options)``.

    :func:`solvers.registry.prepare` with ``kind="online"`` refuses static or
    Pareto methods, methods that cannot take the instance and unknown or
    mistyped options (MethodError, exit code 2).
    """
    from solvers.registry import prepare as prepare_method

    from .registry import get_policy

    get_policy(policy)  # loads the policies; says 'not an online policy' for another kind
    info, opts = prepare_method(setting.table.instance, policy, "online", None, 1e-4, None, seed, False, dict(options or {}))
    return info, opts.extra


def simulate(setting: Setting, policy: str, options: dict | None = None, seed: int = 0, progress: bool = False) -> tuple[list[OnlineSlot], dict, np.ndarray]:
    """Run one policy; returns the per-slot records, the policy's info and the per-slot costs."""
    info, opts = typed_policy(setting, policy, options, seed)
    table = setting.table
    env = _env(setting, seed, is_clairvoyant(info))
    groups = NodeGroups(table)
    t0 = time.perf_counter()
    try:
        pol = info.func(env, **opts)
    except ValueError as exc:
        from placement.errors import InputError

        raise InputError(f"--option: policy '{policy}': {exc}") from None
    init_s = time.perf_counter() - t0
    prev = np.zeros(table.n_items, dtype=bool)
    records = []
    costs = np.zeros(setting.trace.n_slots)
    bar = _bar(setting.trace.n_slots, policy) if progress else None
    for t in range(setting.trace.n_slots):
        t0 = time.perf_counter()
        x = np.array(pol.storage(t), dtype=bool)
        decide_s = time.perf_counter() - t0
        if not groups.feasible(x):
            raise SolverError(f"policy '{policy}' exceeded a node's memory in slot {t}")
        counts = setting.trace.counts[t]
        gains = setting.gains_at(t)
        added, evicted = x & ~prev, prev & ~x
        fetched = float(table.item_bytes @ added)
        req_cost = gains.request_cost(x, counts)
        upd_cost = setting.w_update * fetched
        t0 = time.perf_counter()
        pol.observe(t, counts, gains)
        learn_s = time.perf_counter() - t0
        costs[t] = req_cost + upd_cost
        records.append(OnlineSlot(
            slot=t, storage=_storage(table, x), cost=costs[t], request_cost=req_cost, update_cost=upd_cost,
            requests=int(counts.sum()), served_at_repository=gains.served_at_repository(x, counts),
            fetched_bytes=fetched, added=int(added.sum()), evicted=int(evicted.sum()),
            update_time_s=decide_s + learn_s + (init_s if t == 0 else 0.0),
        ))
        prev = x
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return records, {k: v for k, v in pol.info().items()}, costs


def _bar(total: int, label: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="slot", file=sys.stderr, leave=False, mininterval=0.5)


def _storage(table: OnlineTable, x: np.ndarray) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k in np.flatnonzero(x):
        out.setdefault(table.nodes[table.item_node[k]], []).append(table.model_ids[table.item_model[k]])
    return out


def summarize(records: list[OnlineSlot], costs: np.ndarray, hindsight: dict[int, float] | None) -> OnlineSummary:
    """Totals of a run, with regret against ``hindsight`` (prefix length -> best static cost)."""
    T = len(records)
    times = np.array([r.update_time_s for r in records]) if records else np.zeros(1)
    cum = np.cumsum(costs)
    curve = []
    for t, h in sorted((hindsight or {}).items()):
        c = float(cum[t - 1])
        curve.append(RegretPoint(t_slots=t, cost=c, hindsight_cost=h, regret=c - h, regret_per_slot=(c - h) / t))
    total = float(cum[-1]) if T else 0.0
    h_total = (hindsight or {}).get(T)
    return OnlineSummary(
        n_slots=T, total_cost=total,
        total_request_cost=float(sum(r.request_cost for r in records)), total_update_cost=float(sum(r.update_cost for r in records)),
        total_requests=int(sum(r.requests for r in records)), fetched_bytes=float(sum(r.fetched_bytes for r in records)),
        storage_changes=int(sum(r.added + r.evicted for r in records)),
        mean_update_time_s=float(times.mean()), max_update_time_s=float(times.max()),
        hindsight_total_cost=h_total,
        regret=None if h_total is None else total - h_total,
        regret_per_slot=None if h_total is None else (total - h_total) / T,
        ratio_to_hindsight=None if not h_total else total / h_total,
        regret_curve=curve,
    )


def run_online(setting: Setting, policy: str, options: dict | None = None, seed: int = 0, hindsight: dict[int, float] | None = None, progress: bool = False) -> OnlineRun:
    """Run ``policy`` on ``setting`` and return the typed result."""
    records, pinfo, costs = simulate(setting, policy, options, seed, progress)
    table = setting.table
    opts = typed_policy(setting, policy, options, seed)[1]
    return OnlineRun(
        instance=table.instance.name, trace=setting.trace.name,
        resources=setting.resources.name if setting.resources else None,
        policy=policy, options={k: v for k, v in opts.items() if v is not None}, seed=seed, w_update=setting.w_update, cost_source=table.latency_source,
        repository={p[0]: r for p, r in zip(table.pairs, table.repository)},
        policy_info={k: v for k, v in pinfo.items() if isinstance(v, (int, float, str))},
        slots=records, summary=summarize(records, costs, hindsight),
    )
