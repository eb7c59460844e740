"""The continuous relaxation over a pool of routes, as a cvxpy problem (DPP).

Variables: ``y[r]`` the share of pool route r of its class, ``art[c]`` an
artificial "unserved" share per class (priced far above any route, so every
restricted problem is feasible), ``x[k]`` the fraction of storage key k =
(node, model, layer) held, on nodes whose memory can bind. Rows:

- ``sum_r y[r] + art[c] == 1`` per class;
- ``rho[s] = sum_r rate[r] * y[r] * a[s, r] <= max_utilization`` per server;
- ``sum of y over class c's routes computing layer l of m at v <= x[v, m, l]``;
- ``sum_k param_bytes[k] * x[k] <= memory_bytes(v)`` per storage node;
- ``y <= allow`` and ``x <= xcap`` (masks: rounding and repairs fix storage
  and ban routes without rebuilding the problem);
- under ``ps``, for the routes named in ``slo_routes`` (the rounding's
  re-optimisation: routes that carry flow), their SLO with waiting:
  ``sum_s a[s, r] * (1 / (1 - rho[s]) - 1) <= max_latency_s - latency_0[r]``
  (waiting on the route at most its slack at zero load). The left side is a
  non-negative combination of convex functions of the loads, so the problem
  stays convex.

Objective (L x J units): ``sum_r rate[r] * y[r] * c[r] + art_cost @ art +
w_latency * sum_s (inv_pos(1 - rho[s]) - 1 - rho[s])`` under ``ps``, the LP
without the last term under ``none``. The rates, masks and artificial
costs are cvxpy ``Parameter``s: the problem is DPP, so re-solving with other
rates (online slots, load sweeps) reuses the compiled problem. A one-shot
solve passes ``fixed_rates=True``: rates are then constants folded into the
load matrix and the costs, which compiles an order of magnitude faster and in
far less memory (cvxpy's DPP compilation builds a tensor over the
parameters); the masks are then constructor arguments too (``allow``,
``stored``).

:meth:`RelaxModel.lagrangian` turns a solution into prices for route
generation and into a bound valid for every route, in or out of the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from placement.instance import Instance

from .candidates import Prices
from .columns import Column
from .congestion import excess, excess_slope, server_bandwidth, slo_budget
from .master import artificial_costs, new_highs


class ClassPrices:
    """Pricing data of every class (:class:`~solvers.candidates.Prices`), built when a class is looked up."""

    def __init__(self, rates: np.ndarray, offsets: np.ndarray, node_price: np.ndarray, link_price_per_byte: np.ndarray, storage: dict):
        self.rates = rates
        self.offsets = offsets
        self.node_price = node_price
        self.link_price = link_price_per_byte
        self.storage = storage

    def __len__(self) -> int:
        return len(self.offsets)

    def __getitem__(self, c: int) -> Prices:
        rate = float(self.rates[c])
        return Prices(rate, float(self.offsets[c]), rate * self.node_price, rate * self.link_price, self.storage.get(c, {}), {})

    def __iter__(self):
        return (self[c] for c in range(len(self)))


class _Fixed:
    """A constant standing where a ``cp.Parameter`` would (read through ``.value``)."""

    def __init__(self, value: np.ndarray):
        self.value = value


@dataclass
class RelaxSolution:
    """Values of one solve, in the model's units (L x J)."""

    status: str
    y: np.ndarray
    x: np.ndarray
    art: np.ndarray
    rho: np.ndarray  # per server (all servers of the instance)
    objective: float  # recomputed from y and art, not the solver's figure
    mu: np.ndarray  # capacity duals per touched server (>= 0)
    lam: np.ndarray  # linking duals per (class, key) row (>= 0)
    nu: np.ndarray = field(default_factory=lambda: np.zeros(0))  # SLO duals per constrained route (>= 0)


class RelaxModel:
    """The relaxation over a fixed pool of columns (see module docstring)."""

    def __init__(self, instance: Instance, columns: list[Column], storage_nodes: set[int], solver: str | None = None,
                 slo_routes: np.ndarray | None = None, fixed_rates: bool = False, allow: np.ndarray | None = None,
                 stored: set | None = None):
        self.inst = instance
        self.columns = columns
        self.ps = instance.queueing == "ps"
        self.solver = solver or ("CLARABEL" if self.ps else "HIGHS")
        if self.solver == "HIGHS":
            new_highs()  # highspy prints a banner on the first instance of a process; this one swallows it
        n_nodes = len(instance.nodes)
        self.n_servers = n_nodes + 2 * len(instance.links)
        self.bw = server_bandwidth(instance)
        K, C = len(columns), len(instance.demands)
        self.cls = np.array([c.cls for c in columns], dtype=np.int64)
        self.cost = np.array([c.cost for c in columns], dtype=float)
        # server usage per request a[s, r]
        rows, cols, vals = [], [], []
        for r, col in enumerate(columns):
            for v, t in col.compute:
                rows.append(v), cols.append(r), vals.append(t)
            for d, b in col.links:
                rows.append(n_nodes + d), cols.append(r), vals.append(b / self.bw[n_nodes + d])
        A = sp.csr_matrix((vals, (rows, cols)), shape=(self.n_servers, K))
        A.sum_duplicates()
        self.A = A
        self.touched = np.flatnonzero(np.diff(A.indptr) > 0)
        A_t = A[self.touched]
        # storage keys and linking rows (class, key)
        self.keys = sorted({k for c in columns for k in c.keys})
        key_pos = {k: i for i, k in enumerate(self.keys)}
        links = sorted({(c.cls, *k) for c in columns for k in c.keys})
        self.links = links
        link_pos = {lk: i for i, lk in enumerate(links)}
        bi, bj = [], []
        for r, col in enumerate(columns):
            for k in col.keys:
                bi.append(link_pos[(col.cls, *k)]), bj.append(r)
        B = sp.csr_matrix((np.ones(len(bi)), (bi, bj)), shape=(len(links), K))
        link_key = np.array([key_pos[lk[1:]] for lk in links], dtype=np.int64)  # the key of each linking row
        E = sp.csr_matrix((np.ones(len(links)), (np.arange(len(links)), link_key)), shape=(len(links), len(self.keys)))
        mem_nodes = sorted({v for v, _, _ in self.keys})
        mem_pos = {v: i for i, v in enumerate(mem_nodes)}
        self.mem_rows = np.array([mem_pos[v] for v, _, _ in self.keys], dtype=np.int64)  # memory row of each key
        self.param = np.array([float(instance.models[m].param_bytes[l]) for _, m, l in self.keys])
        self.mem_bytes = np.array([float(instance.nodes[v].memory_bytes) for v, _, _ in self.keys])
        Pm = sp.csr_matrix((self.param / self.mem_bytes if self.keys else np.zeros(0),
                            (self.mem_rows, np.arange(len(self.keys)))), shape=(len(mem_nodes), len(self.keys)))
        conv = sp.csr_matrix((np.ones(K), (self.cls, np.arange(K))), shape=(C, K))

        # parameters (DPP)
        self.fixed_rates = fixed_rates
        if fixed_rates:  # constants, each with a .value like a Parameter's
            self.rate_col = None
            self.art_cost = _Fixed(np.asarray(instance.rates, dtype=float) * artificial_costs(instance))
            self.allow = _Fixed(np.ones(K) if allow is None else np.asarray(allow, dtype=float))
            self.xcap = _Fixed(np.array([1.0 if stored is None or k in stored else 0.0 for k in self.keys])) if self.keys else None
        else:
            self.rate_col = cp.Parameter(K, nonneg=True, name="rate")
            self.art_cost = cp.Parameter(C, nonneg=True, name="art_cost")
            self.allow = cp.Parameter(K, nonneg=True, name="allow")
            self.xcap = cp.Parameter(len(self.keys), nonneg=True, name="xcap") if self.keys else None
        allow_, art_cost_ = (self.allow.value, self.art_cost.value) if fixed_rates else (self.allow, self.art_cost)
        self.y = cp.Variable(K, nonneg=True, name="y")
        self.art = cp.Variable(C, nonneg=True, name="art")
        # A key only one class uses (a device's own storage) is substituted with rates fixed: its
        # fraction is then that class's share on routes using it (its linking row at equality, the
        # least the row allows), which drops a variable and two rows per key.
        private = np.zeros(len(self.keys), dtype=bool)
        if fixed_rates and self.keys:
            private = (np.bincount(link_key, minlength=len(self.keys)) == 1) & (self.xcap.value > 0)
        self.shared_keys = np.flatnonzero(~private)
        self.private_rows = np.flatnonzero(private[link_key])  # linking rows of substituted keys
        self.shared_rows = np.flatnonzero(~private[link_key])
        self.B_private = B[self.private_rows]  # row i: the share of the class on routes using private key link_key[private_rows[i]]
        self.private_key_of_row = link_key[self.private_rows]
        self.x = cp.Variable(len(self.shared_keys), nonneg=True, name="x") if len(self.shared_keys) else None
        if fixed_rates:  # rates as constants: no parameter x variable products, far cheaper to compile
            rate = np.asarray(instance.rates, dtype=float)[self.cls]
            self.rho_expr = (A_t @ sp.diags(rate)).tocsr() @ self.y if len(self.touched) else None
            route_cost = (self.cost * rate) @ self.y
        else:
            flow = cp.multiply(self.rate_col, self.y)
            self.rho_expr = A_t @ flow if len(self.touched) else None
            route_cost = self.cost @ flow
        cons = [conv @ self.y + self.art == 1, self.y <= allow_]
        self.cap = self.rho_expr <= instance.max_utilization if self.rho_expr is not None else None
        if self.cap is not None:
            cons.append(self.cap)
        self.link_con = self.mem_con = None
        if self.keys:
            used = 0
            if self.x is not None:
                self.link_con = B[self.shared_rows] @ self.y - E[self.shared_rows][:, self.shared_keys] @ self.x <= 0
                cap = self.xcap.value[self.shared_keys] if fixed_rates else self.xcap[self.shared_keys]
                cons += [self.link_con, self.x <= cap]
                used = Pm[:, self.shared_keys] @ self.x
            if len(self.private_rows):
                used = used + (Pm[:, self.private_key_of_row] @ self.B_private) @ self.y
            self.mem_con = used <= 1
            cons.append(self.mem_con)
        objective = route_cost + art_cost_ @ self.art
        self.slo_idx = np.zeros(0, dtype=np.int64)
        self.slo_con = None
        if self.ps and self.rho_expr is not None:
            wait = cp.inv_pos(1 - self.rho_expr) - 1  # waiting per unit of service, per touched server
            objective = objective + instance.w_latency * cp.sum(wait - self.rho_expr)
            if slo_routes is not None and len(slo_routes):
                self.slo_idx = np.asarray(sorted(set(int(i) for i in slo_routes)), dtype=np.int64)
                self.slo_budget = slo_budget(instance, [columns[i] for i in self.slo_idx])
                self.slo_con = A_t[:, self.slo_idx].T @ wait <= self.slo_budget
                cons.append(self.slo_con)
        self.problem = cp.Problem(cp.Minimize(objective), cons)
        self.set_rates(instance.rates)
        if not fixed_rates:
            self.set_masks(np.ones(K), np.ones(len(self.keys)))

    # -- parameters ----------------------------------------------------------------
    def set_rates(self, rates: np.ndarray) -> None:
        """New demand rates (requests/s per class): no recompilation (DPP; not with ``fixed_rates``)."""
        rates = np.asarray(rates, dtype=float)
        if self.fixed_rates and hasattr(self, "rates") and not np.array_equal(rates, self.rates):
            raise ValueError("this RelaxModel was built with fixed_rates=True: build another for other rates")
        self.rates = rates
        if self.rate_col is not None:
            self.rate_col.value = rates[self.cls] if len(self.cls) else np.zeros(0)
            self.art_cost.value = rates * artificial_costs(self.inst)

    def set_masks(self, allow: np.ndarray, xcap: np.ndarray) -> None:
        """Upper bounds of the shares (1 allowed, 0 banned) and of the storage fractions
        (with ``fixed_rates`` they are given to the constructor: ``allow``, ``stored``)."""
        if self.fixed_rates:
            raise ValueError("this RelaxModel was built with fixed_rates=True: pass allow= and stored= to the constructor")
        self.allow.value = np.asarray(allow, dtype=float)
        if self.xcap is not None:
            self.xcap.value = np.asarray(xcap, dtype=float)

    # -- solving ---------------------------------------------------------------------
    def solve(self, verbose: bool = False) -> RelaxSolution:
        try:
            self.problem.solve(solver=self.solver, verbose=verbose)
        except cp.SolverError:
            # CLARABEL can stop short of its tolerances on badly scaled data;
            # SCS is slower but robust (the bound does not rely on accuracy).
            self.problem.solve(solver="SCS", eps=1e-9, verbose=verbose)
        status = self.problem.status
        y = np.clip(np.asarray(self.y.value if self.y.value is not None else np.zeros(len(self.columns))), 0.0, 1.0)
        art = np.clip(np.asarray(self.art.value if self.art.value is not None else np.ones(len(self.inst.demands))), 0.0, None)
        x = np.zeros(len(self.keys))
        if self.x is not None and self.x.value is not None:
            x[self.shared_keys] = np.clip(np.asarray(self.x.value), 0.0, 1.0)
        if len(self.private_rows):
            x[self.private_key_of_row] = np.clip(self.B_private @ y, 0.0, 1.0)
        rho = self.A @ (self.rates[self.cls] * y) if len(self.columns) else np.zeros(self.n_servers)
        mu = np.zeros(len(self.touched))
        if self.cap is not None and self.cap.dual_value is not None:
            mu = np.maximum(np.asarray(self.cap.dual_value, dtype=float), 0.0)
        lam = np.zeros(len(self.links))
        if self.link_con is not None and self.link_con.dual_value is not None:
            lam[self.shared_rows] = np.maximum(np.asarray(self.link_con.dual_value, dtype=float), 0.0)
        if len(self.private_rows) and self.mem_con is not None and self.mem_con.dual_value is not None:
            # a substituted key's row at equality: its price is the memory row's dual times the key's share of that memory
            mem_dual = np.maximum(np.asarray(self.mem_con.dual_value, dtype=float), 0.0)
            k = self.private_key_of_row
            lam[self.private_rows] = mem_dual[self.mem_rows[k]] * self.param[k] / self.mem_bytes[k]
        nu = np.zeros(len(self.slo_idx))
        if self.slo_con is not None and self.slo_con.dual_value is not None:
            nu = np.maximum(np.asarray(self.slo_con.dual_value, dtype=float), 0.0)
        return RelaxSolution(status, y, x, art, rho, self.value(y, art, rho), mu, lam, nu)

    def value(self, y: np.ndarray, art: np.ndarray, rho: np.ndarray) -> float:
        """The objective at given shares (L x J): route costs, artificials and waiting."""
        out = float((self.rates[self.cls] * y) @ self.cost) + float(self.art_cost.value @ art)
        if self.ps:
            out += self.inst.w_latency * float(excess(rho).sum())
        return out

    # -- prices and the bound ----------------------------------------------------------
    def congestion_prices(self, sol: RelaxSolution) -> np.ndarray:
        """Per server, the gradient of the waiting term: ``w_latency * excess'(rho)`` (0 under ``none``)."""
        if not self.ps:
            return np.zeros(self.n_servers)
        return self.inst.w_latency * excess_slope(sol.rho)

    def server_prices(self, sol: RelaxSolution) -> np.ndarray:
        """Per server, the price of one unit of load: congestion slope plus capacity dual (L x J),
        plus, where SLO rows are imposed, their duals times the rows' slope in the load."""
        price = self.congestion_prices(sol)
        price[self.touched] += sol.mu
        if len(sol.nu):
            with np.errstate(divide="ignore"):
                slope = 1.0 / np.maximum(1.0 - sol.rho, 1e-12) ** 2
            price += (self.A[:, self.slo_idx] @ sol.nu) * slope
        return price

    def class_prices(self, sol: RelaxSolution, server_price: np.ndarray) -> ClassPrices:
        """Pricing data per class, offset = the cheapest full price in the pool (so pool routes price >= 0).

        Built per class on access (:class:`ClassPrices`): each class's prices are
        arrays over all nodes and link directions, too large to hold for every
        class of a large fleet at once (10,240 classes x 34,000 servers: 2.8 GB).
        """
        full = self.full_prices(sol, server_price)
        offsets = np.full(len(self.inst.demands), np.inf)
        np.minimum.at(offsets, self.cls, full)
        offsets = np.minimum(offsets, self.art_cost.value)
        storage: dict[int, dict] = {}
        for (c, v, m, l), lam in zip(self.links, sol.lam):
            if lam > 0:
                arr = storage.setdefault(c, {}).setdefault((v, m), np.zeros(self.inst.models[m].n_layers))
                arr[l] = lam
        n_nodes = len(self.inst.nodes)
        return ClassPrices(self.rates, offsets, server_price[:n_nodes], server_price[n_nodes:] / self.bw[n_nodes:], storage)

    def full_prices(self, sol: RelaxSolution, server_price: np.ndarray) -> np.ndarray:
        """Per pool route: rate x (cost + priced server use) + linking duals (L x J per unit share)."""
        rate = self.rates[self.cls]
        out = rate * (self.cost + self.A.T @ server_price)
        if len(self.links):
            pos = {lk: i for i, lk in enumerate(self.links)}
            for r, col in enumerate(self.columns):
                out[r] += sum(sol.lam[pos[(col.cls, *k)]] for k in col.keys)
        return out

    def lagrangian(self, sol: RelaxSolution, offsets: np.ndarray, min_rc: np.ndarray) -> float:
        """A lower bound on the relaxation over every route (L x J).

        By convexity ``f(y) >= f(y_hat) + g . (y - y_hat)`` for the gradient g
        at the solution; relaxing capacity and linking rows with multipliers
        mu, lam >= 0 and minimising the linear function over each class's
        simplex (the cheapest route anywhere: ``offset + min_rc`` from
        pricing, or its artificial) and over each node's memory knapsack
        gives a bound that holds for any ``y_hat``, mu and lam, whatever
        the solver's accuracy.
        """
        rate = self.rates[self.cls]
        grad_y = rate * (self.cost + self.A.T @ self.congestion_prices(sol))
        lin = sol.objective - float(grad_y @ sol.y) - float(self.art_cost.value @ sol.art)
        lin -= float(sol.mu.sum()) * self.inst.max_utilization
        lin += float((offsets + np.minimum(min_rc, 0.0)).sum())
        lin -= self._knapsack(sol.lam)
        return lin

    def _knapsack(self, lam: np.ndarray) -> float:
        """max sum(Lambda_k x_k) over each storage node's memory, x in [0, xcap] (fractional: greedy by ratio)."""
        if not len(self.keys):
            return 0.0
        agg = np.zeros(len(self.keys))
        pos = {k: i for i, k in enumerate(self.keys)}
        for (_c, v, m, l), val in zip(self.links, lam):
            agg[pos[(v, m, l)]] += val
        cap = np.asarray(self.xcap.value, dtype=float)
        total = 0.0
        by_node: dict[int, list[int]] = {}
        for i, (v, _, _) in enumerate(self.keys):
            by_node.setdefault(v, []).append(i)
        for v, idx in by_node.items():
            room = float(self.inst.nodes[v].memory_bytes)
            for i in sorted(idx, key=lambda i: -agg[i] / max(self.param[i], 1e-300)):
                if agg[i] <= 0 or room <= 0:
                    break
                take = min(cap[i], room / self.param[i]) if self.param[i] > 0 else cap[i]
                total += agg[i] * take
                room -= take * self.param[i]
        return total

