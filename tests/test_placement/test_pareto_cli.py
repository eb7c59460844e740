"""idnplan pareto: front file, table, plot, compare, exit codes."""

from __future__ import annotations

import json

from helpers import instance_from_data, line_instance_data, write_yaml

from placement import evaluate, load_instance
from placement.cli import main
from placement.front import read_front


def test_pareto_cli_front_compare_and_errors(tmp_path, capsys):
    data = line_instance_data()
    data["options"]["routing"] = "unsplittable"
    path = str(write_yaml(tmp_path / "line.yaml", data))
    eps, nsga = str(tmp_path / "eps.json"), str(tmp_path / "nsga.json")
    assert main(["pareto", path, "--objectives", "latency,energy,network", "--method", "epsilon", "-o", eps, "--plot", str(tmp_path / "f.png"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "mean_latency_s" in out and "hypervolume" in out and "status exact" in out
    front = read_front(eps)
    inst = load_instance(path)
    assert front.points and all(evaluate(inst, p.plan).feasible for p in front.points)
    assert (tmp_path / "f.png").exists()
    assert main(["pareto", path, "--objectives", "latency,energy,network", "-m", "nsga2", "--pop", "12", "--gens", "4", "--seed", "2", "-o", nsga, "-q"]) == 0
    capsys.readouterr()
    assert main(["pareto", "compare", eps, nsga, "--json"]) == 0
    cmp = json.loads(capsys.readouterr().out)
    assert cmp["fronts"][0]["hypervolume_ratio"] == 1.0  # the exact front is never beaten
    assert cmp["additive_epsilon"][0][1] <= 1e-9
    assert main(["pareto", "compare", eps, nsga]) == 0
    assert "additive epsilon" in capsys.readouterr().out
    assert main(["pareto", path, "--objectives", "latency,speed"]) == 2
    assert "unknown objective speed" in capsys.readouterr().err
    assert main(["pareto", path, "--method", "greedy"]) == 2
    assert main(["pareto", "compare", eps]) == 2


def test_pareto_cli_infeasible_exit_3(tmp_path, capsys):
    data = line_instance_data()
    data["options"]["routing"] = "unsplittable"
    for d in data["demand"]:
        d["max_latency_s"] = 1e-6
    inst = instance_from_data(data, tmp_path)
    assert inst is not None
    assert main(["pareto", str(tmp_path / "line.yaml"), "--objectives", "latency,energy", "-q"]) == 3
    assert "no feasible plan" in capsys.readouterr().err
