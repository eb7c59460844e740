"""Timing helpers shared by the harness and the scripts in ``benchmarks/``.

Times are wall-clock (``time.perf_counter``) and measured; a figure reported
from several runs is the median with its min and max.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Wall-clock times of repeated calls, in seconds."""

    times_s: tuple[float, ...]

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def min_s(self) -> float:
        return min(self.times_s)

    @property
    def max_s(self) -> float:
        return max(self.times_s)

    def text(self, scale: float = 1.0, digits: int = 2) -> str:
        """``median [min-max]`` scaled (e.g. ``scale=1e3`` for ms)."""
        return f"{self.median_s * scale:.{digits}f} [{self.min_s * scale:.{digits}f}-{self.max_s * scale:.{digits}f}]"


def time_calls(fn: Callable[[], Any], repeats: int = 1, warmup: int = 0, before: Callable[[], Any] | None = None) -> tuple[Timing, Any]:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed; returns the timing and the last result.

    ``before`` runs untimed before every call (e.g. to clear a cache).
    """
    result = None
    for _ in range(warmup):
        if before:
            before()
        result = fn()
    times = []
    for _ in range(repeats):
        if before:
            before()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return Timing(tuple(times)), result


def median_run(runs: list[dict], key: str = "wall_s") -> dict:
    """The run with the median ``key`` (lower median), plus ``runs``, ``<key>_min``/``_max`` style fields."""
    ordered = sorted(runs, key=lambda r: r[key])
    out = dict(ordered[(len(ordered) - 1) // 2])
    stem = key[:-2] if key.endswith("_s") else key
    out.update(runs=len(ordered), **{f"{stem}_min_s": ordered[0][key], f"{stem}_max_s": ordered[-1][key]})
    return out
