"""Plans: what a method decided, how it got there, and the plan file format.

A plan says, for every demand class, its routes with shares, and which layers
each node stores. It also says honestly how it was obtained: ``status`` is
``optimal`` only with a proof (bound = objective), ``feasible`` for a solver
stopped at a limit with an incumbent (bound and gap given), and ``heuristic``
for methods that give no bound. Infeasible instances never produce a plan file.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .fileio import atomic_write_text, dump_json, parse_model, read_document
from .routes import Route, RouteError, Segment
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
    INTERRUPTED = "interrupted"
    OTHER = "other"  # a solver stop this project does not name (see the plan's notes)

    def __str__(self) -> str:
        return self.value


_PLAN = ConfigDict(extra="forbid", strict=False)
Share = Annotated[float, Field(allow_inf_nan=False)]


class PlanSegment(BaseModel):
    """What one node computes: a chain range ``layers`` or graph operators ``ops``.

    ``layers: [a, b]`` (inclusive, 0-based) is required for every model; a
    model with a graph may instead name the operators computed (``ops``), a
    set closed under predecessors together with the earlier segments (see
    :mod:`placement.graphroute`). A segment gives exactly one of the two, and
    a route's segments all give the same one.
    """

    model_config = _PLAN
    node: Ident
    layers: tuple[int, int] | None = None
    ops: list[str] | None = Field(default=None, description="Operator names of the model's graph computed here (instead of `layers`)")

    @model_validator(mode="after")
    def _layers_or_ops(self) -> PlanSegment:
        if (self.layers is None) == (self.ops is None):
            raise ValueError("give either 'layers' (a chain range) or 'ops' (graph operators), not both or neither")
        if self.ops is not None and not self.ops:
            raise ValueError("'ops' must not be empty")
        return self


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
        """The chain route; raises :class:`RouteError` for a graph route (segments with ``ops``)."""
        if any(s.layers is None for s in self.segments):
            raise RouteError(f"route of demand {self.demand} names graph operators (`ops`), not chain layers")
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
    wall_time_s: float | None = Field(default=None, description="Wall-clock seconds of the whole method run (every phase)")
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


@dataclass(frozen=True)
class Failure:
    """A run that produced no plan, as a result (see :func:`solvers.try_solve`).

    ``status`` is ``infeasible`` (no feasible plan exists, or a heuristic found
    none: ``reasons`` says why, with numbers) or ``error`` (the solver failed:
    ``message``). Never written as a plan file.
    """

    instance: str
    method: str
    status: str
    message: str
    reasons: list[str]
    wall_time_s: float

    def to_dict(self) -> dict:
        return asdict(self)


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
    for r in data["routes"]:  # a segment shows `layers` or `ops`, whichever it has
        r["segments"] = [{k: v for k, v in s.items() if v is not None} for s in r["segments"]]
    if data.get("metrics"):
        data["metrics"] = {k: v for k, v in data["metrics"].items() if v is not None}
    return dump_json(data)


__all__ = [
    "Failure",
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
