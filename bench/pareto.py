"""Pareto suites (``kind: pareto``): fronts as runs, hypervolumes against a common reference, the front figure.

A Pareto suite names instances, ``objectives`` (each entry a set of
objectives, e.g. ``latency,energy``) and methods of kind ``pareto``
(``idnplan methods``). A run = instance x objectives x method x seed x
repeat; the worker computes the front (:func:`solvers.pareto.pareto`) and
returns one row: ``hypervolume`` and ``reference_point`` as the method
reports them (the reference point is the method's own front's nadir + 10 % of
its range, so these are not comparable across methods), ``front_points``,
``method_s`` (measured) and the front JSON, which the sweep stores beside the
database by its SHA-256 (``RESULTS.sqlite.files/fronts/<sha256>.json``,
the ``idnplan pareto -o`` format).

Reports add ``common_hypervolume``: every front of one (instance,
objectives) measured against one reference point, the nadir of all stored
fronts of that pair + 10 % of their range (as ``idnplan pareto --compare``
does), so methods compare; a table with ``reference: epsilon`` then shows
each method's hypervolume over epsilon's.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections import defaultdict
from pathlib import Path

from placement.errors import InputError, Problem

from .worker import SOLVED


def parse_objectives(entry: str | list[str]) -> list[str]:
    """``"latency,energy"`` or ``[latency, energy]`` -> the list of names (no check)."""
    names = entry.split(",") if isinstance(entry, str) else list(entry)
    return [n.strip() for n in names if n.strip()]


def execute_pareto(desc: dict) -> dict:
    """One Pareto run (the worker's ``_solve`` for ``kind: pareto``): a row of plain data."""
    from placement.instance import Instance
    from placement.schema import InstanceSpec
    from solvers.pareto import pareto

    t = time.perf_counter()
    inst = Instance.from_spec(InstanceSpec.model_validate_json(desc["instance_json"]), None, desc["instance_label"])
    out: dict = {"load_s": time.perf_counter() - t}
    t = time.perf_counter()
    front = pareto(inst, desc["method"], desc["objectives"].split(","), seed=desc["seed"], **desc["options"])
    out["method_s"] = time.perf_counter() - t
    status = "optimal" if front.status == "exact" else "heuristic"
    if not front.points:
        status = "infeasible"
    out.update(
        status=status, message="; ".join(front.notes) or None, hypervolume=front.hypervolume,
        reference_point=front.reference_point, front_points=len(front.points), solve_s=front.solve_time_s,
        front_json=front.model_dump_json(),
    )
    return out


def _front_matrix(files: Path, sha: str) -> tuple[list[str], list[list[float]]]:
    path = files / "fronts" / f"{sha}.json"
    if not path.is_file():
        raise InputError(Problem(str(path), "", "front file missing beside the database"))
    data = json.loads(path.read_text(encoding="utf-8"))
    objs = data["objectives"]
    return objs, [[p["objectives"][o] for o in objs] for p in data["points"]]


def add_common_hypervolume(rows: list[dict], files: Path) -> list[dict]:
    """``rows`` with ``common_hypervolume`` (and ``common_reference_point``) on every Pareto row with a front.

    One reference point per (instance, objectives): the nadir of every stored
    front of that pair + 10 % of the range (``solvers.pareto.common.reference_point``).
    """
    import numpy as np

    from solvers.pareto.common import hypervolume, reference_point

    groups: dict = defaultdict(list)
    for r in rows:
        if r.get("kind") == "pareto" and r.get("front_sha256") and r["status"] in SOLVED:
            groups[(r["instance_sha256"], r["objectives"])].append(r)
    out = {id(r): r for r in rows}
    for members in groups.values():
        fronts = [np.asarray(_front_matrix(files, r["front_sha256"])[1], dtype=float) for r in members]
        nonempty = [f for f in fronts if len(f)]
        if not nonempty:
            continue
        ref = reference_point(*nonempty)
        for r, F in zip(members, fronts):
            out[id(r)] = {**r, "common_hypervolume": hypervolume(F, ref) if len(F) else 0.0,
                          "common_reference_point": json.dumps([float(x) for x in ref])}
    return [out[id(r)] for r in rows]


def front_figure(ax, rows: list[dict], fig, order: list[str], files: Path) -> None:
    """The fronts of one (instance, objectives) pair, first two objectives, one series per method (seed 0's run).

    ``instances`` and ``methods`` of the figure select by label pattern; the
    first matching instance and objective set is drawn.
    """

    def wanted(value: str, patterns: list[str] | None) -> bool:
        return patterns is None or any(fnmatch.fnmatchcase(value, p) for p in patterns)

    runs = [r for r in rows if r.get("kind") == "pareto" and r.get("front_sha256") and r["status"] in SOLVED
            and wanted(r["instance"], fig.instances) and wanted(r["method_label"], fig.methods)]
    if not runs:
        raise InputError(Problem(None, f"figures.{fig.name}", "no Pareto runs with fronts in this database match this figure"))
    first = runs[0]
    pick = [r for r in runs if r["instance"] == first["instance"] and r["objectives"] == first["objectives"]]
    chosen: dict[str, dict] = {}
    for r in sorted(pick, key=lambda r: (r["seed"], r["repeat"])):
        chosen.setdefault(r["method_label"], r)
    objs: list[str] = []
    for method in sorted(chosen, key=lambda m: order.index(m) if m in order else len(order)):
        objs, F = _front_matrix(files, chosen[method]["front_sha256"])
        pts = sorted((p[0], p[1] if len(p) > 1 else 0.0) for p in F)
        # the attainment boundary: a step through the points (the region each front dominates lies above and right)
        ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", marker="o", markersize=3, label=f"{method} ({len(pts)} points)")
    units = {"latency": "mean latency (s)", "inaccuracy": "mean inaccuracy", "energy": "mean energy per request (J)", "network": "network (bytes/s)"}
    ax.set_xlabel(units.get(objs[0], objs[0]) + ", estimated")
    if len(objs) > 1:
        ax.set_ylabel(units.get(objs[1], objs[1]) + ", estimated")
    ax.legend(fontsize="small", title=f"{first['instance']}: {first['objectives']}")
