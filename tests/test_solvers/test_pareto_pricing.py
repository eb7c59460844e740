"""Column generation for the Pareto MILP: exact fronts from a deliberately tiny route pool.

The pool keeps 1 or 2 routes per class (``max_routes``), far from complete;
``epsilon`` with pricing must still return the enumerated front point for
point and certify it, where the pool-only method misses points.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import ROOT, contested_instance_data, instance_from_data, random_instance_data
from pareto_oracles import enumerated_front

from placement import evaluate
from solvers.candidates import candidate_routes
from solvers.pareto import pareto
from solvers.pareto.mip import OBJ_SCALE, ObjectiveMILP
from solvers.pareto.pool import RoutePool
from solvers.registry import SolveOptions

OBJ4 = ["latency", "inaccuracy", "energy", "network"]
CASES = [("rand", 0), ("rand", 6), ("cont", 2), ("cont", 3)]
OBJECTIVE_SETS = [["latency", "energy"], ["energy", "network"], ["latency", "inaccuracy", "network"]]


def _instance(kind: str, seed: int, tmp_path, routing: str = "unsplittable"):
    data = random_instance_data(seed, routing=routing, tight=True) if kind == "rand" else contested_instance_data(seed, routing=routing)
    return instance_from_data(data, tmp_path)


def _sorted(F: np.ndarray) -> np.ndarray:
    return F[np.lexsort(F.T[::-1])] if len(F) else F


def _same(F: np.ndarray, exact: np.ndarray) -> bool:
    F = _sorted(F)
    return F.shape == exact.shape and np.allclose(F, exact, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("kind,seed", CASES)
@pytest.mark.parametrize("objectives", OBJECTIVE_SETS)
@pytest.mark.parametrize("max_routes", [1, 2])
def test_priced_epsilon_from_a_tiny_pool_equals_the_enumerated_front(kind, seed, objectives, max_routes, tmp_path):
    inst = _instance(kind, seed, tmp_path)
    exact = enumerated_front(inst, objectives)
    front = pareto(inst, "epsilon", objectives, max_routes=max_routes)
    assert not front.options["pool_complete"] and front.options["price"]
    assert _same(front.F, exact), (_sorted(front.F), exact)
    assert front.status == "exact"
    assert all(p.plan.stats["certified"] for p in front.points)
    assert any("of" in n and "points certified" in n for n in front.notes)
    for p in front.points:
        ev = evaluate(inst, p.plan)
        assert ev.feasible, ev.violations
        assert not ev.mismatches, ev.mismatches


@pytest.mark.parametrize("objectives", [["latency", "energy"], ["energy", "network"]])
def test_pool_only_epsilon_misses_front_points_there(objectives, tmp_path):
    """The same tiny pool without pricing: exact only within the pool, and the front differs."""
    inst = _instance("rand", 6, tmp_path)
    exact = enumerated_front(inst, objectives)
    front = pareto(inst, "epsilon", objectives, max_routes=1, price=False)
    assert front.status == "heuristic"
    assert len(front.points) < len(exact)
    assert not _same(front.F, exact)
    assert not any(p.plan.stats["certified"] for p in front.points)


def test_priced_epsilon_with_four_objectives_and_a_grid(tmp_path):
    """A grid (points=N) with pricing: every point is a certified point of the enumerated front."""
    inst = _instance("rand", 6, tmp_path)
    exact = enumerated_front(inst, OBJ4)
    front = pareto(inst, "epsilon", OBJ4, max_routes=1, points=3)
    assert front.status == "heuristic"  # a grid never claims the complete front
    for f, p in zip(front.F, front.points):
        assert p.plan.stats["certified"]
        assert np.any(np.all(np.isclose(exact, f, rtol=1e-7, atol=1e-12), axis=1)), f


def test_priced_weights_find_the_same_supported_points_as_the_complete_pool(tmp_path):
    inst = _instance("cont", 3, tmp_path)
    full = pareto(inst, "weights", ["latency", "energy"], points=4)
    tiny = pareto(inst, "weights", ["latency", "energy"], points=4, max_routes=1)
    assert full.options["pool_complete"] and not tiny.options["pool_complete"]
    np.testing.assert_allclose(_sorted(tiny.F), _sorted(full.F), rtol=1e-7, atol=1e-12)
    assert all(p.plan.stats["certified"] for p in tiny.points)


def _counts(front) -> tuple[int, int]:
    """(solves certified by completion, solves left uncertified) from the front's notes."""
    got = re.search(r"(\d+) solves certified by reduced-cost completion, (\d+) left uncertified", front.notes[0])
    assert got, front.notes
    return int(got.group(1)), int(got.group(2))


def test_completion_certifies_what_the_lp_bound_alone_cannot(tmp_path):
    """Here pool MILPs stay above the LP bound: reduced-cost completion certifies them; allowed only one
    route per class (completion=1), the solves and the front are reported uncertified, never exact."""
    inst = _instance("cont", 3, tmp_path)
    front = pareto(inst, "epsilon", ["latency", "energy"], max_routes=1)
    completed, uncertified = _counts(front)
    assert completed > 0 and uncertified == 0 and front.status == "exact"
    capped = pareto(inst, "epsilon", ["latency", "energy"], max_routes=1, completion=1)
    completed_capped, uncertified = _counts(capped)
    assert completed_capped < completed and uncertified > 0
    assert capped.status == "heuristic"
    assert not all(p.plan.stats["certified"] for p in capped.points)


@pytest.mark.parametrize("objectives", [["energy", "network"], ["network", "inaccuracy", "latency"]])
def test_pricing_reduced_costs_equal_the_solvers(objectives, tmp_path):
    """Every route in the model: its reduced cost by the enumeration's prices (objective rows, the network
    price per byte, resource and convexity duals) equals the LP's own reduced cost of its column."""
    inst = _instance("rand", 6, tmp_path)
    pool = RoutePool.build(inst, 2, tuple(objectives))
    milp = ObjectiveMILP(inst, pool, objectives, SolveOptions(extra={}), price=True)
    p = len(objectives)
    m = milp.master

    def lp_F(weights):  # F of the LP optimum over the whole route space
        assert milp.pricer._lp(OBJ_SCALE * weights / milp.scale)[0] is not None
        m.set_integrality(False)
        return m.solve().y @ milp.Cg

    k = p - 1
    free, best = lp_F(np.eye(p)[0]), lp_F(np.eye(p)[k])
    assert free[k] > best[k] * (1 + 1e-6)
    bounds = np.full(p, np.inf)
    bounds[k] = 0.5 * (free[k] + best[k])  # feasible (the midpoint of two LP solutions), and binding
    milp._set_bounds(bounds)
    w = OBJ_SCALE * np.eye(p)[0] / milp.scale
    lb, duals = milp.pricer._lp(w)
    assert lb is not None
    m.set_integrality(False)
    sol = m.solve()
    assert sol.optimal
    col_dual = np.array(m.h.getSolution().col_dual)
    assert np.any(np.abs(sol.row_dual[milp.rows]) > 1e-9)  # the objective rows do price
    weighted = milp.pricer.weighted_instance(w, sol.row_dual)
    checked = 0
    for cls, demand in enumerate(inst.demands):
        prices = milp.pricer.class_prices(cls, w, sol.row_dual)
        for cand in candidate_routes(weighted, demand, prices=prices).iterate():
            pos = m.route_index.get(cand.route)
            if pos is not None:
                assert cand.score == pytest.approx(col_dual[m.col_of_y[pos]], rel=1e-6, abs=1e-6)
                checked += 1
    assert checked == len(m.columns)


def test_splittable_priced_points_match_the_complete_pool_and_are_certified_by_the_lp_bound(tmp_path):
    """Splittable routing: no completion; a point is certified only when the MILP meets the LP bound.
    The certified points from a 1-route pool are those of the complete pool (same grid)."""
    from pareto_oracles import feasible_vectors

    inst = _instance("cont", 3, tmp_path, routing="splittable")
    full = pareto(inst, "epsilon", ["latency", "energy"], points=4)
    tiny = pareto(inst, "epsilon", ["latency", "energy"], points=4, max_routes=1)
    assert full.options["pool_complete"] and not tiny.options["pool_complete"]
    every = feasible_vectors(inst, ["latency", "energy"])  # unsplittable plans are splittable plans too
    for f, p in zip(tiny.F, tiny.points):
        assert evaluate(inst, p.plan).feasible
        assert not np.any(np.all(every <= f * (1 - 1e-9), axis=1))
    certified = np.array([f for f, p in zip(tiny.F, tiny.points) if p.plan.stats["certified"]])
    assert len(certified)
    for f in certified:
        assert np.any(np.all(np.isclose(full.F, f, rtol=1e-5, atol=1e-12), axis=1)), f  # a continuum: within the solves' tolerances


def test_three_objective_grid_on_idn10_survives_a_troubled_warm_lp():
    """HiGHS's warm dual simplex ended one of these LPs with status 'Not Set'; the master re-solves it cold."""
    from placement import load_instance

    inst = load_instance(ROOT / "instances" / "idn-10.yaml")
    front = pareto(inst, "epsilon", ["latency", "energy", "network"], points=4)
    assert len(front.points) >= 4
    for p in front.points:
        assert evaluate(inst, p.plan).feasible
