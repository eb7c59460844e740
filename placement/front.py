"""A Pareto front: feasible plans none of which dominates another, with their objective vectors.

``idnplan pareto`` writes one :class:`Front` as JSON; ``idnplan schema front``
prints its JSON Schema. Each point carries its objective values (name ->
value, the objective vector F of the design: ``latency`` = mean latency in
seconds, ``inaccuracy`` = mean (1 - accuracy), ``energy`` = mean joules per
request, ``network`` = bytes per second summed over every link direction) and
a full plan in the plan file format, which ``idnplan evaluate`` checks on its
own. Objective values are *estimated* figures of the cost model, like every
plan figure.
"""

from __future__ import annotations

import os

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .fileio import atomic_write_text, dump_json, parse_model, read_document
from .kernel import OBJECTIVES
from .plan import Plan


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FrontPoint(_Frozen):
    """One plan of a front with its objective values (units: see the module docstring)."""

    objectives: dict[str, float] = Field(description="objective name -> value, for the front's objectives")
    plan: Plan


class Front(_Frozen):
    """A set of mutually non-dominated feasible plans (all objectives minimised)."""

    instance: str
    method: str
    objectives: list[str] = Field(description=f"the objectives, a subset of {', '.join(OBJECTIVES)}, in order")
    points: list[FrontPoint]
    status: str = Field(default="heuristic", description="'exact' (the complete front, e.g. by epsilon-constraints) or 'heuristic'")
    hypervolume: float | None = None
    reference_point: list[float] | None = Field(default=None, description="the hypervolume's reference point, in `objectives` order")
    solve_time_s: float | None = None
    seed: int | None = None
    options: dict = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Front:
        unknown = [o for o in self.objectives if o not in OBJECTIVES]
        if unknown:
            raise ValueError(f"objectives: unknown {', '.join(unknown)} (known: {', '.join(OBJECTIVES)})")
        for i, p in enumerate(self.points):
            if sorted(p.objectives) != sorted(self.objectives):
                raise ValueError(f"points[{i}].objectives: must give exactly {', '.join(self.objectives)}")
        return self

    @property
    def F(self) -> np.ndarray:
        """The objective matrix: one row per point, one column per objective (in order)."""
        return np.array([[p.objectives[o] for o in self.objectives] for p in self.points], dtype=float).reshape(len(self.points), len(self.objectives))


def non_dominated(F: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Boolean mask of the rows of ``F`` (minimised) not dominated by another row.

    Row a dominates row b when a <= b in every column (within ``rtol``) and
    a < b in at least one; of identical rows the first is kept.
    """
    F = np.asarray(F, dtype=float)
    n = len(F)
    tol = rtol * np.maximum(np.abs(F).max(axis=0, initial=0.0), 1e-300)
    dominated = np.zeros(n, dtype=bool)
    step = max(1, 2_000_000 // max(1, n * max(1, F.shape[1] if F.ndim == 2 else 1)))
    for start in range(0, n, step):  # blocks of rows against all rows, vectorised
        block = F[start:start + step, None, :]
        le = np.all(F[None, :, :] <= block + tol, axis=2)
        lt = np.any(F[None, :, :] < block - tol, axis=2)
        dominated[start:start + step] = np.any(le & lt, axis=1)
    keep = ~dominated
    kept: list[int] = []
    for i in np.flatnonzero(keep):  # of rows equal within tol, the first one kept stays
        if kept and np.any(np.all(np.abs(F[kept] - F[i]) <= tol, axis=1)):
            keep[i] = False
        else:
            kept.append(int(i))
    return keep


def read_front(path: str | os.PathLike) -> Front:
    """Read and validate a front file; raises :class:`InputError` naming field problems."""
    data, lines = read_document(path, display=str(path))
    front = parse_model(Front, data, str(path), lines)
    assert isinstance(front, Front)
    return front


def write_front(front: Front, path: str | os.PathLike) -> None:
    """Write a front as JSON, atomically."""
    atomic_write_text(path, dump_json(front.model_dump(mode="json", exclude_none=False)))


__all__ = ["Front", "FrontPoint", "non_dominated", "read_front", "write_front"]
