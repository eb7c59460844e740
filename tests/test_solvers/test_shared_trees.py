"""Shared origin trees for leaf devices and price-aware pair bounds (solvers.candidates).

A leaf's tree is its access point's tree re-rooted: it must equal the leaf's
own Dijkstra array for array, or not be used. Pair bounds under prices must
stay below the reduced cost of every route of their (model, end node), and
pricing must return the same routes in the same score order as without them.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import instance_from_data, random_instance_data

from placement import enumerate_routes, route_figures
from placement.kernel import request_cost
from solvers import price_bounds
from solvers.candidates import LayerMasks, Prices, candidate_routes, pair_bounds
from solvers.origin_trees import OriginTree, _bound_keys, bound_keys, origin_tree


def with_leaves(seed: int, *, leaves: int = 4, ties: bool = False, zero_leaf: bool = False) -> dict:
    """A random instance plus ``leaves`` devices hanging off random nodes by one link,
    each the origin of a class. ``ties``: every link latency 1 ms (many equal paths)."""
    import random

    rng = random.Random(1000 + seed)
    data = random_instance_data(seed, nodes=6 + seed % 4, max_segments=2, layers=4)
    hosts = [n["id"] for n in data["nodes"]]
    if ties:
        for link in data["links"]:
            link["latency_s"] = 0.001
    for i in range(leaves):
        leaf = f"leaf{i}"
        data["nodes"].append({"id": leaf, "device": rng.choice(["mcu", "cpu"]), "tier": "device"})
        lat = 0.0 if zero_leaf and i == 0 else rng.choice([0.001, 0.003, 0.0005])
        data["links"].append({"u": rng.choice(hosts), "v": leaf, "bandwidth_bytes_per_s": 1.0e4, "latency_s": lat, "energy_j_per_byte": 1.0e-6})
        data["demand"].append({"origin": leaf, "task": "t", "rate_rps": 1.0, "max_latency_s": 5.0, "min_accuracy": 0.0})
    return data


def assert_same_tree(a: OriginTree, b: OriginTree) -> None:
    va, vb = vars(a), vars(b)
    assert set(va) == set(vb)
    for key in va:
        if key in ("memo", "_index"):
            continue
        x, y = va[key], vb[key]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, key
            assert np.array_equal(x, y), key
        else:
            assert x == y, key
    assert a.index == b.index


@pytest.mark.parametrize("seed", range(12))
def test_rerooted_leaf_tree_equals_own_tree(tmp_path, seed):
    inst = instance_from_data(with_leaves(seed, ties=seed % 3 == 1, zero_leaf=seed % 4 == 2), tmp_path)
    for i in range(4):
        leaf = f"leaf{i}"
        parent = inst.network.reroot_parent(leaf)
        shared = origin_tree(inst, leaf)
        own = OriginTree(inst, leaf)
        assert_same_tree(shared, own)
        if parent is not None:
            rerooted = OriginTree.reroot(inst, origin_tree(inst, parent), leaf)
            if rerooted is not None:
                assert_same_tree(rerooted, own)
        assert all(np.array_equal(x, y) for x, y in zip(bound_keys(shared), _bound_keys(own)))
        for model in inst.models.values():
            got = pair_bounds(inst, shared, model)
            want = pair_bounds(inst, own, model)
            assert all(np.array_equal(x, y) for x, y in zip(got, want))


def test_leaves_are_rerooted_on_a_tree_network(tmp_path):
    """On a tree (no ties, positive latencies) every leaf shares its parent's tree."""
    data = with_leaves(3, leaves=5)
    data["links"] = [link for link in data["links"] if link["v"].startswith("leaf") or int(link["v"][1:]) > 0]
    seen, tree_links = set(), []
    for link in data["links"]:  # keep a spanning tree: one link per non-root node
        if link["v"] not in seen:
            seen.add(link["v"])
            tree_links.append(link)
    data["links"] = tree_links
    inst = instance_from_data(data, tmp_path)
    shared = 0
    for i in range(5):
        leaf = f"leaf{i}"
        parent = inst.network.reroot_parent(leaf)
        assert parent is not None
        tree = OriginTree.reroot(inst, origin_tree(inst, parent), leaf)
        assert tree is not None
        assert_same_tree(tree, OriginTree(inst, leaf))
        shared += 1
    assert shared == 5


def test_zero_latency_and_ties_fall_back(tmp_path):
    """A zero-latency leaf link, or a parent tree with ties, is never re-rooted."""
    inst = instance_from_data(with_leaves(2, zero_leaf=True), tmp_path)
    assert inst.network.reroot_parent("leaf0") is None
    inst = instance_from_data(with_leaves(1, ties=True, leaves=6), tmp_path)
    net = inst.network
    for i in range(6):
        parent = net.reroot_parent(f"leaf{i}")
        if parent is not None:  # then the parent's tree has a single tight link into every node
            assert net._reroot_margin(parent) > 0


def random_prices(inst, rng: np.random.Generator, scale: float, masks: bool = False) -> Prices:
    """Random prices; with ``masks`` the forbidden layers come as a :class:`LayerMasks` (tables per model)."""
    n_dirs = 2 * len(inst.links)
    node = rng.choice([0.0, 0.0, 1.0, 30.0], size=len(inst.nodes)) * rng.random(len(inst.nodes))
    link = rng.choice([0.0, 0.0, 1e-4, 1e-3], size=n_dirs) * rng.random(n_dirs)
    storage, forbidden = {}, {}
    for v in range(len(inst.nodes)):
        for m in inst.models.values():
            if rng.random() < 0.3:
                storage[(v, m.id)] = rng.random(m.n_layers) * 0.01
            if rng.random() < 0.15:
                forbidden[(v, m.id)] = rng.random(m.n_layers) < 0.5
    return Prices(scale, float(rng.random()), node, link, storage, LayerMasks(forbidden) if masks else forbidden)


def lb_cost_of(inst, tree, model) -> np.ndarray:
    lb_lat, lb_en = pair_bounds(inst, tree, model)
    fits = np.isfinite(lb_lat)
    return np.where(fits, request_cost(inst.weights, np.where(fits, lb_lat, 0.0), model.accuracy, lb_en), np.inf)


def fits_memory(inst, route) -> bool:
    model = inst.models[route.model]
    return all(model.segment_param_bytes(s.first, s.last) <= inst.node[s.node].memory_bytes
               and model.segment_peak_activation(s.first, s.last) <= inst.node[s.node].ram_bytes for s in route.segments)


def reduced_cost(inst, prices: Prices, route) -> float:
    """The reduced cost of ``route`` from the evaluator's figures (independent of the block arithmetic)."""
    fig = route_figures(inst, route)
    model = inst.models[route.model]
    cost = request_cost(inst.weights, fig.latency_s, model.accuracy, fig.energy_j)
    pen = sum(prices.node[inst.node[v].index] * s for v, s in fig.compute_s.items())
    pen += sum(prices.link[inst.network.direction_index(a, b)] * b_ for (a, b), b_ in fig.link_bytes.items())
    for seg in route.segments:
        st = prices.storage.get((inst.node[seg.node].index, model.id))
        if st is not None:
            pen += float(st[seg.first : seg.last + 1].sum())
        bad = prices.forbidden.get((inst.node[seg.node].index, model.id))
        if bad is not None and bad[seg.first : seg.last + 1].any():
            return np.inf
    return prices.scale * cost - prices.offset + pen


def refined_bounds(inst, tree, cs, prices) -> dict:
    """Per (model id, end node) of the candidate set: the larger of its search bound (grouped stage) and
    :func:`price_bounds.priced_pair_bounds` refined everywhere (the exact stage); both must be lower bounds."""
    out = {}
    for mi, model in enumerate(cs.models):
        rows = cs.pair_model == mi
        fine = price_bounds.priced_pair_bounds(inst, tree, model, prices, lb_cost_of(inst, tree, model), cs.k_max, cs.slo)
        for lb, t in zip(cs.pair_lb[rows], cs.pair_target[rows]):
            out[(model.id, tree.nodes[int(t)])] = max(float(lb), float(fine[int(t)]))
    return out


@pytest.mark.parametrize("seed", range(24))
def test_priced_pair_bounds_are_lower_bounds(tmp_path, seed):
    data = random_instance_data(seed, nodes=5 + seed % 3, max_segments=1 + seed % 3, layers=4, tight=seed >= 5)
    for i, dem in enumerate(data["demand"]):  # SLOs that bind for some routes
        dem["max_latency_s"] = [0.02, 0.05, 0.1, 0.3][(seed + i) % 4]
    inst = instance_from_data(data, tmp_path)
    rng = np.random.default_rng(seed)
    for d in inst.demands:
        prices = random_prices(inst, rng, float(rng.choice([1e-9, 0.5, 2.0])), masks=seed % 2 == 1)
        tree = origin_tree(inst, d.origin)
        cs = candidate_routes(inst, d, respect_slo=False, respect_accuracy=False, prices=prices)
        bound = refined_bounds(inst, tree, cs, prices)
        with_slo = candidate_routes(inst, d, respect_accuracy=False, prices=prices)  # bounds may use the SLO
        bound_slo = refined_bounds(inst, tree, with_slo, prices)
        floors = 0
        scores = {c.route: c.score for c in cs.iterate()}
        for route in enumerate_routes(inst, d.index):
            rc = reduced_cost(inst, prices, route)
            if route in scores:  # the block arithmetic (storage and forbidden layers included) agrees
                assert scores[route] == pytest.approx(rc, rel=1e-9, abs=1e-12)
            else:
                assert rc == np.inf or not fits_memory(inst, route)
            pair = (route.model, route.segments[-1].node)
            if pair not in bound:  # dropped: no layer suffix of the model fits the end node
                assert not fits_memory(inst, route)
                continue
            lb = bound[pair]
            if fits_memory(inst, route):  # bounds hold for the routes the search keeps
                assert lb <= rc + 1e-9 * max(1.0, abs(rc))
                if route_figures(inst, route).latency_s <= d.max_latency_s:
                    assert bound_slo[(route.model, route.segments[-1].node)] <= rc + 1e-9 * max(1.0, abs(rc))
            t = tree.index[route.segments[-1].node]
            floors += lb > prices.key_bound(lb_cost_of(inst, tree, inst.models[route.model]))[t] + 1e-12
        assert floors > 0  # the price terms are exercised


@pytest.mark.parametrize("seed", range(10))
def test_priced_enumeration_unchanged_by_floor(tmp_path, seed, monkeypatch):
    """Same reduced costs in the same order, the same routes at each, with and without the price floor."""
    data = random_instance_data(seed, nodes=5 + seed % 3, max_segments=1 + seed % 3, layers=4, tight=seed >= 5)
    inst = instance_from_data(data, tmp_path)
    rng = np.random.default_rng(100 + seed)
    for d in inst.demands:
        prices = random_prices(inst, rng, float(rng.choice([0.5, 2.0])))
        stop = float(rng.choice([0.0, np.inf]))
        new = list(candidate_routes(inst, d, prices=prices).iterate(stop=stop))
        assert [c.route for c in candidate_routes(inst, d, prices=prices, stop=stop).iterate(stop=stop)] == [c.route for c in new]
        with monkeypatch.context() as mp:
            mp.setattr(price_bounds, "lazy_pair_bounds", lambda inst, tree, model, prices, lb_cost, k_max, slo=None, stop=np.inf: (prices.key_bound(lb_cost), None))
            old = list(candidate_routes(inst, d, prices=prices).iterate(stop=stop))
        assert [c.score for c in new] == pytest.approx([c.score for c in old], rel=1e-12, abs=1e-15)
        groups_new, groups_old = {}, {}
        for c in new:
            groups_new.setdefault(round(c.score, 9), set()).add(c.route)
        for c in old:
            groups_old.setdefault(round(c.score, 9), set()).add(c.route)
        assert groups_new == groups_old
        if new:
            assert new[0].score == min(reduced_cost(inst, prices, r) for r in (c.route for c in old))


@pytest.mark.parametrize("seed", range(16))
def test_pair_latency_bounds_count_the_last_segment(tmp_path, seed, monkeypatch):
    """pair_bounds' latency is at most every route's that fits memory (+inf only where none does), and
    counting the suffix on the end node's own device raises it above the fastest-device bound somewhere."""
    from solvers import candidates

    data = random_instance_data(seed, nodes=5 + seed % 3, max_segments=1 + seed % 3, layers=4, tight=seed >= 4)
    inst = instance_from_data(data, tmp_path)
    raised = 0
    for d in inst.demands:
        tree = origin_tree(inst, d.origin)
        for model in inst.models_for(d):
            lb_lat, _ = pair_bounds(inst, tree, model)
            for route in enumerate_routes(inst, d.index):
                if route.model == model.id and fits_memory(inst, route):
                    assert lb_lat[tree.index[route.segments[-1].node]] <= route_figures(inst, route).latency_s * (1 + 1e-9)
            with monkeypatch.context() as mp:
                mp.setattr(candidates, "_tail_extra", lambda tree, model, suffix: np.zeros(len(tree.nodes)))
                without, _ = pair_bounds(inst, OriginTree(inst, d.origin), model)
            assert np.all(lb_lat >= without)
            raised += int(np.sum(lb_lat > without * (1 + 1e-6)))
    assert raised > 0
