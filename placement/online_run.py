"""The result of an online run: per-slot records and a summary (JSON file format).

``idnplan online`` writes one :class:`OnlineRun` as JSON; ``idnplan schema
online-run`` prints its JSON Schema. Costs are in the objective's units
(``w_latency`` x seconds + ``w_inaccuracy`` x (1 - accuracy) + ``w_energy`` x
joules per request, plus ``w_update`` x bytes fetched); they are *estimated*
from the instance's figures (``cost_source`` says whether the compute times
behind them were measured or estimated).
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict

from .fileio import atomic_write_text


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OnlineSlot(_Frozen):
    """One slot: what was stored, what it cost, what moved."""

    slot: int
    storage: dict[str, list[str]]  # node id -> model ids held during the slot (repositories left out)
    cost: float  # request_cost + update_cost
    request_cost: float
    update_cost: float
    requests: int
    served_at_repository: int  # requests no stored model improved on
    fetched_bytes: float  # parameter bytes newly stored for this slot
    added: int  # items (node, model) newly stored
    evicted: int  # items dropped
    update_time_s: float  # measured: the policy's decision + learning time for this slot


class RegretPoint(_Frozen):
    """Regret after the first ``t_slots`` slots against the best static storage for those slots."""

    t_slots: int
    cost: float
    hindsight_cost: float
    regret: float
    regret_per_slot: float


class OnlineSummary(_Frozen):
    """Totals of a run; regret figures are null when hindsight was not computed."""

    n_slots: int
    total_cost: float
    total_request_cost: float
    total_update_cost: float
    total_requests: int
    fetched_bytes: float
    storage_changes: int  # items added + evicted over the run
    mean_update_time_s: float
    max_update_time_s: float
    hindsight_total_cost: float | None = None
    regret: float | None = None
    regret_per_slot: float | None = None
    ratio_to_hindsight: float | None = None
    regret_curve: list[RegretPoint] = []


class OnlineRun(_Frozen):
    """An online run: setting, policy, per-slot records and summary."""

    kind: str = "online-run"
    instance: str
    trace: str
    resources: str | None = None
    policy: str
    options: dict[str, float | int | str | bool]
    seed: int
    w_update: float
    cost_source: str  # 'estimated', 'measured' or 'mixed': origin of the compute times behind the costs
    repository: dict[str, str]  # origin -> its repository node
    policy_info: dict[str, float | int | str] = {}
    slots: list[OnlineSlot]
    summary: OnlineSummary


def write_online_run(run: OnlineRun, path: str | os.PathLike) -> None:
    """Write a run as JSON, atomically."""
    atomic_write_text(path, run.model_dump_json(indent=1) + "\n")


def read_online_run(path: str | os.PathLike) -> OnlineRun:
    """Read a run written by :func:`write_online_run`."""
    with open(path, encoding="utf-8") as fh:
        return OnlineRun.model_validate_json(fh.read())


def slots_csv(run: OnlineRun) -> str:
    """Per-slot figures as CSV (storage as the number of items held)."""
    head = "slot,cost,request_cost,update_cost,requests,served_at_repository,fetched_bytes,added,evicted,items_stored,update_time_s"
    lines = [head]
    for s in run.slots:
        n = sum(len(v) for v in s.storage.values())
        lines.append(f"{s.slot},{s.cost:.9g},{s.request_cost:.9g},{s.update_cost:.9g},{s.requests},{s.served_at_repository},{s.fetched_bytes:.0f},{s.added},{s.evicted},{n},{s.update_time_s:.6g}")
    return "\n".join(lines) + "\n"
