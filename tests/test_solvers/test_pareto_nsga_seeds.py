"""The route pool's shared enumeration (same routes as one enumeration per stream) and
nsga's initial population (the pool's lexicographic extremes under capacities)."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
from helpers import contested_instance_data, instance_from_data, random_instance_data

from solvers.candidates import candidate_routes
from solvers.pareto import pareto
from solvers.pareto.mip import ObjectiveMILP
from solvers.pareto.nsga import Encoding
from solvers.pareto.pool import STREAM_WEIGHTS, RoutePool
from solvers.pareto.streams import SharedRanking
from solvers.registry import SolveOptions

OBJ4 = ("latency", "inaccuracy", "energy", "network")


def _instance(kind: str, seed: int, tmp_path, **kw):
    data = random_instance_data(seed, routing="unsplittable", tight=True, **kw) if kind == "rand" else contested_instance_data(seed, routing="unsplittable")
    return instance_from_data(data, tmp_path)


def _separate(inst, demand, weights, n):
    other = copy.copy(inst)
    other.w_latency, other.w_inaccuracy, other.w_energy = weights
    return list(itertools.islice(candidate_routes(other, demand).iterate(), n))


@pytest.mark.parametrize("kind,seed", [("rand", 0), ("rand", 4), ("cont", 2), ("cont", 3)])
def test_shared_ranking_gives_each_streams_best_routes(kind, seed, tmp_path):
    inst = _instance(kind, seed, tmp_path, nodes=7, layers=4)
    weights = [inst.weights, *STREAM_WEIGHTS.values(), (2.0, 0.0, 0.5), (0.0, 0.0, 1.0)]
    checked = 0
    for demand in inst.demands:
        ranking = SharedRanking(inst, demand)
        for w in weights:  # one ranking answers every weighting, in any order
            for n in (1, 3, 7, 1000):
                want = _separate(inst, demand, w, n)
                got = ranking.top(w, n)
                assert len(got) == len(want)
                np.testing.assert_allclose([c.score for c in got], [c.score for c in want], rtol=1e-12, atol=1e-15)
                # the same routes, up to the order of equal scores (and which of several equal ones is n-th)
                full = _separate(inst, demand, w, n + 1)
                strict = [c.route for c in want if len(full) <= n or c.score < full[n].score - 1e-12]
                assert set(strict) <= {c.route for c in got}
                assert all(c.cost == pytest.approx(sum(np.multiply(inst.weights, (c.latency_s, 1 - inst.models[c.route.model].accuracy, c.energy_j)))) for c in got)
                checked += len(got)
    assert checked > 100


@pytest.mark.parametrize("kind,seed", [("rand", 0), ("rand", 2), ("rand", 4), ("cont", 2), ("cont", 3)])
@pytest.mark.parametrize("max_routes", [2, 4, 9])
@pytest.mark.parametrize("objectives", [("latency", "energy"), ("latency", "inaccuracy", "energy")])
def test_shared_pool_equals_the_pool_of_separate_streams(kind, seed, max_routes, objectives, tmp_path):
    inst = _instance(kind, seed, tmp_path, nodes=7, layers=4)
    shared = RoutePool.build(inst, max_routes, objectives)
    separate = RoutePool.build(inst, max_routes, objectives, shared=False)
    assert shared.complete == separate.complete
    np.testing.assert_array_equal(shared.start, separate.start)
    for c in range(len(inst.demands)):
        a = {shared.columns[g].route for g in shared.routes_of(c)}
        b = {separate.columns[g].route for g in separate.routes_of(c)}
        assert a == b, c
    np.testing.assert_allclose(np.sort(shared.C, axis=0), np.sort(separate.C, axis=0), rtol=1e-12)


def test_incomplete_pools_are_compared(tmp_path):
    """The comparison above is not vacuous: some of its pools are incomplete."""
    inst = _instance("rand", 0, tmp_path, nodes=7, layers=4)
    assert not RoutePool.build(inst, 2, ("latency", "energy")).complete


def test_network_objective_keeps_separate_streams(tmp_path):
    inst = _instance("rand", 0, tmp_path, nodes=7, layers=4)
    a, b = RoutePool.build(inst, 3, OBJ4), RoutePool.build(inst, 3, OBJ4, shared=False)
    assert [col.route for col in a.columns] == [col.route for col in b.columns]


def _pool_lexmin(inst, pool, objectives):
    milp = ObjectiveMILP(inst, pool, list(objectives), SolveOptions(seed=0))
    return [milp.lexmin(k, np.full(len(objectives), np.inf)).F for k in range(len(objectives))]


@pytest.mark.parametrize("seed,exact", [(1, True), (2, False), (3, True), (4, True)])
def test_initial_population_holds_the_lexicographic_extremes(seed, exact, tmp_path):
    """Each objective's per-class optimum, repaired towards that objective, is feasible and
    reaches the pool's lexicographic optimum under capacities (the pool MILP's) where the
    greedy repair can (seed 2: within 1 %), and nsga's front starts from it."""
    inst = _instance("cont", seed, tmp_path)
    objectives = ("latency", "energy")
    pool = RoutePool.build(inst, 60, objectives)
    enc = Encoding(inst, pool, list(objectives), seed=0)
    seeds = enc.repaired_seeds(10)
    assert (enc.violation(seeds) <= 0).all()
    F = enc.F(seeds)
    extremes = _pool_lexmin(inst, pool, objectives)
    for k, want in enumerate(extremes):
        if exact:
            assert np.any(np.all(np.isclose(F, want, rtol=1e-9), axis=1)), (k, want, F)
        else:
            assert F[:, k].min() <= want[k] * 1.01
    front = pareto(inst, "nsga2", list(objectives), seed=0, pop=10, gens=1, max_routes=60)
    for k in range(len(objectives)):
        assert front.F[:, k].min() <= F[:, k].min() * (1 + 1e-12)


def test_extremes_need_the_focused_repair(tmp_path):
    """On some contested instance the per-class energy optimum overloads, and the plain repair
    (largest overload reduction first) ends above the pool's least energy: the test above is not vacuous."""
    seen = 0
    for seed in (1, 2, 3, 4):
        (tmp_path / str(seed)).mkdir()
        inst = _instance("cont", seed, tmp_path / str(seed))
        pool = RoutePool.build(inst, 60, ("latency", "energy"))
        enc = Encoding(inst, pool, ["latency", "energy"], seed=0)
        x = enc.seeds(0)[1]  # per-class least energy
        if enc.violation(x[None])[0] <= 0:
            continue
        plain = enc.F(enc.repair_one(x, budget=50)[None])[0]
        best = _pool_lexmin(inst, pool, ("latency", "energy"))[1]
        seen += plain[1] > best[1] * (1 + 1e-9)
    assert seen >= 1
