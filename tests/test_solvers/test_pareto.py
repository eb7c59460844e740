"""Pareto methods: exact fronts against enumeration, nsga against exact, every plan feasible."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import contested_instance_data, instance_from_data, line_instance_data, random_instance_data
from pareto_oracles import enumerated_front, feasible_vectors

from placement import evaluate
from placement.front import non_dominated
from solvers import MethodError, solve
from solvers.pareto import pareto
from solvers.pareto.common import additive_epsilon, hypervolume, reference_point
from solvers.pareto.mip import ObjectiveMILP
from solvers.pareto.pool import RoutePool
from solvers.registry import SolveOptions

OBJ4 = ["latency", "inaccuracy", "energy", "network"]
#: (generator, seed): tiny unsplittable instances whose fronts have several points
CASES = [("rand", 0), ("rand", 1), ("rand", 3), ("rand", 6), ("cont", 2), ("cont", 3)]


def _instance(kind: str, seed: int, tmp_path, routing: str = "unsplittable"):
    data = random_instance_data(seed, routing=routing, tight=True) if kind == "rand" else contested_instance_data(seed, routing=routing)
    return instance_from_data(data, tmp_path)


def _sorted(F: np.ndarray) -> np.ndarray:
    return F[np.lexsort(F.T[::-1])] if len(F) else F


def _all_feasible(inst, front) -> None:
    for p in front.points:
        ev = evaluate(inst, p.plan)
        assert ev.feasible, ev.violations
        assert not ev.mismatches, ev.mismatches
        got = [ev.metrics[f] for f in ("mean_latency_s", "mean_inaccuracy", "mean_energy_j", "network_bytes_per_s")]
        for name, value in p.objectives.items():
            assert value == pytest.approx(got[OBJ4.index(name)], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("kind,seed", CASES)
@pytest.mark.parametrize("objectives", [["latency", "energy"], ["latency", "inaccuracy", "network"], OBJ4])
def test_epsilon_front_equals_enumerated_front(kind, seed, objectives, tmp_path):
    inst = _instance(kind, seed, tmp_path)
    exact = enumerated_front(inst, objectives)
    front = pareto(inst, "epsilon", objectives)
    assert front.status == "exact"
    assert _sorted(front.F).shape == exact.shape
    np.testing.assert_allclose(_sorted(front.F), exact, rtol=1e-7, atol=1e-12)
    _all_feasible(inst, front)


@pytest.mark.parametrize("kind,seed", CASES)
def test_nsga2_hypervolume_within_one_percent_of_exact(kind, seed, tmp_path):
    inst = _instance(kind, seed, tmp_path)
    exact = enumerated_front(inst, OBJ4)
    front = pareto(inst, "nsga2", OBJ4, seed=1, pop=40, gens=30)
    ref = reference_point(exact, front.F)
    assert hypervolume(front.F, ref) >= 0.99 * hypervolume(exact, ref)
    _all_feasible(inst, front)


def test_nsga_and_weights_fronts_are_feasible_and_within_the_exact_front(tmp_path):
    inst = _instance("rand", 0, tmp_path)
    exact = enumerated_front(inst, OBJ4)
    for method in ("nsga3", "weights"):
        front = pareto(inst, method, OBJ4, seed=0)
        _all_feasible(inst, front)
        assert non_dominated(front.F).all()
        # no plan found is better than the exact front: exact covers it (additive epsilon 0)
        lo, hi = exact.min(axis=0), exact.max(axis=0)
        assert additive_epsilon(exact, front.F, lo, hi) <= 1e-9
    # weighted sums find supported points only: each is a point of the exact front
    weights = pareto(inst, "weights", OBJ4, points=4)
    for f in weights.F:
        assert np.any(np.all(np.isclose(exact, f, rtol=1e-7), axis=1))


def test_nsga2_seeded_runs_are_identical(tmp_path):
    inst = _instance("rand", 6, tmp_path)
    a = pareto(inst, "nsga2", OBJ4, seed=3, pop=20, gens=10)
    b = pareto(inst, "nsga2", OBJ4, seed=3, pop=20, gens=10)
    np.testing.assert_array_equal(a.F, b.F)


def test_splittable_epsilon_points_are_not_dominated_by_any_unsplittable_plan(tmp_path):
    inst = _instance("cont", 3, tmp_path, routing="splittable")
    front = pareto(inst, "epsilon", ["latency", "energy"])
    _all_feasible(inst, front)
    every = feasible_vectors(inst, ["latency", "energy"])  # unsplittable plans are splittable plans too
    for f in front.F:
        assert not np.any(np.all(every <= f * (1 - 1e-9), axis=1))


def test_objective_rows_bound_the_milp_like_enumeration(tmp_path):
    """Master's extra rows: min latency subject to energy <= e equals the enumerated optimum."""
    inst = _instance("rand", 0, tmp_path)
    F = feasible_vectors(inst, ["latency", "energy"])
    pool = RoutePool.build(inst, 200)
    milp = ObjectiveMILP(inst, pool, ["latency", "energy"], SolveOptions(mip_gap=1e-9))
    for e in np.quantile(F[:, 1], [0.0, 0.3, 0.7, 1.0]):
        got = milp.lexmin(0, np.array([np.inf, e]))
        ok = F[F[:, 1] <= e * (1 + 1e-12)]
        assert got is not None and got.F[0] == pytest.approx(ok[:, 0].min(), rel=1e-7)
        assert got.F[1] <= e * (1 + 1e-6)
    assert milp.lexmin(0, np.array([np.inf, F[:, 1].min() * 0.5])) is None


def test_pareto_methods_are_refused_by_solve_and_objectives_checked(tmp_path):
    inst = instance_from_data(line_instance_data(), tmp_path)
    with pytest.raises(MethodError, match="pareto method"):
        solve(inst, "epsilon")
    with pytest.raises(MethodError, match="unknown objective speed"):
        pareto(inst, "epsilon", ["latency", "speed"])
    with pytest.raises(MethodError, match="at least two"):
        pareto(inst, "nsga2", ["latency"])
    with pytest.raises(MethodError, match="static method|pareto"):
        pareto(inst, "greedy", ["latency", "energy"])


def test_indicators_by_hand():
    A = np.array([[0.0, 1.0], [1.0, 0.0]])
    B = np.array([[0.5, 0.5]])
    ref = np.array([2.0, 2.0])
    assert hypervolume(A, ref) == pytest.approx(3.0)
    assert hypervolume(B, ref) == pytest.approx(2.25)
    lo, hi = np.zeros(2), np.ones(2)
    assert additive_epsilon(A, B, lo, hi) == pytest.approx(0.5)
    assert additive_epsilon(B, A, lo, hi) == pytest.approx(0.5)
    assert additive_epsilon(A, A, lo, hi) == 0.0
    np.testing.assert_allclose(reference_point(A), [1.1, 1.1])
