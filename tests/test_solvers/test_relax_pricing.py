"""relax pricing: the early Lagrangian bound, partial passes and parallel passes.

The bound of column generation stopped at the gap tolerance must never
exceed the converged bound (valid for the whole route space) and must meet
it at convergence; partial and parallel passes must not change what a full
pass in one process finds.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import contested_instance_data, instance_from_data, random_instance_data

from placement import evaluate
from placement.instance import load_instance
from solvers import solve
from solvers.congestion import with_queueing
from solvers.registry import prepare
from solvers.relax import Relax
from solvers.relax_pricing import price_pass


def _inst(tmp_path, kind: str, seed: int, queueing: str):
    data = contested_instance_data(seed, routing="splittable") if kind == "contested" else random_instance_data(seed, tight=True, routing="splittable")
    data["options"]["queueing"] = queueing
    if queueing == "ps":
        data["options"]["max_utilization"] = min(data["options"]["max_utilization"], 0.9)
    return instance_from_data(data, tmp_path)


CASES = [("contested", 4, "none"), ("contested", 0, "ps"), ("contested", 1, "ps"), ("contested", 4, "ps"), ("random", 0, "ps")]


@pytest.mark.parametrize("kind,seed,queueing", CASES)
def test_early_bound_is_valid_and_the_plan_within_the_gap(tmp_path, kind, seed, queueing):
    inst = _inst(tmp_path, kind, seed, queueing)
    early = solve(inst, "relax", mip_gap=0.3)
    full = solve(inst, "relax", mip_gap=1e-9)
    assert full.stats["cg_stop_gap"] is None  # converged: the reference bound
    assert early.bound <= full.bound * (1 + 1e-9) + 1e-12
    assert early.gap <= 0.3 + 1e-12 and early.status == "optimal"
    ev = evaluate(inst, early)
    assert ev.feasible, ev.violations
    assert early.objective == pytest.approx(ev.objective, rel=1e-9)
    if early.stats["cg_stop_gap"] is not None:
        assert early.stats["cg_stop_gap"] <= 0.15 + 1e-12  # half the gap tolerance is left to rounding
        assert early.notes and "stopped early" in early.notes[-1]


def test_early_stop_happens_and_its_bound_is_below_the_converged_one(tmp_path):
    """contested 4 (none): one full pass proves the relaxation within 15 %, and the bound is then strictly lower."""
    inst = _inst(tmp_path, "contested", 4, "none")
    early = solve(inst, "relax", mip_gap=0.3)
    full = solve(inst, "relax", mip_gap=1e-9)
    assert early.stats["cg_stop_gap"] is not None and 0 < early.stats["cg_stop_gap"] <= 0.15
    assert early.bound < full.bound * (1 - 1e-3)
    assert early.stats["relaxation"] - early.bound == pytest.approx(early.stats["cg_stop_gap"] * early.stats["relaxation"], rel=1e-6)


@pytest.mark.parametrize("queueing", ["none", "ps"])
def test_partial_and_parallel_pricing_reach_the_same_bound(queueing):
    inst = with_queueing(load_instance("instances/idn-100.yaml"), queueing)
    ref = solve(inst, "relax", mip_gap=1e-9, partial_pricing=False)
    for extra in ({}, {"jobs": 2}):
        got = solve(inst, "relax", mip_gap=1e-9, **extra)
        assert got.stats["bound"] == pytest.approx(ref.stats["bound"], rel=1e-7)
        assert got.objective == pytest.approx(ref.objective, rel=1e-6)
    assert ref.stats["partial_passes"] == 0


def test_parallel_pass_equals_the_serial_pass():
    """Same prices: two forked processes find the same least reduced costs and the same routes as one."""
    from solvers.relax_model import RelaxModel

    inst = load_instance("instances/idn-100.yaml")
    _, opts = prepare(inst, "relax", "static", None, 1e-9, None, 0, False, {})
    rx = Relax(inst, opts)
    rx.initial_pool()
    model = RelaxModel(inst, rx.pool, rx.storage_nodes, None, fixed_rates=True)
    sol = model.solve()
    prices = model.class_prices(sol, model.server_prices(sol))
    classes = np.arange(len(inst.demands))
    one = price_pass(rx, classes, prices, 1e-9, frozenset(), None, jobs=1)
    two = price_pass(rx, classes, prices, 1e-9, frozenset(), None, jobs=2)
    assert one.complete and two.complete
    assert np.array_equal(np.sort(two.classes), classes)
    np.testing.assert_allclose(two.min_rc, one.min_rc, rtol=1e-12, atol=1e-15)
    assert [c.route for c in two.columns] == [c.route for c in one.columns]
    assert (one.min_rc < 0).any()  # the pass has something to find
    bound = model.lagrangian(sol, prices.offsets, one.min_rc)
    assert bound <= sol.objective * (1 + 1e-9)


def test_parallel_initial_routes_equal_the_serial_ones():
    inst = load_instance("instances/idn-100.yaml")
    pools = []
    for jobs in (1, 2):
        _, opts = prepare(inst, "relax", "static", None, 1e-9, None, 0, False, {"jobs": jobs})
        rx = Relax(inst, opts)
        rx.initial_pool()
        pools.append([c.route for c in rx.pool])
    assert pools[0] == pools[1] and len(pools[0]) >= len(inst.demands)


@pytest.mark.parametrize("queueing", ["none", "ps"])
def test_skipped_classes_could_not_price_below_their_floor(queueing):
    """A class is skipped only when its floor (rate x cheapest cost - offset) is >= -tol: pricing it finds nothing,
    its least reduced cost is >= the floor, and the pass with skips finds the same routes as the full one."""
    from solvers.relax_model import RelaxModel

    inst = with_queueing(load_instance("instances/idn-100.yaml"), queueing)
    _, opts = prepare(inst, "relax", "static", None, 1e-9, None, 0, False, {})
    rx = Relax(inst, opts)
    rx.initial_pool()
    assert np.isfinite(rx.min_cost).all()
    model = RelaxModel(inst, rx.pool, rx.storage_nodes, None, fixed_rates=True)
    sol = model.solve()
    prices = model.class_prices(sol, model.server_prices(sol))
    floor = prices.rates * rx.min_cost - prices.offsets
    classes = np.arange(len(inst.demands))
    tol = 1e-9
    every = price_pass(rx, classes, prices, tol, frozenset(), None)
    skip = price_pass(rx, classes, prices, tol, frozenset(), None, floor=floor)
    assert np.all(every.min_rc >= floor - 1e-9 * np.maximum(1.0, np.abs(floor)))  # the floor is a lower bound
    assert skip.complete and np.array_equal(np.sort(skip.classes), classes)
    assert np.all(skip.min_rc <= every.min_rc + 1e-12)  # never above the true least reduced cost: the bound stays valid
    assert [c.route for c in skip.columns] == [c.route for c in every.columns]
    if queueing == "none":
        assert skip.skipped > len(classes) // 2  # most classes' cheapest routes pay no price under none
    else:
        assert skip.skipped == 0  # every loaded server has a congestion price


def test_a_class_with_no_route_at_all_is_infeasible_before_any_relaxation(tmp_path, monkeypatch):
    from helpers import line_instance_data

    from placement import InfeasibleError
    from solvers import relax_model

    data = line_instance_data()
    data["demand"][1]["max_latency_s"] = 1e-9  # no route is that fast
    inst = instance_from_data(data, tmp_path)
    monkeypatch.setattr(relax_model, "RelaxModel", None)  # never reached
    with pytest.raises(InfeasibleError, match="demand class 1 .* even alone") as exc:
        solve(inst, "relax")
    assert len(exc.value.reasons) == 1


def small_fleet(tmp_path, queueing: str):
    """A small fleet like XL's: microcontrollers, one class each, whose routes compute on their own (memory-bound) device."""
    from placement.generate import GeneratorConfig, generate
    from placement.instance import Instance

    cfg = GeneratorConfig.model_validate({
        "name": "small-fleet", "seed": 3, "root": {"tier": "cloud", "devices": ["a100"]},
        "levels": [{"tier": "edge", "fanout": 2, "devices": ["jetson-nano"], "link": "fibre-metro"},
                   {"tier": "access", "fanout": 2, "devices": ["rpi4"], "link": "fibre-access"},
                   {"tier": "device", "fanout": 3, "devices": ["cortex-m7", "esp32-s3"], "link": "ble"}],
        "models": {"synthetic": {"tasks": 2, "per_task": 2, "layers": 8}},
        "demand": {"classes_per_origin": 1, "rate_rps": [0.02, 0.1], "max_latency_s": [10.0, 15.0], "min_accuracy": [0.0, 0.5]},
        "options": {"routing": "splittable", "max_segments": 2, "max_utilization": 0.8, "queueing": queueing},
    })
    spec, _ = generate(cfg, tmp_path)
    return Instance.from_spec(spec, tmp_path, "small fleet")


@pytest.mark.parametrize("queueing", ["none", "ps"])
def test_substituted_private_storage_equals_the_full_model(tmp_path, queueing):
    """With rates fixed, a key only one class uses has no variable of its own (its fraction is that class's
    share on routes using it): the same optimum as the model with every key's variable and rows (the DPP
    one), storage fractions no larger, linking prices that give a valid bound, and relax converged between
    milp's optimum and its plan."""
    from solvers.relax_model import RelaxModel

    inst = small_fleet(tmp_path, queueing)
    _, opts = prepare(inst, "relax", "static", None, 1e-9, None, 0, False, {})
    rx = Relax(inst, opts)
    rx.initial_pool()
    sub = RelaxModel(inst, rx.pool, rx.storage_nodes, "CLARABEL", fixed_rates=True)
    full = RelaxModel(inst, rx.pool, rx.storage_nodes, "CLARABEL")
    assert len(sub.private_rows) > 0 and len(full.private_rows) == 0
    a, b = sub.solve(), full.solve()
    assert a.objective == pytest.approx(b.objective, rel=1e-6)
    assert np.all(a.x <= b.x + 2e-4)  # the least fractions the rows allow (the full model's may sit anywhere above)
    classes = np.arange(len(inst.demands))
    for model, sol in ((sub, a), (full, b)):
        prices = model.class_prices(sol, model.server_prices(sol))
        res = price_pass(rx, classes, prices, 1e-9, frozenset(), None)
        bound = model.lagrangian(sol, prices.offsets, res.min_rc)
        assert bound <= sol.objective * (1 + 1e-7)
    converged = solve(inst, "relax", mip_gap=1e-9)
    ref = solve(inst, "milp", mip_gap=1e-9) if queueing == "none" else None
    assert converged.bound <= converged.objective * (1 + 1e-9)
    if ref is not None:
        assert converged.bound <= ref.objective * (1 + 1e-7) and ref.objective <= converged.objective * (1 + 1e-7)
