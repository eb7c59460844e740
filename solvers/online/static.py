"""Static storage: the exact MILP, a fast greedy, and the baselines built on them.

The static problem: choose one storage ``x`` (items, within every node's
memory) for a stretch of slots with known request counts, maximising the
total gain over the repository minus ``w_update`` x the bytes stored (fetched
once). With ``R[e, p]`` the requests of pair p during the stretch ``e`` of
constant resource factors (gains ``g[e, o]``), the MILP is

    max  sum_{e,o} R[e, p(o)] g[e, o] z[e, o] - w_update sum_k s_k x_k
    s.t. sum_{o of p} z[e, o] <= 1      (each request takes one option)
         z[e, o] <= x[k(o)]             (only stored items serve)
         sum_{k at v} s_k x_k <= C_v    (memory)
         x binary, z >= 0

(the repository option is the slack of the first row). It is solved by HiGHS
to a relative gap of 1e-9: the ``hindsight`` comparator of regret.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix

from placement.errors import SolverError

from .base import Env, NodeGroups, Policy
from .gains import Gains
from .registry import Opt, register_policy


def solve_static(env: Env, epochs: list[tuple[Gains, np.ndarray]], time_limit_s: float | None = None, mip_gap: float = 1e-9, allowed: np.ndarray | None = None) -> np.ndarray:
    """Exact static storage for ``epochs`` = [(gains, request counts per pair)].

    Returns the boolean storage over items (only items of ``allowed``, when given). Raises SolverError when HiGHS
    stops without a feasible solution.
    """
    import highspy

    from solvers.master import new_highs

    table = env.table
    K = table.n_items
    groups = NodeGroups(table)
    cols_obj = [-env.w_update * table.item_bytes]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_up: list[np.ndarray] = []
    n_rows = 0
    n_cols = K
    for gains, counts in epochs:
        use = np.flatnonzero((table.opt_item >= 0) & (gains.gain > 0) & (counts[table.opt_pair] > 0))
        if not len(use):
            continue
        z = n_cols + np.arange(len(use))
        n_cols += len(use)
        cols_obj.append(counts[table.opt_pair[use]] * gains.gain[use])
        # one row per pair: sum z <= 1
        pairs, inv = np.unique(table.opt_pair[use], return_inverse=True)
        rows.append(n_rows + inv)
        cols.append(z)
        vals.append(np.ones(len(use)))
        row_up.append(np.ones(len(pairs)))
        n_rows += len(pairs)
        # z <= x
        r = n_rows + np.arange(len(use))
        rows += [r, r]
        cols += [z, table.opt_item[use]]
        vals += [np.ones(len(use)), -np.ones(len(use))]
        row_up.append(np.zeros(len(use)))
        n_rows += len(use)
    tight = np.flatnonzero(groups.tight_node)
    if len(tight):
        items = np.flatnonzero(groups.tight_item)
        pos = np.searchsorted(tight, table.item_node[items])
        rows.append(n_rows + pos)
        cols.append(items)
        vals.append(table.item_bytes[items] / table.capacity_bytes[table.item_node[items]])
        row_up.append(np.ones(len(tight)))
        n_rows += len(tight)
    cost = np.concatenate(cols_obj)
    if n_rows == 0:
        return np.zeros(K, dtype=bool)
    A = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_cols)).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.ones(n_cols)
    if allowed is not None:
        lp.col_upper_[:K] = np.asarray(allowed, dtype=float)
    lp.row_lower_ = np.full(n_rows, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate(row_up)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * K + [highspy.HighsVarType.kContinuous] * (n_cols - K)
    h = new_highs()
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("random_seed", int(env.seed))
    if time_limit_s:
        h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    h.run()
    sol = h.getSolution()
    if not sol.value_valid:
        raise SolverError(f"static storage MILP: HiGHS stopped without a solution ({h.modelStatusToString(h.getModelStatus())})")
    x = np.asarray(sol.col_value[:K]) > 0.5
    return x


def greedy_static(env: Env, gains: Gains, counts: np.ndarray, groups: NodeGroups, start: np.ndarray | None = None) -> np.ndarray:
    """Greedy static storage: repeatedly add the item of best gain per byte that fits.

    Items at nodes that hold all their items are taken whenever they gain
    something; ``start`` (kept) warm-starts the search. Fast, not exact.
    """
    table = env.table
    use = np.flatnonzero((table.opt_item >= 0) & (gains.gain > 0) & (counts[table.opt_pair] > 0))
    o_item, o_pair, o_gain = table.opt_item[use], table.opt_pair[use], gains.gain[use]
    weight = counts[o_pair].astype(float)
    x = np.zeros(table.n_items, dtype=bool) if start is None else start.copy()
    if env.w_update == 0:  # nodes that hold everything: every useful item, no choice to make
        loose = np.unique(o_item)
        x[loose[~groups.tight_item[loose]]] = True
    used = np.bincount(table.item_node, weights=table.item_bytes * x, minlength=len(table.nodes))
    cur = np.zeros(table.n_pairs)
    np.maximum.at(cur, o_pair, np.where(x[o_item], o_gain, 0.0))
    sizes = table.item_bytes
    while True:
        marg = np.bincount(o_item, weights=weight * np.maximum(0.0, o_gain - cur[o_pair]), minlength=table.n_items)
        marg -= env.w_update * sizes
        fits = ~x & (used[table.item_node] + sizes <= table.capacity_bytes[table.item_node] * (1 + 1e-12)) & (marg > 1e-12)
        if not fits.any():
            return x
        ratio = np.where(fits, marg / sizes, -np.inf)
        k = int(np.argmax(ratio))
        x[k] = True
        used[table.item_node[k]] += sizes[k]
        sel = o_item == k
        np.maximum.at(cur, o_pair[sel], o_gain[sel])


def _epochs(env: Env, counts: np.ndarray, first: int) -> list[tuple[Gains, np.ndarray]]:
    """Split per-slot ``counts`` (starting at slot ``first``) by resource epochs."""
    starts = [s for s, _ in env.epochs] or [0]
    gains = [g for _, g in env.epochs] or [env.nominal]
    out = []
    last = first + len(counts)
    for i, (s, g) in enumerate(zip(starts, gains)):
        end = starts[i + 1] if i + 1 < len(starts) else last
        lo, hi = max(s, first), min(end, last)
        if hi > lo:
            out.append((g, counts[lo - first : hi - first].sum(axis=0)))
    return out


@register_policy("hindsight", "the best static storage in hindsight, exact (MILP over the whole trace's counts); clairvoyant", (Opt("time_limit_s", float, 0.0, "MILP time limit in seconds (default 0: none)"),), clairvoyant=True)
class Hindsight(Policy):
    def __init__(self, env: Env, **options):
        super().__init__(env, **options)
        assert env.trace is not None
        self.x = solve_static(env, _epochs(env, env.trace.counts, 0), options.get("time_limit_s") or None)


@register_policy("static-first", "optimal storage for the first window (exact MILP), then frozen; clairvoyant for that window", (Opt("window", int, None, "window in slots (default: a tenth of the trace)"),), clairvoyant=True)
class StaticFirst(Policy):
    def __init__(self, env: Env, **options):
        super().__init__(env, **options)
        assert env.trace is not None
        w = options.get("window") or max(1, env.n_slots // 10)
        self.x = solve_static(env, _epochs(env, env.trace.counts[:w], 0))


@register_policy(
    "resolve",
    "the static optimum of the last W slots, re-solved every W slots (exact MILP or greedy)",
    (Opt("window", int, None, "W in slots (default: a tenth of the trace, at least 1)"), Opt("solver", str, "milp", "'milp' (exact) or 'greedy'", ("milp", "greedy"))),
)
class Resolve(Policy):
    def __init__(self, env: Env, **options):
        super().__init__(env, **options)
        self.window = options.get("window") or max(1, env.n_slots // 10)
        if options.get("solver", "milp") not in ("milp", "greedy"):
            raise ValueError("solver must be 'milp' or 'greedy'")
        self.groups = NodeGroups(self.table)
        self.recent: list[tuple[Gains, np.ndarray]] = []

    def observe(self, t: int, counts: np.ndarray, gains: Gains) -> None:
        self.recent.append((gains, counts))
        if (t + 1) % self.window:
            return
        merged: dict[int, tuple[Gains, np.ndarray]] = {}
        for g, c in self.recent:
            prev = merged.get(id(g))
            merged[id(g)] = (g, c if prev is None else prev[1] + c)
        self.recent = []
        if self.options.get("solver", "milp") == "greedy":
            g, c = list(merged.values())[-1]
            self.x = greedy_static(self.env, g, sum(v[1] for v in merged.values()), self.groups)
        else:
            self.x = solve_static(self.env, list(merged.values()))
