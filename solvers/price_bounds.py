"""Lower bounds on the reduced cost of a (model, end node) pair's routes under prices.

:class:`solvers.candidates.CandidateSet` expands pairs in order of their
bound and yields a route once no unexpanded pair could hold a better one, so
pricing is exact only while these bounds never exceed a route's reduced cost
(tested against exhaustive enumeration under random prices), and fast only as
far as they are tight: on a large fleet most pairs end far from the origin,
where the price-free bound (:func:`solvers.candidates.pair_bounds`) is weak.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from placement.instance import Instance, Model
from placement.kernel import SOLVER_RTOL, within

from .candidates import Prices, _cum_by_device, _tail_groups, hop_take, pair_bounds, storage_tables
from .origin_trees import OriginTree, bound_keys


def priced_pair_bounds(instance: Instance, tree: OriginTree, model: Model, prices: Prices, lb_cost: np.ndarray, k_max: int, slo: float | None = None,
                       stop: float = np.inf) -> np.ndarray:
    """:func:`lazy_pair_bounds` refined wherever its bound is below ``stop``."""
    lb, refine = lazy_pair_bounds(instance, tree, model, prices, lb_cost, k_max, slo, stop)
    if refine is not None:
        idx = np.flatnonzero(lb < stop)
        if len(idx):
            lb[idx] = np.maximum(lb[idx], refine(idx))
    return lb


def lazy_pair_bounds(instance: Instance, tree: OriginTree, model: Model, prices: Prices, lb_cost: np.ndarray, k_max: int, slo: float | None = None,
                     stop: float = np.inf) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray] | None]:
    """Per tree node ``t``: a lower bound on the reduced cost of every route of
    ``model`` whose last computing node is ``t``, under ``prices``.

    Beyond ``prices.key_bound(lb_cost)`` (scaled cost bound of
    :func:`pair_bounds`), such a route pays prices it cannot avoid: if the
    origin computes the first ``c`` layers, their compute price there and the
    price of sending tensor ``c`` over the first link (the minimum over ``c``
    is taken together with the latency this choice costs); the price of at
    least the smallest tensor over every further link of the path; the
    result's price over every link back; and the compute price of at least
    the last layer at ``t``. Valid when node and link prices, the scale and the
    latency weight are >= 0 (else the cost bound alone); shaved by a relative
    1e-9 against rounding. The search stops on these bounds, so they must
    never exceed a route's reduced cost (tested against exhaustive enumeration).

    Returns the bounds and ``refine`` (None when there is nothing to refine):
    ``refine(idx)``, for tree nodes ``idx`` whose bound is below ``stop``, gives
    bounds as valid and usually higher (:func:`_last_segment_bound`'s exact
    stage), so a search can refine only the pairs it reaches.
    """
    fits = np.isfinite(lb_cost)  # +inf: no route ends there
    base = np.where(fits, prices.key_bound(np.where(fits, lb_cost, 0.0)), np.inf)
    a = prices.scale * instance.weights[0]
    if prices.scale < 0 or a < 0 or not prices.nonnegative():
        return base, None
    pair_bounds(instance, tree, model)
    key_base, first_lat = tree.memo.get(("key_base", model.id), None)
    _, key_hop, inverse = bound_keys(tree)
    node_pen, p_fwd, p_back = prices.path_sums(tree)
    n = model.n_layers
    head = model.cum_latency(tree.devices[int(tree.dev[0])])
    send = np.concatenate([[model.input_bytes], model.out_bytes[:-1]])
    hop = np.maximum(key_hop, 0)
    p_first = p_fwd[hop]  # price of the first link (forward) per key
    joint = (a * (key_base + send[None, :] * tree.first_inv[hop][:, None]) + node_pen[0] * head[None, :n] + p_first[:, None] * send[None, :]).min(axis=1)
    joint = np.where(key_hop < 0, (a + node_pen[0]) * head[n], joint)  # all at the origin
    gain = np.maximum(joint - a * first_lat - 1e-12 * np.abs(joint), 0.0)
    cum = _cum_by_device(model, tree)  # (D, n+1)
    last = (cum[:, n] - cum[:, n - 1])[tree.dev]  # the last layer on each node's device
    away = tree.depth > 0
    rest = float(send.min()) * (p_fwd - np.where(away, p_fwd[tree.first], 0.0)) + float(model.out_bytes[-1]) * p_back + np.where(away, node_pen * last, 0.0)
    out = base + (gain[inverse] + np.maximum(rest, 0.0)) * (1.0 - 1e-9)
    need = out < stop  # the finer bound only where the coarse one could let the pair be expanded
    if not need.any():
        return out, None
    grouped, refine = _last_segment_bound(instance, tree, model, prices, base, key_base, key_hop, inverse, k_max, slo, need)
    return np.maximum(out, grouped), refine


def _last_segment_bound(instance: Instance, tree: OriginTree, model: Model, prices: Prices, base: np.ndarray, key_base: np.ndarray, key_hop: np.ndarray, inverse: np.ndarray, k_max: int,
                        slo: float | None, need: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The bound of :func:`priced_pair_bounds` with the last segment on ``t`` itself.

    A route ending at ``t`` (not the origin) computes a suffix ``c2..n-1`` of the
    layers at ``t`` (on ``t``'s device, paying ``t``'s compute price), receives
    tensor ``c2`` over the link into ``t``; the origin computes ``0..c1-1``
    (``c1 <= c2``) and sends tensor ``c1`` over the first link; layers between
    run at best on the fastest device of the path and every other link carries
    at least the smallest tensor. The minimum over ``c1 <= c2`` is a prefix
    minimum, so this costs O(nodes x layers) per model. Only cuts whose
    origin and ``t`` segments fit those nodes' memory count (the filters every
    candidate passes; +inf where none fits), and those two segments pay their
    storage prices (none may use a forbidden layer). With at most two
    segments there is no origin segment and middle one both (``c1`` is 0 or
    ``c2``); with one, ``t`` computes everything. -inf at the origin.

    Two stages keep this cheap on a large fleet: first once per group of
    nodes alike in everything but their own prices and path lengths (path
    device set, first hop, device, hop into ``t``, memory), with ``t``'s compute,
    hop and storage prices counted only for the last layer and the smallest
    tensor and each path length at the group's least (so never above any
    member's bound), for every node of ``need``; then exactly, per node, by the
    returned ``refine(idx)``, only for the pairs a search reaches.
    """
    a = prices.scale * instance.weights[0]
    node_pen, p_fwd, p_back = prices.path_sums(tree)
    lb_lat, _ = pair_bounds(instance, tree, model)
    n = model.n_layers
    head = model.cum_latency(tree.devices[int(tree.dev[0])])
    send = np.concatenate([[model.input_bytes], model.out_bytes[:-1]])
    smallest, result = float(send.min()), float(model.out_bytes[-1])
    cum = _cum_by_device(model, tree)
    tail = cum[:, n : n + 1] - cum[:, :n]  # (D, n): layers c..n-1 on each device
    hop = np.maximum(key_hop, 0)
    fi, p1 = tree.first_inv[hop], p_fwd[hop]
    prefix = (key_base[:, :1] - head[0]) - (key_base - head[None, :n])  # per key: the fastest layers 0..c-1 on the path
    h = a * (head[None, :n] - prefix + send[None, :] * fi[:, None]) + node_pen[0] * head[None, :n] + p1[:, None] * send[None, :]
    # memory: the origin's segment 0..c1-1 and t's c2..n-1 must fit (the filters of model_block)
    cum_p, act = model.cum_param_bytes, model.peak_activation_bytes
    origin_ok = within(cum_p[:n] - cum_p[0], tree.mem[0], SOLVER_RTOL) & within(np.concatenate([[0.0], np.maximum.accumulate(act)[: n - 1]]), tree.ram[0], SOLVER_RTOL)
    origin_ok[0] = True  # nothing computed at the origin
    h = np.where(origin_ok[None, :], h, np.inf)
    tables = storage_tables(prices, model, len(instance.nodes))  # cumulative storage prices and forbidden counts (layers < c) per node
    if tables is not None and tables[0][tree.node_idx[0]] >= 0:
        r0 = tables[0][tree.node_idx[0]]
        h = np.where(tables[2][r0][None, :n] > 0, np.inf, h + tables[1][r0][None, :n])
    tail_params, tail_peak = cum_p[n] - cum_p[:n], np.maximum.accumulate(act[::-1])[::-1]
    if k_max >= 3:
        h_min = np.minimum.accumulate(h, axis=1)  # best c1 <= c2
    else:  # c1 = 0 (input to one middle node) or c1 = c2 (origin, then t)
        h_min = np.minimum(h[:, :1], h)
    if k_max <= 1:
        h_min[:, 1:] = np.inf  # t computes every layer
    pl = hop_take(prices.link, tree.hop_fwd, 0.0)
    mid_all = tree.d_inv - tree.first_inv - np.where(tree.depth >= 2, tree.hop_inv, 0.0)

    def least(k, dev, li, mem, ram, pen, link_pen, rest_lat, deep, nodes=None):
        """min over c2 of the last-segment terms, per row (key row, device, hop into t, memory, t's prices; rows of ``nodes`` pay their storage prices)."""
        t_tail = tail[dev]
        li = li[:, None]
        if deep:
            x = a * (prefix[k] + t_tail + send[None, :] * li) + pen[:, None] * t_tail + link_pen[:, None] * send[None, :]
            if slo is not None and k_max == 2:  # each of the two shapes only where its latency can meet the SLO
                lat_t = t_tail + send[None, :] * li + rest_lat[:, None]
                lat_own = head[None, :n] + send[None, :] * fi[k][:, None] + lat_t  # origin computes 0..c-1, t the rest
                lat_mid = prefix[k] + send[0] * fi[k][:, None] + lat_t  # one node between computes 0..c-1
                x = np.minimum(np.where(_meets(lat_own, slo), x + h[k], np.inf), np.where(_meets(lat_mid, slo), x + h[k][:, :1], np.inf))
            else:
                x = x + h_min[k]
        else:  # t is the first hop: no layers between, c1 = c2
            x = a * (head[None, :n] + t_tail + send[None, :] * li) + (node_pen[0] * head[None, :n] + link_pen[:, None] * send[None, :]) + pen[:, None] * t_tail
            if k_max <= 1:
                x[:, 1:] = np.inf
            if slo is not None and k_max <= 2:
                x = np.where(_meets(head[None, :n] + t_tail + send[None, :] * li + rest_lat[:, None], slo), x, np.inf)
        tail_ok = within(tail_params[None, :], mem[:, None], SOLVER_RTOL) & within(tail_peak[None, :], ram[:, None], SOLVER_RTOL)
        if not deep:
            tail_ok &= origin_ok[None, :]
        if nodes is not None and tables is not None:  # storage prices and forbidden layers of t's segment c2..n-1
            r = tables[0][nodes]
            has = np.flatnonzero(r >= 0)
            if len(has):
                cs, cb = tables[1][r[has]], tables[2][r[has]]
                x[has] = np.where(cb[:, n : n + 1] - cb[:, :n] > 0, np.inf, x[has] + (cs[:, n : n + 1] - cs[:, :n]))
        return np.where(tail_ok, x, np.inf).min(axis=1)

    def value(sel, k, x, deep):
        links = smallest * (p_fwd[sel] - p1[k] - (pl[sel] if deep else 0.0))  # pl x send(c2) is in x
        finite = np.isfinite(x)
        val = base[sel] - a * lb_lat[sel] + a * (smallest * np.maximum(mid_all[sel], 0.0) + result * tree.d_inv[sel] + 2 * tree.d_lat[sel]) + x + np.maximum(links, 0.0) + result * p_back[sel]
        return np.where(finite, val - 1e-9 * (np.abs(base[sel]) + a * lb_lat[sel] + np.abs(np.where(finite, x, 0.0))), np.inf)

    out = np.full(len(tree.nodes), -np.inf)
    rest_all = smallest * np.maximum(mid_all, 0.0) + result * tree.d_inv + 2 * tree.d_lat
    (_, g_dev, g_inv, g_mem, g_ram, _), group = tree.memo.get("tail_groups", lambda: _tail_groups(tree))
    for deep in (False, True):  # stage 1: per group, t's own prices at their least (last layer, smallest tensor), path lengths at the group's least
        sel = np.flatnonzero(need & ((tree.depth >= 2) if deep else (tree.depth == 1)))
        if not len(sel):
            continue
        k = inverse[sel]
        gs, first, grp = np.unique(group[sel], return_index=True, return_inverse=True)
        grp = grp.ravel()
        rest_g = np.full(len(gs), np.inf)
        np.minimum.at(rest_g, grp, rest_all[sel])
        zero = np.zeros(len(gs))
        x_g = least(k[first], g_dev[gs], g_inv[gs], g_mem[gs], g_ram[gs], zero, zero, rest_g, deep)[grp]
        out[sel] = value(sel, k, x_g + node_pen[sel] * tail[tree.dev[sel], n - 1] + pl[sel] * smallest, deep)

    def refine(idx: np.ndarray) -> np.ndarray:
        """Stage 2: the exact terms for tree nodes ``idx`` (-inf at the origin)."""
        got = np.full(len(idx), -np.inf)
        for deep in (False, True):
            rows = np.flatnonzero((tree.depth[idx] >= 2) if deep else (tree.depth[idx] == 1))
            if len(rows):
                se = idx[rows]
                x = least(inverse[se], tree.dev[se], tree.hop_inv[se], tree.mem[se], tree.ram[se], node_pen[se], pl[se], rest_all[se], deep, tree.node_idx[se])
                got[rows] = value(se, inverse[se], x, deep)
        return got

    return out, refine


def _meets(latency_lb: np.ndarray, slo: float) -> np.ndarray:
    """Where a latency lower bound (shaved against rounding) does not exceed the SLO."""
    return latency_lb * (1.0 - 1e-9) <= slo
