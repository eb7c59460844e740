"""The route-based master model, assembled directly for HiGHS.

Variables: ``y[rho]`` is the share of route ``rho`` of its demand class
(continuous in [0, 1], binary when routing is unsplittable); ``x[v, m, l]``
says node ``v`` stores layer ``l`` of model ``m`` (binary). Rows:

- ``conv[r]``: sum of the shares of class r = 1;
- ``comp[v]``: sum over routes of rate x share x compute seconds at v <= max_utilization;
- ``link[d]``: sum of rate x share x bytes sent over link direction d <= max_utilization x bandwidth;
- ``store[r, v, m, l]``: sum of the shares of class r's routes computing layer l of
  m at v <= x[v, m, l] (one row per class: the strong, disaggregated linking);
- ``mem[v]``: sum of parameter bytes of stored layers <= memory_bytes(v).

Storage variables and rows exist only for nodes whose memory could ever bind
(finite and smaller than all model parameters together); elsewhere storing is
free and the plan simply stores what its routes compute. SLO, accuracy floor
and per-segment memory fit are enforced by which routes exist.

Columns (routes), storage variables and linking rows are added incrementally,
so the same object serves full enumeration, column generation and
branch-and-price. The matrix is passed to HiGHS in CSC/CSR blocks, without
per-term Python model objects.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np

from placement.instance import Instance
from placement.routes import Route

from .candidates import Prices
from .columns import Column, storage_nodes

INF = highspy.kHighsInf
_INT = highspy.HighsVarType.kInteger
_CONT = highspy.HighsVarType.kContinuous
def artificial_costs(instance: Instance) -> np.ndarray:
    """Per class: a per-request cost above that of any route meeting the class's SLO.

    A route meeting the SLO costs at most w_latency x SLO + w_inaccuracy +
    w_energy x (SLO x the largest active power + every byte a model can move x
    the largest energy per byte of any path). Ten times that keeps the
    artificial "unserved" columns out of every solution that can avoid them,
    without the huge costs that hurt the solver's numerics.
    """
    p_max = max(d.active_power_w for d in instance.devices.values())
    epb_path = sum(sorted((l.energy_j_per_byte for l in instance.links), reverse=True)[: len(instance.nodes)])
    moved = max(m.input_bytes + float(m.out_bytes.sum()) for m in instance.models.values())
    out = []
    for d in instance.demands:
        bound = instance.w_latency * d.max_latency_s + instance.w_inaccuracy + instance.w_energy * (d.max_latency_s * p_max + moved * epb_path)
        out.append(10.0 * bound + 1.0)
    return np.array(out)


@dataclass
class Solution:
    """What HiGHS returned: statuses, objective, bound and the column values."""

    status: str  # HiGHS model status text
    optimal: bool
    has_solution: bool
    objective: float | None
    bound: float | None
    y: np.ndarray
    x: np.ndarray
    artificial: np.ndarray
    row_dual: np.ndarray | None
    time_s: float


_BANNER_SHOWN = False


@contextmanager
def _stdout_descriptor_silenced():
    """Point file descriptor 1 at /dev/null for the block (as is, where there is none)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 at all: nothing to protect
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs(verbose: bool = False) -> highspy.Highs:
    """A HiGHS instance with console output off (on with ``verbose``).

    highspy >= 1.16 prints a copyright banner to the process's stdout (file
    descriptor 1, past ``sys.stdout``) the first time a ``Highs`` is built in a
    process, which would land in the middle of a printed plan. The first
    construction therefore runs with descriptor 1 pointed at /dev/null, unless
    ``verbose``; later ones print nothing anyway. Pyomo's HiGHS interface builds
    its own instances, so calling this once before it also keeps it quiet.
    """
    global _BANNER_SHOWN
    if _BANNER_SHOWN or verbose:
        h = highspy.Highs()
    else:
        with _stdout_descriptor_silenced():
            h = highspy.Highs()
    _BANNER_SHOWN = True
    h.setOptionValue("output_flag", bool(verbose))
    return h


class Master:
    """The master model of one instance (see module docstring)."""

    def __init__(self, instance: Instance, *, threads: int | None = None, seed: int = 0, verbose: bool = False):
        self.instance = instance
        self.h = new_highs(verbose)
        self.verbose = verbose
        self.h.setOptionValue("random_seed", int(seed))
        self.h.setOptionValue("mip_feasibility_tolerance", 1e-7)
        self.h.setOptionValue("dual_feasibility_tolerance", 1e-9)
        self.h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        if threads:
            self.h.setOptionValue("threads", int(threads))
        self.L = instance.total_rate_rps
        # The model minimises L x J (sum over classes of rate x cost): objective
        # coefficients are then O(1), so HiGHS's absolute dual tolerances do not
        # add up to a visible error over thousands of columns.
        self.obj_scale = self.L
        self.U = instance.max_utilization
        self.unsplittable = instance.routing == "unsplittable"
        self.storage_nodes = storage_nodes(instance)
        self.n_classes = len(instance.demands)
        self.rate = np.array([d.rate_rps for d in instance.demands])
        # rows: conv (R), comp (N), link (2E), mem (storage nodes)
        n_nodes, n_dirs = len(instance.nodes), 2 * len(instance.links)
        self.row_conv = np.arange(self.n_classes)
        self.row_comp = self.n_classes + np.arange(n_nodes)
        self.row_link = self.n_classes + n_nodes + np.arange(n_dirs)
        mem_nodes = sorted(self.storage_nodes)
        self.row_mem = {v: self.n_classes + n_nodes + n_dirs + k for k, v in enumerate(mem_nodes)}
        lower = np.concatenate([np.ones(self.n_classes), np.full(n_nodes + n_dirs + len(mem_nodes), -INF)])
        bw = np.array([instance.links[d // 2].bandwidth_bytes_per_s for d in range(n_dirs)])
        # Capacity rows are scaled to utilization (right-hand side 1) so every
        # coefficient is O(1): solver tolerances then mean the same everywhere.
        self.comp_scale = 1.0 / self.U
        self.link_scale = 1.0 / (self.U * bw)
        self.mem_scale = {v: 1.0 / instance.nodes[v].memory_bytes for v in mem_nodes}
        upper = np.ones(len(lower))
        self._add_rows(lower, upper)
        self.n_rows = len(lower)
        self.columns: list[Column] = []
        self.col_of_y: list[int] = []  # HiGHS column index of each route column
        self.route_index: dict[Route, int] = {}
        self.x_col: dict[tuple[int, str, int], int] = {}
        self.x_keys: list[tuple[int, str, int]] = []
        self.link_row: dict[tuple[int, int, str, int], int] = {}
        self.n_cols = 0
        # one artificial column per class keeps every restricted LP feasible
        self.art_col = self._add_cols(
            self.rate * artificial_costs(instance), np.zeros(self.n_classes), np.full(self.n_classes, INF),
            [[(int(self.row_conv[r]), 1.0)] for r in range(self.n_classes)],
        )

    # -- assembly ------------------------------------------------------------------
    def _add_rows(self, lower: np.ndarray, upper: np.ndarray) -> None:
        n = len(lower)
        self.h.addRows(n, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), 0, np.zeros(n, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))

    def _add_cols(self, cost, lower, upper, entries: list[list[tuple[int, float]]]) -> np.ndarray:
        n = len(entries)
        starts = np.zeros(n, dtype=np.int32)
        idx, val = [], []
        for k, col in enumerate(entries):
            starts[k] = len(idx)
            for r, a in col:
                idx.append(r)
                val.append(a)
        self.h.addCols(n, np.asarray(cost, dtype=float), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), len(idx), starts, np.asarray(idx, dtype=np.int32), np.asarray(val, dtype=float))
        first = self.n_cols
        self.n_cols += n
        return np.arange(first, first + n)

    def add_columns(self, columns: list[Column]) -> list[int]:
        """Add routes not yet present; returns their positions in :attr:`columns`."""
        new = []
        seen = set()
        for col in columns:
            if col.route in self.route_index or col.route in seen:
                continue
            seen.add(col.route)
            new.append(col)
        if not new:
            return []
        # storage variables and linking rows these routes need
        keys = sorted({k for c in new for k in c.keys} - set(self.x_col))
        if keys:
            model_param = {m: inst_m.param_bytes for m, inst_m in self.instance.models.items()}
            cols = self._add_cols(
                np.zeros(len(keys)), np.zeros(len(keys)), np.ones(len(keys)),
                [[(self.row_mem[v], float(model_param[m][l]) * self.mem_scale[v])] for v, m, l in keys],
            )
            for k, c in zip(keys, cols):
                self.x_col[k] = int(c)
                self.x_keys.append(k)
            if self.integral_x:
                self.h.changeColsIntegrality(len(cols), cols.astype(np.int32), np.array([_INT] * len(cols)))
        links = sorted({(c.cls, *k) for c in new for k in c.keys} - set(self.link_row))
        if links:
            n = len(links)
            xs = np.array([self.x_col[(v, m, l)] for _, v, m, l in links], dtype=np.int32)
            self.h.addRows(n, np.full(n, -INF), np.zeros(n), n, np.arange(n, dtype=np.int32), xs, np.full(n, -1.0))
            for k, key in enumerate(links):
                self.link_row[key] = self.n_rows + k
            self.n_rows += n
        entries, cost = [], []
        for col in new:
            rate = self.rate[col.cls]
            e = [(int(self.row_conv[col.cls]), 1.0)]
            e += [(int(self.row_comp[v]), rate * t * self.comp_scale) for v, t in _merge(col.compute) if t > 0]
            e += [(int(self.row_link[d]), rate * b * self.link_scale[d]) for d, b in _merge(col.links) if b > 0]
            e += [(self.link_row[(col.cls, *k)], 1.0) for k in col.keys]
            e += self._route_row_entries(col)
            entries.append(e)
            cost.append(rate * col.cost)
        cols = self._add_cols(np.array(cost), np.zeros(len(new)), np.ones(len(new)), entries)
        if self.unsplittable and self.integral_y:
            self.h.changeColsIntegrality(len(cols), cols.astype(np.int32), np.array([_INT] * len(cols)))
        positions = []
        for col, c in zip(new, cols):
            self.route_index[col.route] = len(self.columns)
            positions.append(len(self.columns))
            self.columns.append(col)
            self.col_of_y.append(int(c))
        return positions

    integral_x = False
    integral_y = False
    #: Further HiGHS options applied to every solve (e.g. by a method that needs them).
    highs_options: dict = {}

    def set_integrality(self, integral: bool) -> None:
        """Switch between the LP relaxation and the MILP."""
        self.integral_x = integral
        self.integral_y = integral and self.unsplittable
        kinds = []
        cols = []
        if self.x_col:
            cols += list(self.x_col.values())
            kinds += [_INT if integral else _CONT] * len(self.x_col)
        if self.unsplittable and self.col_of_y:
            cols += self.col_of_y
            kinds += [_INT if integral else _CONT] * len(self.col_of_y)
        if cols:
            self.h.changeColsIntegrality(len(cols), np.array(cols, dtype=np.int32), np.array(kinds))

    # -- solving -------------------------------------------------------------------
    def solve(self, *, time_limit_s: float | None = None, mip_gap: float | None = None) -> Solution:
        """Solve the LP relaxation (warm, on the kept model) or the MILP.

        A MILP is solved on a fresh HiGHS copy of the current model: HiGHS
        1.x, after LP solves and bound changes on the same object, has been
        seen to return a MIP solution whose reported objective and dual bound
        were below the LP bound (and a suboptimal plan labelled optimal). The
        objective is always recomputed from the column values and costs (the
        model's own figures), never taken from the solver's report.
        """
        sol = self._solve_once(time_limit_s=time_limit_s, mip_gap=mip_gap)
        troubled = (sol.optimal and not sol.has_solution) or (not sol.optimal and sol.status not in ("Infeasible", "Time limit reached"))
        if troubled and not (self.integral_x or self.integral_y):
            # HiGHS's warm dual simplex has ended an LP with 'Not Set' or 'Unknown' (after many
            # column and bound changes): solve it again, cold, by primal simplex
            strategy = self.h.getOptionValue("simplex_strategy")[1]
            self.h.clearSolver()
            self.h.setOptionValue("simplex_strategy", 4)  # primal
            try:
                sol = self._solve_once(time_limit_s=time_limit_s, mip_gap=mip_gap)
            finally:
                self.h.setOptionValue("simplex_strategy", strategy)
        return sol

    def _solve_once(self, *, time_limit_s: float | None, mip_gap: float | None) -> Solution:
        integral = self.integral_x or self.integral_y
        if integral:
            h = new_highs(self.verbose)
            for key in ("random_seed", "mip_feasibility_tolerance", "dual_feasibility_tolerance", "primal_feasibility_tolerance", "threads"):
                h.setOptionValue(key, self.h.getOptionValue(key)[1])
            h.passModel(self.h.getLp())
        else:
            h = self.h
        for key, value in self.highs_options.items():
            h.setOptionValue(key, value)
        h.setOptionValue("time_limit", float(time_limit_s) if time_limit_s else INF)
        if mip_gap is not None:
            h.setOptionValue("mip_rel_gap", float(mip_gap))
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        has = info.primal_solution_status == 2  # kSolutionStatusFeasible
        sol = h.getSolution()
        values = np.array(sol.col_value) if has else np.zeros(self.n_cols)
        text = h.modelStatusToString(status)
        optimal = status == highspy.HighsModelStatus.kOptimal
        objective = float(np.dot(self.col_cost(), values)) / self.obj_scale if has else None
        if integral:
            bound = float(info.mip_dual_bound) / self.obj_scale
            if objective is not None and optimal:
                bound = min(bound, objective)
        else:
            bound = objective if optimal else None
        duals = np.array(sol.row_dual) if (optimal and not integral) else None
        return Solution(
            status=text,
            optimal=optimal,
            has_solution=has,
            objective=objective,
            bound=bound,
            y=values[self.col_of_y] if self.col_of_y else np.zeros(0),
            x=values[[self.x_col[k] for k in self.x_keys]] if self.x_keys else np.zeros(0),
            artificial=values[self.art_col],
            row_dual=duals,
            time_s=float(h.getRunTime()),
        )

    def server_load(self, y: np.ndarray) -> np.ndarray:
        """Per server (nodes, then link directions as ``row_link``): compute seconds and bytes per second of the route columns at shares ``y``.

        Taken from the columns themselves, not from the capacity rows' activities
        (under ``queueing: ps`` those rows are equalities with the utilization as a column).
        """
        n_nodes = len(self.row_comp)
        out = np.zeros(n_nodes + len(self.row_link))
        for k, col in enumerate(self.columns):
            if k < len(y) and y[k] > 0:
                f = self.rate[col.cls] * y[k]
                for v, t in col.compute:
                    out[v] += f * t
                for d, b in col.links:
                    out[n_nodes + d] += f * b
        return out

    def col_cost(self) -> np.ndarray:
        """Objective coefficient of every HiGHS column (the model's own costs, L x J units)."""
        return np.asarray(self.h.getLp().col_cost_, dtype=float)

    def prices(self, cls: int, row_dual: np.ndarray) -> Prices:
        """Dual prices for pricing routes of class ``cls`` (penalties clipped at >= 0).

        Reduced costs are in the model's units (L x J); divide by :attr:`obj_scale` for J.
        """
        rate = self.rate[cls]
        node = rate * self.comp_scale * np.maximum(0.0, -row_dual[self.row_comp])
        link = rate * self.link_scale * np.maximum(0.0, -row_dual[self.row_link])
        storage: dict[tuple[int, str], np.ndarray] = {}
        for (r, v, m, l), row in self.link_row.items():
            if r != cls:
                continue
            pen = -row_dual[row]
            if pen > 0:
                arr = storage.get((v, m))
                if arr is None:
                    arr = storage[(v, m)] = np.zeros(self.instance.models[m].n_layers)
                arr[l] = pen
        return Prices(rate, float(row_dual[self.row_conv[cls]]), node, link, storage, {})

    # -- extra linear rows over the route columns (epsilon-constraints, cuts) ----------
    route_rows: list[tuple[int, object]] = []

    def add_route_rows(self, coef, lower, upper) -> np.ndarray:
        """Add rows ``lower[k] <= sum over route columns of coef(column)[k] * y <= upper[k]``.

        ``coef(column)`` returns one coefficient per new row; it is applied to
        the columns present now and to every column added later. Returns the
        HiGHS row indices (for :meth:`set_row_bounds` and the duals).
        """
        lower = np.atleast_1d(np.asarray(lower, dtype=float))
        upper = np.atleast_1d(np.asarray(upper, dtype=float))
        rows = self.n_rows + np.arange(len(lower))
        self._add_rows(lower, upper)
        self.n_rows += len(lower)
        self.route_rows = [*self.route_rows, (int(rows[0]), coef)]
        for c, col in zip(self.col_of_y, self.columns):
            vals = np.asarray(coef(col), dtype=float)
            for k, a in enumerate(vals):
                if a != 0.0:
                    self.h.changeCoeff(int(rows[k]), int(c), float(a))
        return rows

    def _route_row_entries(self, col: Column) -> list[tuple[int, float]]:
        out = []
        for first, coef in self.route_rows:
            out += [(first + k, float(a)) for k, a in enumerate(np.asarray(coef(col), dtype=float)) if a != 0.0]
        return out

    def set_row_bounds(self, rows, lower, upper) -> None:
        """Change the bounds of rows (e.g. the right-hand sides of epsilon-constraints)."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int32))
        self.h.changeRowsBounds(len(rows), rows, np.broadcast_to(np.asarray(lower, dtype=float), rows.shape).copy(), np.broadcast_to(np.asarray(upper, dtype=float), rows.shape).copy())

    def set_route_costs(self, cost) -> None:
        """Replace the objective: ``cost(column)`` per route column (model units), artificial columns kept."""
        if self.col_of_y:
            cols = np.array(self.col_of_y, dtype=np.int32)
            self.h.changeColsCost(len(cols), cols, np.array([float(cost(c)) for c in self.columns]))

    def set_y_bounds(self, positions: list[int], upper: float) -> None:
        if positions:
            cols = np.array([self.col_of_y[p] for p in positions], dtype=np.int32)
            self.h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.full(len(cols), upper))

    def set_x_bounds(self, keys: list[tuple[int, str, int]], lower: float, upper: float) -> None:
        cols = np.array([self.x_col[k] for k in keys if k in self.x_col], dtype=np.int32)
        if len(cols):
            self.h.changeColsBounds(len(cols), cols, np.full(len(cols), lower), np.full(len(cols), upper))


def _merge(pairs: list[tuple[int, float]]) -> list[tuple[int, float]]:
    out: dict[int, float] = {}
    for k, v in pairs:
        out[k] = out.get(k, 0.0) + v
    return list(out.items())
