"""Figures: the fitted log-log slope, a time-vs-size figure written, online/Pareto figures refused."""

from __future__ import annotations

import pytest
import yaml

from bench.plot import fitted_slope
from bench.store import Store

pytest.importorskip("matplotlib")


def test_fitted_slope_of_a_power_law():
    xs = [10.0, 100.0, 1000.0]
    assert fitted_slope(xs, [3 * x**1.5 for x in xs]) == pytest.approx(1.5)
    assert fitted_slope([10.0, 10.0], [1.0, 2.0]) is None


def test_plot_writes_figures_and_refuses_regret(tmp_path, cli, capsys):
    suite = {"name": "p", "instances": [{"factory": "tiny"}], "methods": [{"method": "greedy"}, {"method": "milp"}],
             "figures": [{"name": "size", "kind": "time-vs-size", "x": "nodes"}, {"name": "gain", "kind": "gains", "reference": "milp"},
                         {"name": "reg", "kind": "regret"}]}
    db = tmp_path / "r.sqlite"
    with Store(db) as store:
        store.add_suite("p", "p.yaml", yaml.safe_dump(suite), "x")
        for i, nodes in enumerate((10, 100, 1000)):
            for method, factor in (("greedy", 1e-3), ("milp", 1e-2)):
                store.record(f"{method}{i}", {
                    "suite": "p", "kind": "static", "instance": f"i{nodes}", "instance_group": f"i{nodes}", "instance_sha256": "h",
                    "nodes": nodes, "method": method, "method_label": method, "options": {}, "seed": 0, "repeat": 0,
                    "status": "optimal", "objective": factor, "wall_s": factor * nodes, "finished_at": "now",
                })
    for name in ("size", "gain"):
        code, out, err = cli(capsys, "bench", "plot", str(db), "--figure", name, "--out", str(tmp_path / f"{name}.png"))
        assert code == 0, err
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    code, _, err = cli(capsys, "bench", "plot", str(db), "--figure", "reg", "--out", str(tmp_path / "reg.png"))
    assert code == 2 and "no online runs" in err  # a regret figure needs online runs (tests/test_bench/test_online_suite.py)
