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
