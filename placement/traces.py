"""Demand and resource traces of the online setting: reading, validation, writing.

A demand trace (CSV, header ``slot,origin,task,count``) gives, per time slot,
the number of requests of each (origin, task) pair; slots are numbered from 0
and appear in non-decreasing order; a pair must be named by the instance's
demand classes. A resource trace (CSV, header ``slot,kind,id,factor``) scales a
node's speed (``kind=node``, compute time divided by the factor) or one
direction of a link's bandwidth (``kind=link``, id ``u->v``, bandwidth
multiplied by the factor) from that slot on; factors are relative to the
instance's figures (1 restores them) and must be > 0.

Everything is validated here, at the edge: a bad row is reported with the file,
the row (1-based line number, header = line 1), the field and the problem, all
problems at once (:class:`~placement.errors.InputError`, exit code 2).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

import numpy as np

from .errors import InputError, Problem
from .fileio import atomic_write_text

DEMAND_HEADER = ("slot", "origin", "task", "count")
RESOURCE_HEADER = ("slot", "kind", "id", "factor")
_MAX_SHOWN = 50


@dataclass(frozen=True, eq=False)
class DemandTrace:
    """Request counts per slot and (origin, task) pair.

    Attributes
    ----------
    pairs : tuple of (str, str)
        The (origin, task) pairs, one column of ``counts`` each.
    counts : numpy.ndarray
        Integer array of shape ``(n_slots, len(pairs))``.
    name : str
        Where the trace came from (file name or generator description).
    """

    pairs: tuple[tuple[str, str], ...]
    counts: np.ndarray
    name: str = ""

    @property
    def n_slots(self) -> int:
        return int(self.counts.shape[0])

    @property
    def total_requests(self) -> int:
        return int(self.counts.sum())

    def head(self, n_slots: int) -> DemandTrace:
        """The first ``n_slots`` slots."""
        return DemandTrace(self.pairs, self.counts[:n_slots], self.name)


@dataclass(frozen=True)
class ResourceEvent:
    """From ``slot`` on, ``kind`` ('node' or 'link') ``id`` runs at ``factor`` x its nominal figure."""

    slot: int
    kind: str
    id: str
    factor: float


@dataclass(frozen=True)
class ResourceTrace:
    """Resource events in slot order (an empty trace changes nothing)."""

    events: tuple[ResourceEvent, ...] = ()
    name: str = ""

    def change_slots(self) -> list[int]:
        """Slots at which some factor changes, sorted."""
        return sorted({e.slot for e in self.events})


def _problem(file: str, line: int, field: str, message: str) -> Problem:
    return Problem(file, f"row {line - 1}" + (f".{field}" if field else ""), message, line)


def _rows(path: str | os.PathLike, header: tuple[str, ...]) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """Read a CSV file with a required header; returns (display name, [(line, row)])."""
    display = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InputError(Problem(display, "", "no such file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(display, "", f"cannot read: {exc}")) from None
    reader = csv.reader(io.StringIO(text))
    first = next(reader, None)
    got = tuple(c.strip() for c in first) if first else ()
    if got != header:
        shown = ",".join(got) if got else "nothing"
        raise InputError(Problem(display, "header", f"expected the header '{','.join(header)}' on line 1, got '{shown}'", 1))
    rows = []
    for cells in reader:
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rows.append((line, {"__bad__": f"expected {len(header)} fields ({','.join(header)}), got {len(cells)}"}))
            continue
        rows.append((line, {k: c.strip() for k, c in zip(header, cells)}))
    return display, rows


def _int_field(value: str) -> int | None:
    try:
        f = float(value)
    except ValueError:
        return None
    if not np.isfinite(f) or f != int(f):
        return None
    return int(f)


def _raise(problems: list[Problem]) -> None:
    if problems:
        if len(problems) > _MAX_SHOWN:
            extra = len(problems) - _MAX_SHOWN
            problems = problems[:_MAX_SHOWN] + [Problem(problems[0].file, "", f"... and {extra} more problems")]
        raise InputError(problems)


def read_demand_trace(path: str | os.PathLike, pairs: list[tuple[str, str]] | None = None, nodes: set[str] | None = None) -> DemandTrace:
    """Read and validate a demand trace.

    Parameters
    ----------
    path : path-like
        CSV file with header ``slot,origin,task,count``.
    pairs : list of (origin, task), optional
        The pairs the instance's demand classes name; any other pair is refused.
        The trace's columns follow this order (default: order of appearance).
    nodes : set of str, optional
        Node ids, to tell "unknown origin" from "pair not in the demand".

    Raises
    ------
    InputError
        Missing header, a slot that is not an integer >= 0 or goes back in
        time, a count that is not a non-negative integer, an unknown origin,
        task or pair; every bad row is named.
    """
    display, rows = _rows(path, DEMAND_HEADER)
    problems: list[Problem] = []
    known = {p: i for i, p in enumerate(pairs)} if pairs is not None else {}
    tasks = {t for _, t in pairs} if pairs is not None else None
    entries: list[tuple[int, int, int]] = []
    last_slot = 0
    for line, row in rows:
        slot = _row_slot(display, line, row, last_slot, problems)
        if slot is None:
            continue
        last_slot = slot
        count = _int_field(row["count"])
        if count is None or count < 0:
            problems.append(_problem(display, line, "count", f"must be a non-negative integer, got '{row['count']}'"))
            continue
        pair = (row["origin"], row["task"])
        if pair not in known:
            if pairs is not None:
                if nodes is not None and pair[0] not in nodes:
                    problems.append(_problem(display, line, "origin", f"unknown origin '{pair[0]}' (not a node of the instance)"))
                elif pair[1] not in tasks:  # type: ignore[operator]
                    problems.append(_problem(display, line, "task", f"unknown task '{pair[1]}' (no demand class asks for it)"))
                else:
                    problems.append(_problem(display, line, "origin", f"no demand class of the instance has origin '{pair[0]}' and task '{pair[1]}'"))
                continue
            known[pair] = len(known)
        entries.append((slot, known[pair], count))
    _raise(problems)
    order = sorted(known, key=known.get)  # type: ignore[arg-type]
    n_slots = (max(e[0] for e in entries) + 1) if entries else 0
    counts = np.zeros((n_slots, len(order)), dtype=np.int64)
    for slot, col, count in entries:
        counts[slot, col] += count
    return DemandTrace(tuple(order), counts, display)


def _row_slot(display: str, line: int, row: dict, last_slot: int, problems: list[Problem]) -> int | None:
    """The row's slot, or None after recording why the row is refused (malformed,
    not an integer >= 0, or earlier than the slot before it)."""
    if "__bad__" in row:
        problems.append(_problem(display, line, "", row["__bad__"]))
        return None
    slot = _int_field(row["slot"])
    if slot is None or slot < 0:
        problems.append(_problem(display, line, "slot", f"must be an integer >= 0, got '{row['slot']}'"))
        return None
    if slot < last_slot:
        problems.append(_problem(display, line, "slot", f"slots out of order: {slot} after {last_slot}"))
        return None
    return slot


def read_resource_trace(path: str | os.PathLike, nodes: set[str], link_directions: set[str]) -> ResourceTrace:
    """Read and validate a resource trace (see the module docstring).

    ``link_directions`` holds the accepted link ids, ``"u->v"`` for both
    directions of every link.
    """
    display, rows = _rows(path, RESOURCE_HEADER)
    problems: list[Problem] = []
    events = []
    last_slot = 0
    for line, row in rows:
        slot = _row_slot(display, line, row, last_slot, problems)
        if slot is None:
            continue
        last_slot = slot
        kind, ident = row["kind"], row["id"]
        if kind not in ("node", "link"):
            problems.append(_problem(display, line, "kind", f"must be 'node' or 'link', got '{kind}'"))
            continue
        if kind == "node" and ident not in nodes:
            problems.append(_problem(display, line, "id", f"unknown node '{ident}'"))
            continue
        if kind == "link" and ident not in link_directions:
            problems.append(_problem(display, line, "id", f"unknown link direction '{ident}' (expected 'u->v' for a link of the instance)"))
            continue
        try:
            factor = float(row["factor"])
        except ValueError:
            factor = float("nan")
        if not np.isfinite(factor) or factor <= 0:
            problems.append(_problem(display, line, "factor", f"must be a number > 0, got '{row['factor']}'"))
            continue
        events.append(ResourceEvent(slot, kind, ident, factor))
    _raise(problems)
    return ResourceTrace(tuple(events), display)


def demand_trace_csv(trace: DemandTrace) -> str:
    """The CSV text of a demand trace (zero counts left out, except one row per empty slot)."""
    out = io.StringIO()
    out.write(",".join(DEMAND_HEADER) + "\n")
    counts = trace.counts.copy()
    empty = ~counts.any(axis=1)
    marks = counts.astype(bool)
    marks[empty, 0] = True  # keeps empty slots (a trailing one sets the trace's length)
    slots, cols = np.nonzero(marks)
    for s, c in zip(slots.tolist(), cols.tolist()):
        o, t = trace.pairs[c]
        out.write(f"{s},{o},{t},{int(trace.counts[s, c])}\n")
    return out.getvalue()


def resource_trace_csv(trace: ResourceTrace) -> str:
    """The CSV text of a resource trace."""
    lines = [",".join(RESOURCE_HEADER)] + [f"{e.slot},{e.kind},{e.id},{e.factor:g}" for e in trace.events]
    return "\n".join(lines) + "\n"


def write_demand_trace(trace: DemandTrace, path: str | os.PathLike) -> None:
    """Write a demand trace atomically."""
    atomic_write_text(path, demand_trace_csv(trace))


def write_resource_trace(trace: ResourceTrace, path: str | os.PathLike) -> None:
    """Write a resource trace atomically."""
    atomic_write_text(path, resource_trace_csv(trace))
