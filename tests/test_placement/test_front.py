"""Front results: dominance, the file format and its schema."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import instance_from_data, line_instance_data

from placement import InputError, evaluate
from placement.cli import main
from placement.front import Front, FrontPoint, non_dominated, read_front, write_front
from solvers import solve


def test_non_dominated_mask():
    F = np.array([[1, 5], [2, 2], [3, 3], [5, 1], [2, 2], [1, 6]], dtype=float)
    assert non_dominated(F).tolist() == [True, True, False, True, False, False]


def test_front_round_trip_and_validation(tmp_path):
    inst = instance_from_data(line_instance_data(), tmp_path)
    plan = solve(inst, "greedy")
    m = evaluate(inst, plan).metrics
    point = FrontPoint(objectives={"latency": m["mean_latency_s"], "energy": m["mean_energy_j"]}, plan=plan)
    front = Front(instance=inst.name, method="hand", objectives=["latency", "energy"], points=[point])
    path = tmp_path / "front.json"
    write_front(front, path)
    back = read_front(path)
    assert back.F.shape == (1, 2) and back.F[0, 0] == pytest.approx(m["mean_latency_s"])
    bad = json.loads(path.read_text())
    bad["objectives"] = ["latency", "speed"]
    path.write_text(json.dumps(bad))
    with pytest.raises(InputError, match="unknown speed"):
        read_front(path)


def test_schema_front(capsys):
    assert main(["schema", "front"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "idnplan front file" and "points" in schema["properties"]


def _non_dominated_by_loop(F, rtol=1e-9):
    """The definition, one row at a time (the oracle)."""
    F = np.asarray(F, dtype=float)
    keep = np.ones(len(F), dtype=bool)
    tol = rtol * np.maximum(np.abs(F).max(axis=0, initial=0.0), 1e-300)
    for i in range(len(F)):
        le = np.all(F <= F[i] + tol, axis=1)
        lt = np.any(F < F[i] - tol, axis=1)
        same = np.all(np.abs(F - F[i]) <= tol, axis=1)
        if np.any(le & lt) or np.any(same[:i] & keep[:i]):
            keep[i] = False
    return keep


@pytest.mark.parametrize("seed", range(12))
def test_non_dominated_equals_the_definition(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 400)), int(rng.integers(1, 5))
    F = rng.integers(0, 6, size=(n, m)).astype(float)  # many ties and duplicates
    if seed % 3 == 0:
        F = F + rng.uniform(0, 1e-12, size=F.shape)  # equal within the tolerance
    if seed % 3 == 1:
        F = rng.random((n, m)) * 10.0 ** rng.integers(-6, 7)
    assert non_dominated(F).tolist() == _non_dominated_by_loop(F).tolist()
