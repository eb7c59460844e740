"""Tables from a results database: mean +- 95 % CI over seeds and repeats, best marked.

A table (declared in the suite under ``tables:``) has one row per group of
runs (``rows``, by default the instance entry), one column per method, and in
each cell the mean of ``value`` over the runs that produced a plan, with the
half-width of its 95 % confidence interval (Student t, n - 1 degrees of
freedom; none for a single run). The best mean of each row is marked: bold in
Markdown and LaTeX, ``best=1`` in CSV. A cell with no plan shows the statuses
of its runs instead (e.g. ``timeout x3``).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from placement.errors import InputError, Problem

from .suite import SuiteSpec, TableSpec, parse_suite_text
from .worker import SOLVED

FORMATS = ("markdown", "latex", "csv")
#: Values that are measured while running (the rest are computed from the instance).
MEASURED = ("load_s", "build_s", "solve_s", "method_s", "wall_s", "peak_memory_bytes", "update_time_s")
#: Values of online runs computed by the online runner (bench.online).
ONLINE = ("total_cost", "regret", "regret_per_slot", "ratio_to_hindsight", "fetched_bytes")
#: Values of Pareto runs (bench.pareto).
PARETO = ("hypervolume", "common_hypervolume", "front_points")
#: Values of profiler runs (bench.profile).
PROFILE = ("macs", "published_macs", "macs_error_pct")


@dataclass
class Cell:
    """One (row, method) cell: the values over seeds and repeats, and the statuses of its runs."""

    values: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    best: bool = False

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def ci95(self) -> float | None:
        """Half-width of the 95 % confidence interval of the mean (Student t); None below 2 values."""
        if len(self.values) < 2:
            return None
        from scipy.stats import t

        return float(t.ppf(0.975, len(self.values) - 1) * statistics.stdev(self.values) / math.sqrt(len(self.values)))

    def failed(self) -> str:
        return ", ".join(f"{s} x{c}" if c > 1 else s for s, c in sorted(self.statuses.items()) if s not in SOLVED) or "-"


@dataclass
class Table:
    """A computed table: its spec, row keys, method columns and cells."""

    spec: TableSpec
    suite: str
    keys: list[tuple]
    methods: list[str]
    cells: dict[tuple, dict[str, Cell]]
    hosts: list[str]

    def ratio(self, key: tuple, method: str) -> float | None:
        ref = self.cells[key].get(self.spec.reference or "")
        cell = self.cells[key].get(method)
        if ref is None or cell is None or ref.mean in (None, 0) or cell.mean is None:
            return None
        return cell.mean / ref.mean

    @property
    def ratio_methods(self) -> list[str]:
        return [m for m in self.methods if self.spec.reference and m != self.spec.reference]

    def caption(self) -> str:
        t = self.spec
        unit = f" ({t.unit})" if t.unit else ""
        if t.value in MEASURED:
            kind = "measured on the hosts below"
        elif t.value in PARETO:
            kind = ("Pareto fronts of estimated objectives; common_hypervolume against one reference point per instance and "
                    "objective set (nadir of all its stored fronts + 10 % of the range)") if t.value != "front_points" else "points on the front"
        elif t.value in PROFILE:
            kind = "MACs counted by each profiler on torchvision models built with weights=None, against the published figure (weight metadata)"
        elif t.value in ONLINE:
            kind = "online runs' costs in objective units, estimated from the instance's figures, against the exact hindsight"
        else:
            kind = "computed by the evaluator from the instance's (profiled or estimated) figures"
        return (f"{t.title or t.name}: {t.value}{unit}, {kind}; mean ± 95 % CI over seeds and repeats; "
                f"best of each row marked; suite '{self.suite}', hosts: {', '.join(self.hosts) or '-'}")


def find_tables(suites: dict[str, str], name: str | None, suite: str | None) -> list[tuple[str, TableSpec]]:
    """The tables named ``name`` (all when None) of the stored suites (only ``suite`` when given)."""
    found = []
    for sname, text in suites.items():
        if suite and sname != suite:
            continue
        spec: SuiteSpec = parse_suite_text(text, sname)
        tables = spec.tables or [TableSpec(name=f"{sname}", title=f"{sname}: objective J", value="objective")]
        found.extend((sname, t) for t in tables if name is None or t.name == name)
    if not found:
        known = [f"{s}:{t.name}" for s, text in suites.items() for t in (parse_suite_text(text, s).tables or [TableSpec(name=s)])]
        what = f"no table '{name}'" if name else "no tables"
        raise InputError(Problem(None, "--table", f"{what} in this database; tables: {', '.join(known) or 'none (no suite has run)'}"))
    return found


def compute(rows: list[dict], spec: TableSpec, suite: str, method_order: list[str]) -> Table:
    """Group ``rows`` (one suite's runs) into the cells of table ``spec``."""
    cells: dict[tuple, dict[str, Cell]] = defaultdict(dict)
    keys: list[tuple] = []
    for r in rows:
        key = tuple(r[f] for f in spec.rows)
        if key not in cells:
            keys.append(key)
        cell = cells[key].setdefault(r["method_label"], Cell())
        cell.statuses[r["status"]] += 1
        if r["status"] in SOLVED and r.get(spec.value) is not None:
            cell.values.append(float(r[spec.value]) * spec.scale)
    present = {m for c in cells.values() for m in c}
    if spec.methods:
        methods = [m for m in spec.methods if m in present]
    else:
        methods = [m for m in method_order if m in present] + sorted(present - set(method_order))
    for key in keys:
        means = [(c.mean, m) for m, c in cells[key].items() if c.mean is not None and m in methods]
        if means:
            pick = min if spec.better == "lower" else max
            best = pick(x for x, _ in means)
            for x, m in means:
                cells[key][m].best = math.isclose(x, best, rel_tol=1e-9, abs_tol=1e-15)
    hosts = sorted({r["host"] for r in rows if r.get("host")})
    return Table(spec, suite, keys, methods, dict(cells), hosts)


def _num(x: float, digits: int) -> str:
    return f"{x:.{digits}f}" if 1e-3 <= abs(x) < 1e6 or x == 0 else f"{x:.{digits}g}"


def _text(cell: Cell | None, digits: int, latex: bool) -> str:
    if cell is None:
        return "-"
    if cell.mean is None:
        return cell.failed()
    body = _num(cell.mean, digits)
    if cell.ci95 is not None:
        body += (r" \pm " if latex else " ± ") + _num(cell.ci95, digits)
    if latex:
        return f"$\\mathbf{{{body}}}$" if cell.best else f"${body}$"
    return f"**{body}**" if cell.best else body


def _grid(table: Table, latex: bool) -> tuple[list[str], list[list[str]]]:
    spec = table.spec
    head = list(spec.rows) + table.methods + [f"{m} / {spec.reference}" for m in table.ratio_methods]
    body = []
    for key in table.keys:
        row = [str(k) for k in key] + [_text(table.cells[key].get(m), spec.digits, latex) for m in table.methods]
        for m in table.ratio_methods:
            x = table.ratio(key, m)
            row.append("-" if x is None else f"{x:.2f}x")
        body.append(row)
    return head, body


def markdown(table: Table) -> str:
    head, body = _grid(table, latex=False)
    lines = [f"*{table.caption()}*", "", "| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines) + "\n"


def _tex_escape(text: str) -> str:
    out = text
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"), ("±", r"$\pm$")):
        out = out.replace(a, b)
    return out


def latex(table: Table) -> str:
    head, body = _grid(table, latex=True)
    cols = "l" * len(table.spec.rows) + "r" * (len(head) - len(table.spec.rows))
    lines = [r"\begin{table}[t]", r"\centering", f"\\caption{{{_tex_escape(table.caption())}}}", f"\\begin{{tabular}}{{{cols}}}", r"\toprule",
             " & ".join(_tex_escape(h) for h in head) + r" \\", r"\midrule"]
    for r in body:
        n = len(table.spec.rows)
        lines.append(" & ".join([_tex_escape(x) for x in r[:n]] + [x if x.startswith("$") else _tex_escape(x) for x in r[n:]]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def csv_text(table: Table) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["table", *table.spec.rows, "method", "value", "n", "mean", "ci95_half_width", "best", "statuses"])
    for key in table.keys:
        for m in table.methods:
            c = table.cells[key].get(m)
            if c is None:
                continue
            w.writerow([table.spec.name, *key, m, table.spec.value, c.n, "" if c.mean is None else repr(c.mean),
                        "" if c.ci95 is None else repr(c.ci95), int(c.best), ";".join(f"{s}={k}" for s, k in sorted(c.statuses.items()))])
    return buf.getvalue()


def render(table: Table, fmt: str) -> str:
    return {"markdown": markdown, "latex": latex, "csv": csv_text}[fmt](table)


def suite_rows(store, suite: str) -> list[dict]:
    """A suite's stored runs, with the values computed at report time (Pareto: ``common_hypervolume``)."""
    rows = store.rows(suite)
    if any(r.get("kind") == "pareto" for r in rows):
        from .pareto import add_common_hypervolume

        rows = add_common_hypervolume(rows, store.files)
    return rows


def report(store, name: str | None = None, suite: str | None = None, fmt: str = "markdown") -> str:
    """Every requested table of the database, rendered in ``fmt``."""
    out = []
    for sname, spec in find_tables(store.suites(), name, suite):
        sspec = parse_suite_text(store.suites()[sname], sname)
        order = [m.name for m in sspec.methods]
        out.append(render(compute(suite_rows(store, sname), spec, sname, order), fmt))
    return "\n".join(out)
