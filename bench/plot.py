"""Standard figures from a results database (matplotlib, imported only here).

- ``time-vs-size``: a value (default ``wall_s``, measured) against instance
  size (nodes, classes or layers), log-log, one line per method with the
  fitted slope of log(value) on log(size) in the legend;
- ``gains``: bars of each method's mean ``value`` over the reference method's,
  per instance entry (the split-computing gain table as a figure);
- ``regret``: regret per slot against t for online suites (from the stored
  online-run files; :func:`bench.online.regret_figure`);
- ``front``: the fronts of one instance and objective set of a Pareto suite,
  one series per method (from the stored front files; :func:`bench.pareto.front_figure`);
- ``bars``: a value's mean per instance entry, one bar per method (e.g. the
  profilers' MAC error against the published figures).
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from placement.errors import InputError, MissingDependencyError, Problem

from .suite import FigureSpec, parse_suite_text
from .worker import SOLVED


def fitted_slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) on log(x); None with fewer than two distinct positive x."""
    pts = [(x, y) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    lx, ly = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(lx, ly, 1)[0])


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise MissingDependencyError("matplotlib", "idnplan bench plot", "bench") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _means(rows: list[dict], key, value: str) -> dict:
    groups: dict = defaultdict(list)
    for r in rows:
        if r["status"] in SOLVED and r.get(value) is not None:
            groups[key(r)].append(float(r[value]))
    return {k: statistics.fmean(v) for k, v in groups.items()}


def time_vs_size(ax, rows: list[dict], fig: FigureSpec, order: list[str]) -> None:
    means = _means(rows, lambda r: (r["method_label"], r["instance"], r[fig.x]), fig.value)
    for method in fig.methods or order:
        pts = sorted((size, y) for (m, _i, size), y in means.items() if m == method)
        if not pts:
            continue
        slope = fitted_slope([p[0] for p in pts], [p[1] for p in pts])
        label = method + ("" if slope is None else f" (slope {slope:.2f})")
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"instance size: {fig.x}")
    ax.set_ylabel(f"{fig.value} (mean over seeds and repeats; measured)" if fig.value.endswith("_s") else fig.value)
    ax.legend()


def gains(ax, rows: list[dict], fig: FigureSpec, order: list[str]) -> None:
    if fig.reference is None:
        raise InputError(Problem(None, f"figures.{fig.name}.reference", "a 'gains' figure needs 'reference' (the method the others are divided by)"))
    means = _means(rows, lambda r: (r["method_label"], r["instance_group"]), fig.value)
    groups = list(dict.fromkeys(r["instance_group"] for r in rows))
    others = [m for m in (fig.methods or order) if m != fig.reference]
    width = 0.8 / max(1, len(others))
    for j, m in enumerate(others):
        ys = [means.get((m, g), math.nan) / means.get((fig.reference, g), math.nan) for g in groups]
        ax.bar(np.arange(len(groups)) + j * width, ys, width, label=m)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(np.arange(len(groups)) + width * (len(others) - 1) / 2, groups)
    ax.set_ylabel(f"{fig.value} / {fig.reference} (x)")
    ax.legend()


def bars(ax, rows: list[dict], fig: FigureSpec, order: list[str]) -> None:
    means = _means(rows, lambda r: (r["method_label"], r["instance_group"]), fig.value)
    groups = list(dict.fromkeys(r["instance_group"] for r in rows))
    methods = [m for m in (fig.methods or order) if any(k[0] == m for k in means)]
    width = 0.8 / max(1, len(methods))
    for j, m in enumerate(methods):
        ax.bar(np.arange(len(groups)) + j * width, [means.get((m, g), math.nan) for g in groups], width, label=m)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(np.arange(len(groups)) + width * (len(methods) - 1) / 2, groups, rotation=30, ha="right")
    ax.set_ylabel(fig.value)
    ax.legend()


KINDS = {"time-vs-size": time_vs_size, "gains": gains, "regret": None, "front": None, "bars": bars}


def plot_all(store, name: str | None, suite: str | None, out: str | None, out_dir: str) -> list[str]:
    """Draw the requested figures; returns the files written."""
    todo = []
    for sname, text in store.suites().items():
        if suite and sname != suite:
            continue
        spec = parse_suite_text(text, sname)
        todo.extend((sname, spec, f) for f in spec.figures if name is None or f.name == name)
    if not todo:
        raise InputError(Problem(None, "--figure", f"no figure {'named ' + repr(name) + ' ' if name else ''}in this database's suites"))
    if out and len(todo) > 1:
        raise InputError(Problem(None, "--out", f"{len(todo)} figures match; name one with --figure, or use --out-dir"))
    plt = _pyplot()
    written = []
    for sname, spec, fig in todo:
        figure, ax = plt.subplots(figsize=(6, 4))
        if fig.kind == "regret":
            from .online import regret_figure

            regret_figure(ax, store.rows(sname), fig, [m.name for m in spec.methods], store.files)
        elif fig.kind == "front":
            from .pareto import front_figure

            front_figure(ax, store.rows(sname), fig, [m.name for m in spec.methods], store.files)
        else:
            KINDS[fig.kind](ax, store.rows(sname), fig, [m.name for m in spec.methods])
        ax.set_title(f"{sname}: {fig.name}")
        target = Path(out) if out else Path(out_dir) / f"{fig.name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=target.suffix or ".png", dir=target.parent)
        os.close(fd)
        figure.savefig(tmp, dpi=150, bbox_inches="tight")
        plt.close(figure)
        os.replace(tmp, target)
        written.append(str(target))
    return written
