"""``omd``: online mirror ascent on the relaxed storage (INFIDA, Si Salem et al., ToN 2024).

State: fractional storage ``y`` in the memory polytope of every node,
``Y_v = {y in [0, 1]^{items of v} : sum_k s_k y_k <= C_v}``. After each slot,
with ``g`` a supergradient of the slot's relaxed gain L_t (see
:mod:`solvers.online.gains`), a mirror-ascent step with the weighted negative
entropy ``Phi(y) = sum_k s_k y_k log y_k``:

    y'_k = y_k * exp(eta * g_k / s_k),   then   y_k = min(1, lambda_v * y'_k)

with ``lambda_v`` such that node v's memory is exactly full (the Bregman
projection onto Y_v). Nodes whose memory holds all their items keep y = 1.

Regret of the fractional iterates (gain, against the best static fractional
storage): Phi is (1/C)-strongly convex for the norm ``||z|| = sum_k s_k |z_k|``
on the product of the Y_v (C = total memory of the nodes that must choose),
the dual norm of a supergradient is ``max_k |g_k| / s_k <= G``, and the
Bregman distance from the uniform start ``y0 = C_v / S_v`` is at most
``D^2 = sum_v C_v log(S_v / C_v)`` (S_v: bytes of all of v's items). Hence

    Regret_T <= D^2 / eta + eta * C * G^2 * T / 2 = G * sqrt(2 * D^2 * C * T)

for ``eta = sqrt(2 D^2 / (C T)) / G``. G is not known in advance: the policy
uses the largest dual norm seen so far (so eta shrinks as larger gradients
appear) and reports D^2, C, G and the bound in its info.

Step size: the bound's, with the instance's constants D^2 and C, the trace's
length T and the largest dual norm G seen so far (``eta_scale`` multiplies
it; on the contested 341-node tree of the benchmark, scales from 0.03 to 30
all did worse than 1).

Rounding (every slot memory-feasible, little movement), option ``rounding``:

- ``local`` (default; :mod:`solvers.online.localsearch`): the storage of the
  next slot starts from the current one and is improved by add and
  evict-to-fit moves per node (a move must raise the *integral* gain of the
  request counts of all slots seen so far by more than ``hysteresis`` x the
  mean gain per slot); at slots 8, 16, 32, ... (doubling) the exact best
  storage of those counts (the static MILP) replaces it if better; free
  memory is filled by decreasing y. Deterministic. Guarantee: none of its
  own; the theory above is for the fractional iterates. What it buys is
  measured: on the contested 341-node tree of the benchmark, regret/t
  against the exact integral hindsight falls roughly as 1/t (T = 10,000:
  0.17 (adversarial) and 0.10 (shifting) of its value at 1,000) where the
  greedy rounding's grows (1.63, 1.81). ``support`` > 0 restricts the
  storage to items with y >= support (a neighbourhood of the iterate): at
  0.01 and 0.05 it broke the convergence after ~6,000 slots (the relaxed
  iterate drives down items the integral optimum needs), so the default is
  0 and y only orders the fill (and the storage before any count is seen).
- ``greedy``: per node, items by decreasing y, each taken if it fits the
  memory left. Deterministic; y moves a little per slot, so the order and
  the storage change rarely. It keeps only part of the relaxed gain: on the
  benchmark tree a constant loss per slot, so regret/t does not fall
  (adversarial trace, T = 1,000: 0.31 % above hindsight against 0.003 % for
  ``local``).
- ``coupled``: thresholds ``u_k ~ U(0, 1)`` drawn once from the seed; item k
  is stored when ``u_k < y_k`` (so P[stored] = y_k every slot, and an item
  changes only when y_k crosses u_k: expected movement = sum |y_t - y_{t-1}|);
  a node over its memory keeps its thresholded items of largest y that fit,
  then fills the memory left with the other items by decreasing y.
  Independent rounding of the facility-location relaxation keeps at least
  (1 - 1/e) of the relaxed gain in expectation, INFIDA's psi-regret guarantee
  (before the repair and fill steps).

Update cost (``objective.weights.update`` = w > 0): the mirror step itself
ignores it (it is a movement cost, not a per-slot gain), so storage is gated
rent-or-buy style: an item may be stored only once the savings it would have
brought over the policy's actual storage, summed over the slots since it was
last held, reach w x its bytes (a request credits only the best model for it
at each node, as a cache sees it, so a dominated model never earns) (the fetch would have paid for itself; the
classic ski-rental rule, at most twice the better of never and always
fetching per item). Without the gate, nodes that hold all their models would
fetch every model at slot 0 and the fill step would fetch on no evidence.
With w = 0 every item is eligible.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .base import Env, NodeGroups, Policy
from .gains import Gains, best_options
from .localsearch import LocalSearch
from .registry import Opt, register_policy
from .static import solve_static

_LOG_MIN = -700.0
ROUNDINGS = ("greedy", "coupled", "local")


def project_log(logy: np.ndarray, node: np.ndarray, sizes: np.ndarray, capacity: np.ndarray, iters: int = 80) -> np.ndarray:
    """Bregman projection (weighted negative entropy) onto the capped simplices, in log space.

    ``logy`` are log-weights of items at tight nodes (``node`` indexes
    ``capacity``); returns log y with ``sum_k s_k min(1, y_k) = C_v`` per node
    (slightly below, never above).
    """
    n_nodes = len(capacity)
    top = np.full(n_nodes, -np.inf)
    np.maximum.at(top, node, logy)
    low = np.full(n_nodes, np.inf)
    np.minimum.at(low, node, logy)
    total = np.bincount(node, weights=sizes, minlength=n_nodes)
    with np.errstate(divide="ignore"):
        lo = np.log(np.maximum(capacity, 1e-300)) - np.log(np.maximum(total, 1e-300)) - top
    hi = -low
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        used = np.bincount(node, weights=sizes * np.exp(np.minimum(0.0, logy + mid[node])), minlength=n_nodes)
        over = used > capacity
        hi = np.where(over, mid, hi)
        lo = np.where(over, lo, mid)
    return np.maximum(_LOG_MIN, np.minimum(0.0, logy + lo[node]))


@register_policy(
    "omd",
    "INFIDA: online mirror ascent (negative entropy) on the relaxed storage; local-search (default), greedy or coupled rounding; rent-or-buy gate under update cost",
    (
        Opt("eta_scale", float, 1.0, "multiplies the step size of the regret bound"),
        Opt("eta", float, 0.0, "fixed step size (overrides the bound's when > 0)"),
        Opt("refresh", int, None, "redraw the rounding thresholds every this many slots (default: never; coupled rounding)"),
        Opt("rounding", str, "local", "'local' (default: local search on the counts observed so far, exact leader at doubling slots), 'greedy' (per node by decreasing y) or 'coupled' (seeded thresholds, (1-1/e) guarantee)", ROUNDINGS),
        Opt("support", float, 0.0, "local rounding: items with y below this are dropped and never added (0: none; see docs/online.md)"),
        Opt("hysteresis", float, 0.01, "local rounding: a move must gain more than this x the mean gain per slot so far"),
        Opt("leader", bool, True, "local rounding: at slots 8, 16, 32, ... (doubling) start from the exact best storage of the counts so far within the support, if better"),
        Opt("rounds", int, 1, "local rounding: passes of add/swap moves over the node classes per slot"),
    ),
)
class OMD(Policy):
    def __init__(self, env: Env, **options):
        super().__init__(env, **options)
        if options.get("rounding", "local") not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {', '.join(ROUNDINGS)}")
        if not 0.0 <= options.get("support", 0.0) <= 1.0 or options.get("hysteresis", 0.01) < 0 or options.get("rounds", 1) < 1:
            raise ValueError("support must be in [0, 1], hysteresis >= 0 and rounds >= 1")
        t = self.table
        self.earned = np.zeros(t.n_items)
        self._gate_gains: Gains | None = None
        self.groups = NodeGroups(t)
        self.rng = np.random.default_rng(env.seed)
        self.tight = np.flatnonzero(self.groups.tight_item)
        tight_nodes = np.flatnonzero(self.groups.tight_node)
        self.node_of = np.searchsorted(tight_nodes, t.item_node[self.tight])
        self.cap = t.capacity_bytes[tight_nodes]
        self.sizes = t.item_bytes[self.tight]
        total = self.groups.total_bytes[tight_nodes]
        self.logy = np.log(self.cap / total)[self.node_of] if len(self.tight) else np.zeros(0)
        self.D2 = float(np.sum(self.cap * np.log(total / self.cap))) if len(self.tight) else 0.0
        self.C = float(self.cap.sum())
        self.G = 0.0
        self.eta = 0.0
        self.u = self.rng.random(len(self.tight))
        self.y = np.ones(t.n_items)
        self.y[self.tight] = np.exp(self.logy)
        self.cum = np.zeros(t.n_pairs)
        self.seen = 0
        self.search = LocalSearch(self.groups) if options.get("rounding", "local") == "local" else None
        self._gains = env.nominal
        self._round()

    def _eligible(self) -> np.ndarray:
        if self.env.w_update <= 0:
            return np.ones(self.table.n_items, dtype=bool)
        return self.x | (self.earned >= self.env.w_update * self.table.item_bytes)

    def _round(self) -> None:
        yt = self.y[self.tight]
        prio = np.ones(self.table.n_items)
        if self.search is not None:
            self._round_local()
            return
        if self.options.get("rounding", "local") == "coupled":
            # thresholded items first (largest y kept if over memory), then free memory filled by y
            prio[self.tight] = np.where(self.u < yt, 2.0 + yt, yt)
        else:
            prio[self.tight] = yt
        x = self.groups.greedy_fill(prio, self._eligible())
        self.earned[self.x & ~x] = 0.0  # an evicted item must earn its fetch again
        self.x = x

    def _round_local(self) -> None:
        eligible = self._eligible()
        cand = eligible & (self.y >= self.options.get("support", 0.0))
        x = self.x & (cand | ~self.groups.tight_item)
        if self.seen:
            mean = float(self._gains.pair_gain(x) @ self.cum) / self.seen
            tol = max(1e-12, self.options.get("hysteresis", 0.01) * mean)
            if self.options.get("leader", True) and len(self.tight) and self.seen >= 8 and self.seen & (self.seen - 1) == 0:
                # the gain alone (the gate prices fetches): w_update 0, only eligible items
                lead = solve_static(replace(self.env, w_update=0.0), [(self._gains, self.cum)], allowed=cand)
                if float(self._gains.pair_gain(lead) @ self.cum) > mean * self.seen + tol:
                    x = lead
            x = self.search.improve(x, cand, self.cum, self._gains, tol, max(1, self.options.get("rounds", 1)))
        # free memory filled by y (stored items first, so they all stay)
        x = self.groups.greedy_fill(self.y + 2.0 * x, eligible & (x | cand))
        self.earned[self.x & ~x] = 0.0
        self.x = x

    def _learn_gate(self, counts: np.ndarray, gains: Gains) -> None:
        t = self.table
        if gains is not self._gate_gains:
            self._gate_gains, self._best = gains, best_options(t, gains)
        best = self._best
        have = gains.pair_gain(self.x)[t.opt_pair[best]]
        save = counts[t.opt_pair[best]] * np.maximum(0.0, gains.gain[best] - have)
        self.earned += np.bincount(t.opt_item[best], weights=save, minlength=t.n_items)

    def observe(self, t: int, counts: np.ndarray, gains: Gains) -> None:
        self.cum += counts
        self.seen += 1
        self._gains = gains
        if self.env.w_update > 0:
            self._learn_gate(counts, gains)
        if len(self.tight) and counts.any():
            self._step(t, counts, gains)
        self._round()

    def _step(self, t: int, counts: np.ndarray, gains: Gains) -> None:
        g = gains.supergradient(self.y, counts)[self.tight]
        self.G = max(self.G, float(np.max(np.abs(g) / self.sizes)))
        if self.G <= 0:
            return
        eta = self.options.get("eta") or self.options.get("eta_scale", 1.0) * np.sqrt(2 * self.D2 / (self.C * self.env.n_slots)) / self.G
        self.eta = float(eta)
        self.logy = project_log(self.logy + eta * g / self.sizes, self.node_of, self.sizes, self.cap)
        self.y[self.tight] = np.exp(self.logy)
        refresh = self.options.get("refresh", 0)
        if refresh and (t + 1) % refresh == 0:
            self.u = self.rng.random(len(self.tight))

    def info(self) -> dict:
        T = self.env.n_slots
        return {
            "bound": "fractional gain regret <= G * sqrt(2 * D2 * C * T)",
            "D2_bytes": self.D2,
            "C_bytes": self.C,
            "G_per_byte": self.G,
            "T_slots": T,
            "regret_bound": self.G * float(np.sqrt(2 * self.D2 * self.C * T)),
            "last_eta": self.eta,
        }
