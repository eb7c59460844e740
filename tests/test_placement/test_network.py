"""The path rule: shortest by latency, ties by the smallest sequence of ids."""

from __future__ import annotations

import pytest

from placement.network import Link, Network


def net(edges):
    nodes = sorted({x for u, v, _ in edges for x in (u, v)})
    return Network(nodes, [Link(i, u, v, 1e6, lat, 0.0) for i, (u, v, lat) in enumerate(edges)])


def test_shortest_by_latency_not_hops():
    n = net([("a", "d", 0.5), ("a", "b", 0.1), ("b", "c", 0.1), ("c", "d", 0.1)])
    assert n.path("a", "d") == ("a", "b", "c", "d")
    assert n.reachable("a")["d"] == pytest.approx(0.3)


def test_equal_latency_tie_goes_to_smallest_id_sequence():
    n = net([("a", "z", 0.1), ("z", "d", 0.1), ("a", "m", 0.1), ("m", "d", 0.1)])
    assert n.path("a", "d") == ("a", "m", "d")
    assert n.path("d", "a") == ("d", "m", "a")


def test_rounding_differences_count_as_ties():
    # 0.1 + 0.2 != 0.3 in floating point; both paths are equally short
    n = net([("a", "x", 0.3), ("x", "t", 0.1), ("a", "b", 0.1), ("b", "c", 0.2), ("c", "t", 0.1)])
    assert n.path("a", "t") == ("a", "b", "c", "t")


def test_prefixes_of_paths_are_paths():
    edges = [("s", "a", 1.0), ("s", "b", 1.0), ("a", "c", 1.0), ("b", "c", 1.0), ("c", "t", 1.0), ("b", "t", 2.0)]
    n = net(edges)
    p = n.path("s", "t")
    for i in range(1, len(p)):
        assert n.path("s", p[i]) == p[: i + 1]


def test_unreachable_raises_key_error():
    n = Network(["a", "b", "c"], [Link(0, "a", "b", 1.0, 0.1, 0.0)])
    assert "c" not in n.reachable("a")
    with pytest.raises(KeyError):
        n.path("a", "c")


def test_path_arrays_give_transfer_costs():
    n = Network(["a", "b", "c"], [Link(0, "a", "b", 10.0, 0.5, 0.1), Link(1, "b", "c", 20.0, 0.25, 0.2)])
    pa = n.path_arrays(n.path("a", "c"))
    assert pa.transfer_s(100, 0, 2) == pytest.approx(100 / 10 + 0.5 + 100 / 20 + 0.25)
    assert pa.transfer_j(100, 2, 0) == pytest.approx(100 * 0.3)


def test_tie_where_one_predecessor_is_an_ancestor_of_the_other():
    # s-a-v (0.2 + 0.2) ties with s-a-b-v (0.2 + 0.1 + 0.1): compare whole sequences,
    # (s, a, b, v) < (s, a, v) because 'b' < 'v'
    n = net([("s", "a", 0.2), ("a", "v", 0.2), ("a", "b", 0.1), ("b", "v", 0.1)])
    assert n.path("s", "v") == ("s", "a", "b", "v")
    # and the other way round when the direct neighbour sorts first
    n = net([("s", "a", 0.2), ("a", "c", 0.2), ("a", "d", 0.1), ("d", "c", 0.1)])
    assert n.path("s", "c") == ("s", "a", "c")


def test_random_graphs_match_brute_force():
    import itertools
    import random

    import networkx as nx

    rng = random.Random(3)
    for trial in range(30):
        g = nx.gnm_random_graph(7, 11, seed=trial)
        if not nx.is_connected(g):
            continue
        edges = [(str(u), str(v), rng.choice([0.1, 0.2, 0.3])) for u, v in g.edges()]
        n = net(edges)
        lat = {frozenset((u, v)): w for u, v, w in edges}
        for s, t in itertools.permutations([str(x) for x in g.nodes], 2):
            paths = nx.all_simple_paths(nx.Graph([(u, v) for u, v, _ in edges]), s, t)
            scored = [(round(sum(lat[frozenset(p[i:i + 2])] for i in range(len(p) - 1)), 9), tuple(p)) for p in paths]
            assert n.path(s, t) == min(scored)[1]


@pytest.mark.parametrize("tiny", [0.0, 1e-15, 1e-300])
def test_zero_and_negligible_latencies_give_a_tree(tiny):
    # a zero (or below-tolerance) link makes both its ends equally far: no cycle,
    # every node reachable, every prefix a path
    edges = [("s", "a", 0.01), ("a", "b", tiny), ("b", "c", 0.01), ("a", "c", 0.01 + tiny), ("s", "b", 0.01)]
    n = net(edges)
    for t in "abc":
        p = n.path("s", t)
        assert p[0] == "s" and p[-1] == t and len(set(p)) == len(p)
        for i in range(1, len(p)):
            assert n.path("s", p[i]) == p[: i + 1]
    assert n.path("s", "b") == ("s", "a", "b") if tiny == 0.0 else True


def test_huge_latency_link_terminates():
    n = net([("s", "a", 1e30), ("a", "b", 0.01), ("b", "c", 0.01), ("a", "c", 0.01)])
    assert n.path("s", "c")[0] == "s" and n.path("s", "c")[-1] == "c"


def test_co_located_nodes_at_zero_latency():
    n = net([("cam", "gw", 0.0), ("gw", "edge", 0.002), ("cam", "edge", 0.002)])
    # both paths take 2 ms; (cam, edge) < (cam, gw, edge) lexicographically
    assert n.path("cam", "edge") == ("cam", "edge")
    assert n.reachable("cam")["gw"] == 0.0
