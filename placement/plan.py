"""Plans: what a method decided, how it got there, and the plan file format.

A plan says, for every demand class, its routes with shares, and which layers
each node stores. It also says honestly how it was obtained: ``status`` is
``optimal`` only with a proof (bound = objective), ``feasible`` for a solver
stopped at a limit with an incumbent (bound and gap given), and ``heuristic``
for methods that give no bound. Infeasible instances never produce a plan file.
"""

from __future__ import annotations

import os
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .fileio import atomic_write_text, dump_json, parse_model, read_document
from .routes import Route, Segment
from .schema import Ident


class PlanStatus(str, Enum):
    """Whether a plan is proven optimal, a solver's incumbent, or a heuristic's answer."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    HEURISTIC = "heuristic"

    def __str__(self) -> str:
        return self.value


class Termination(str, Enum):
    """Why the method stopped."""

    OPTIMAL = "optimal"
    GAP_LIMIT = "gap_limit"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    COMPLETED = "completed"  # a heuristic or exact algorithm that ran to its end

    def __str__(self) -> str:
        return self.value


_PLAN = ConfigDict(extra="forbid", strict=False)
Share = Annotated[float, Field(allow_inf_nan=False)]


class PlanSegment(BaseModel):
    model_config = _PLAN
    node: Ident
    layers: tuple[int, int]


class PlanRoute(BaseModel):
    model_config = _PLAN
    demand: int
    model: Ident
    share: Share
    segments: list[PlanSegment]
    latency_s: float | None = None
    energy_j: float | None = None
    latency_source: str | None = Field(
        default=None,
        description="'estimated' (from profiles and the link model) unless every figure was measured",
    )

    def to_route(self) -> Route:
        return Route(
            self.demand,
            self.model,
            tuple(Segment(s.node, s.layers[0], s.layers[1]) for s in self.segments),
        )


class PlanMetrics(BaseModel):
    model_config = _PLAN
    mean_latency_s: float
    mean_inaccuracy: float
    mean_energy_j: float
    network_bytes_per_s: float
    max_node_utilization: float
    max_link_utilization: float | None = None
    total_rate_rps: float | None = None


class Plan(BaseModel):
    """A plan file (JSON). See DESIGN.md, "Plan file"."""

    model_config = _PLAN
    instance: Ident
    method: Ident
    status: PlanStatus
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    solve_time_s: float | None = None
    build_time_s: float | None = None
    termination: Termination | None = None
    seed: int | None = None
    options: dict = Field(default_factory=dict, description="Method options used")
    storage: dict[Ident, dict[Ident, list[tuple[int, int]]]]
    routes: list[PlanRoute]
    metrics: PlanMetrics | None = None
    stats: dict = Field(default_factory=dict, description="Method statistics (model size, iterations, times)")
    notes: list[str] = Field(default_factory=list)

    @field_validator("storage")
    @classmethod
    def _ranges_ordered(cls, v: dict) -> dict:
        for node, models in v.items():
            for model, ranges in models.items():
                for a, b in ranges:
                    if a < 0 or b < a:
                        raise ValueError(f"storage.{node}.{model}: range [{a}, {b}] is not a valid inclusive layer range")
        return v


def storage_from_routes(routes: list[Route]) -> dict[str, dict[str, list[tuple[int, int]]]]:
    """The smallest storage that holds every layer the routes compute, as merged ranges."""
    held: dict[str, dict[str, set[int]]] = {}
    for route in routes:
        for seg in route.segments:
            held.setdefault(seg.node, {}).setdefault(route.model, set()).update(range(seg.first, seg.last + 1))
    return {
        node: {model: ranges_of(layers) for model, layers in sorted(models.items())}
        for node, models in sorted(held.items())
    }


def ranges_of(layers: set[int] | list[int]) -> list[tuple[int, int]]:
    """Merge layer indices into sorted inclusive ranges: {0,1,2,5} -> [(0,2),(5,5)]."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(layers)):
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def read_plan(path: str | os.PathLike) -> Plan:
    """Read and validate a plan file; raises :class:`InputError` naming field problems."""
    data, lines = read_document(path, display=str(path))
    plan = parse_model(Plan, data, str(path), lines)
    assert isinstance(plan, Plan)
    return plan


def write_plan(plan: Plan, path: str | os.PathLike) -> None:
    """Write a plan as JSON, atomically (never a half-written file)."""
    atomic_write_text(path, plan_json(plan))


def plan_json(plan: Plan) -> str:
    """The plan as JSON text; unknown figures are left out, except objective,
    bound and gap, which are always present (null when unknown)."""
    data = plan.model_dump(mode="json")
    keep = {"objective", "bound", "gap"}
    data = {k: v for k, v in data.items() if v is not None or k in keep}
    data["routes"] = [{k: v for k, v in r.items() if v is not None} for r in data["routes"]]
    if data.get("metrics"):
        data["metrics"] = {k: v for k, v in data["metrics"].items() if v is not None}
    return dump_json(data)


__all__ = [
    "Plan",
    "PlanMetrics",
    "PlanRoute",
    "PlanSegment",
    "PlanStatus",
    "Termination",
    "plan_json",
    "ranges_of",
    "read_plan",
    "storage_from_routes",
    "write_plan",
]
