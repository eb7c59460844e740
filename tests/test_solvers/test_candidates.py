"""Vectorised candidate routes agree with the evaluator's route figures and with enumeration."""

from __future__ import annotations

import pytest
from helpers import instance_from_data, random_instance_data

from placement import enumerate_routes, route_figures
from solvers.candidates import candidate_routes


@pytest.mark.parametrize("seed", range(16))
def test_candidates_match_enumeration_and_figures(tmp_path, seed):
    k = 1 + seed % 3
    data = random_instance_data(seed, nodes=5 + seed % 3, max_segments=k, layers=4, tight=seed >= 8)
    inst = instance_from_data(data, tmp_path)
    for d in inst.demands:
        expected = {}
        for r in enumerate_routes(inst, d.index):
            fig = route_figures(inst, r)
            model = inst.models[r.model]
            fits = all(
                model.segment_param_bytes(s.first, s.last) <= inst.node[s.node].memory_bytes
                and model.segment_peak_activation(s.first, s.last) <= inst.node[s.node].ram_bytes
                for s in r.segments
            )
            if fits and fig.latency_s <= d.max_latency_s * (1 + 1e-9) and fig.accuracy >= d.min_accuracy:
                expected[r] = fig
        got = list(candidate_routes(inst, d))
        assert {c.route for c in got} == set(expected)
        costs = [c.cost for c in got]
        assert costs == sorted(costs)  # cheapest first
        for c in got:
            fig = expected[c.route]
            assert c.latency_s == pytest.approx(fig.latency_s, rel=1e-9)
            assert c.energy_j == pytest.approx(fig.energy_j, rel=1e-9, abs=1e-15)
            assert c.cost == pytest.approx(fig.cost(inst), rel=1e-9)


def test_min_latency_without_slo(tmp_path):
    inst = instance_from_data(random_instance_data(1), tmp_path)
    d = inst.demands[0]
    best = min(route_figures(inst, r).latency_s for r in enumerate_routes(inst, d.index))
    assert candidate_routes(inst, d, respect_slo=False, respect_accuracy=False).min_latency() == pytest.approx(best, rel=1e-9)
