"""Route latency, energy and cost against figures computed by hand.

The line instance (helpers.line_instance_data): a -(1e4 B/s, 10 ms, 1 uJ/B)- b
-(1e5 B/s, 20 ms, 2 uJ/B)- c -(1e6 B/s, 5 ms, 0 J/B)- d; a, b are 'slow'
(1e6 MAC/s, 1 W), c, d 'fast' (1e8 MAC/s, 10 W). Model m: MACs 1e5, 2e5, 3e5;
out_bytes 1000, 500, 100; input 2000 B; accuracy 0.8.
"""

from __future__ import annotations

import math

import pytest

from placement import Route, Segment, route_figures
from placement.routes import RouteError, enumerate_routes

REL = 1e-12


def route(*segs, demand=0, model="m"):
    return Route(demand, model, tuple(Segment(n, a, b) for n, a, b in segs))


def test_all_on_origin_has_no_transfer(line_instance):
    fig = route_figures(line_instance, route(("a", 0, 2)))
    # 6e5 MACs at 1e6 MAC/s; no link is crossed
    assert fig.latency_s == pytest.approx(0.6, rel=REL)
    assert fig.energy_j == pytest.approx(0.6 * 1.0, rel=REL)
    assert fig.transfer_latency_s == 0.0
    assert fig.link_bytes == {}
    assert fig.path == ("a",)


def test_split_over_two_nodes_multi_hop(line_instance):
    fig = route_figures(line_instance, route(("a", 0, 0), ("c", 1, 2)))
    compute = 1e5 / 1e6 + 5e5 / 1e8  # 0.105
    cut = (1000 / 1e4 + 0.01) + (1000 / 1e5 + 0.02)  # a->b, b->c: 0.14
    result = (100 / 1e5 + 0.02) + (100 / 1e4 + 0.01)  # c->b, b->a: 0.041
    assert fig.latency_s == pytest.approx(compute + cut + result, rel=REL)
    assert fig.latency_s == pytest.approx(0.286, rel=REL)
    energy = 0.1 * 1 + 0.005 * 10 + 1000 * (1e-6 + 2e-6) + 100 * (2e-6 + 1e-6)
    assert fig.energy_j == pytest.approx(energy, rel=REL)
    assert fig.energy_j == pytest.approx(0.1533, rel=REL)
    assert fig.compute_s == pytest.approx({"a": 0.1, "c": 0.005})
    assert fig.link_bytes == {("a", "b"): 1000, ("b", "c"): 1000, ("c", "b"): 100, ("b", "a"): 100}


def test_split_over_three_nodes_input_sent_first(line_instance):
    fig = route_figures(line_instance, route(("b", 0, 0), ("c", 1, 1), ("d", 2, 2)))
    parts = [
        2000 / 1e4 + 0.01,  # input a->b
        0.1,  # layer 0 on b (slow)
        1000 / 1e5 + 0.02,  # cut b->c
        2e5 / 1e8,  # layer 1 on c
        500 / 1e6 + 0.005,  # cut c->d
        3e5 / 1e8,  # layer 2 on d
        (100 / 1e6 + 0.005) + (100 / 1e5 + 0.02) + (100 / 1e4 + 0.01),  # result d->a
    ]
    assert fig.latency_s == pytest.approx(sum(parts), rel=REL)
    assert fig.latency_s == pytest.approx(0.3966, rel=REL)
    energy = 0.1 * 1 + 0.002 * 10 + 0.003 * 10 + 2000 * 1e-6 + 1000 * 2e-6 + 500 * 0 + 100 * (0 + 2e-6 + 1e-6)
    assert fig.energy_j == pytest.approx(energy, rel=REL)
    assert fig.energy_j == pytest.approx(0.1543, rel=REL)


def test_whole_model_remote_sends_input_and_returns_result(line_instance):
    fig = route_figures(line_instance, route(("d", 0, 2)))
    inp = (2000 / 1e4 + 0.01) + (2000 / 1e5 + 0.02) + (2000 / 1e6 + 0.005)
    res = (100 / 1e6 + 0.005) + (100 / 1e5 + 0.02) + (100 / 1e4 + 0.01)
    assert fig.latency_s == pytest.approx(inp + 6e5 / 1e8 + res, rel=REL)


def test_route_cost_uses_weights(line_instance):
    fig = route_figures(line_instance, route(("a", 0, 0), ("c", 1, 2)))
    # weights: latency 1, inaccuracy 1, energy 0.5
    assert fig.cost(line_instance) == pytest.approx(0.286 + 0.2 + 0.5 * 0.1533, rel=REL)


@pytest.mark.parametrize(
    "segs, message",
    [
        ((("a", 0, 1),), "cover layers"),
        ((("a", 0, 0), ("c", 2, 2)), "contiguously"),
        ((("c", 0, 0), ("b", 1, 2)), "not on the path"),
        ((("zz", 0, 2),), "unknown node"),
        ((("a", 0, 0), ("b", 1, 1), ("c", 2, 2), ("d", 3, 3)), "segments"),
    ],
)
def test_invalid_routes_are_explained(line_instance, segs, message):
    with pytest.raises(RouteError, match=message):
        route_figures(line_instance, route(*segs))


def test_enumeration_counts_every_split(line_instance):
    # model m (3 layers) and 'small' (1 layer); 4 end nodes at path positions 0..3;
    # k segments: choose k-1 earlier computing nodes on the path and k-1 cuts.
    routes = list(enumerate_routes(line_instance, 0))
    def count(n_layers, k_max):
        total = 0
        for last in range(4):
            for k in range(1, min(k_max, n_layers) + 1):
                total += math.comb(last, k - 1) * math.comb(n_layers - 1, k - 1)
        return total

    assert len(routes) == count(3, 3) + count(1, 3)
    assert len(set(routes)) == len(routes)
    for r in routes:  # every enumerated route is valid
        route_figures(line_instance, r)
