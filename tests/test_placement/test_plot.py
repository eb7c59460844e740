"""Plots render with the Agg backend; the CLI draws every kind of figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import INSTANCES, instance_from_data, line_instance_data  # noqa: E402

from placement import load_instance  # noqa: E402
from placement.cli import main  # noqa: E402
from placement.front import write_front  # noqa: E402
from placement.plot import cut_latencies, plot_cuts, plot_front, plot_network  # noqa: E402
from solvers import solve  # noqa: E402
from solvers.pareto import pareto  # noqa: E402


def test_cut_latencies_by_hand(tmp_path):
    inst = instance_from_data(line_instance_data(), tmp_path)
    # head a (slow, 1e6 MAC/s), tail d (fast, 1e8 MAC/s); layers 1e5, 2e5, 3e5 MACs; sends 2000, 1000, 500, (100 result)
    lat = cut_latencies(inst, "m", "a", "d", np.array([1e3]))[:, 0]
    assert lat[0] == pytest.approx(6e5 / 1e8 + 2000 / 1e3 + 100 / 1e3)
    assert lat[1] == pytest.approx(0.1 + 5e5 / 1e8 + 1000 / 1e3 + 100 / 1e3)
    assert lat[3] == pytest.approx(0.6)  # everything at the head, nothing sent


def test_plots_render(tmp_path):
    inst = instance_from_data(line_instance_data(), tmp_path)
    plan = solve(inst, "greedy")
    for fig in (plot_network(inst, plan, 0, tmp_path / "n.png"), plot_cuts(inst, "m", "a", "c", path=tmp_path / "c.svg")):
        assert fig is not None
    assert (tmp_path / "n.png").stat().st_size > 1000 and (tmp_path / "c.svg").stat().st_size > 1000
    for objs in (["latency", "energy"], ["latency", "energy", "network"], ["latency", "inaccuracy", "energy", "network"]):
        front = pareto(inst, "weights", objs, points=2)
        plot_front(front, tmp_path / f"f{len(objs)}.png", highlight=0)
        plot_front([front, front], tmp_path / f"g{len(objs)}.png")
        assert (tmp_path / f"f{len(objs)}.png").exists()


def test_plot_cli(tmp_path, capsys):
    inst_path = str(INSTANCES / "idn-10.yaml")
    inst = load_instance(inst_path)
    front = pareto(inst, "nsga2", ["latency", "energy"], pop=10, gens=3)
    write_front(front, tmp_path / "front.json")
    assert main(["plot", "network", inst_path, str(tmp_path / "front.json"), "--point", "0", "-o", str(tmp_path / "net.png")]) == 0
    assert main(["plot", "cuts", inst_path, "--model", "mobilenet_v2", "--head", "phone1", "--tail", "edge2", "-o", str(tmp_path / "cuts.png")]) == 0
    assert main(["plot", "front", str(tmp_path / "front.json"), "-o", str(tmp_path / "front.png")]) == 0
    assert main(["plot", "cuts", inst_path, "--model", "nope", "--head", "phone1", "--tail", "edge2", "-o", str(tmp_path / "x.png")]) == 2
    assert "--model nope" in capsys.readouterr().err
    assert main(["plot", "network", inst_path, str(tmp_path / "front.json"), "-o", str(tmp_path / "y.png")]) == 2
