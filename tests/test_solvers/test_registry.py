"""The method registry: typed options, declared preconditions, kinds and failure results."""

from __future__ import annotations

import pytest
from helpers import INSTANCES, instance_from_data, line_instance_data

from placement import load_instance
from placement.cli import main
from placement.plan import Failure
from solvers import MethodError, get_method, methods, solve, try_solve


@pytest.fixture(scope="module")
def idn10():
    return load_instance(INSTANCES / "idn-10.yaml")


def test_every_option_is_documented_and_typed():
    for info in methods():
        for opt in info.options:
            assert opt.doc and opt.type in ("bool", "int", "float", "str", "node")
            if opt.default is not None:
                opt.parse(opt.default, info.name)  # the default passes its own check


@pytest.mark.parametrize("given, words", [
    ({"rootes": "upward"}, ["unknown option rootes", "routes=all|upward"]),
    ({"routes": "sideways"}, ["must be one of all, upward", "'sideways'"]),
    ({"enumerate": "maybe"}, ["expects bool", "'maybe'"]),
])
def test_milp_refuses_unknown_and_mistyped_options(idn10, given, words):
    with pytest.raises(MethodError) as exc:
        solve(idn10, "milp", **given)
    for w in words:
        assert w in str(exc.value)


def test_server_option_must_be_a_known_node_and_not_the_origin(tmp_path):
    inst = instance_from_data(line_instance_data(), tmp_path)
    with pytest.raises(MethodError, match="unknown node 'ghost'"):
        solve(inst, "two-tier", server="ghost")
    with pytest.raises(MethodError, match="is the origin of demand class 0"):
        solve(inst, "two-tier", server="a")
    plan = solve(inst, "two-tier", server="d")
    assert {s.node for r in plan.routes for s in r.segments} <= {"a", "d"}


def test_options_are_applied(idn10):
    upward = solve(idn10, "milp", routes="upward")
    assert upward.options["routes"] == "upward" and upward.status == "heuristic"
    full = solve(idn10, "milp", enumerate=True)
    assert full.status == "optimal"
    assert full.objective <= upward.objective + 1e-12


def test_preconditions_are_checked_before_the_run(tmp_path):
    data = line_instance_data()
    data["options"] = {"max_segments": 1}
    inst = instance_from_data(data, tmp_path)
    with pytest.raises(MethodError, match="max_segments = 1"):
        solve(inst, "two-tier")
    for n in data["nodes"]:
        n.pop("tier")
    inst = instance_from_data(data, tmp_path)
    with pytest.raises(MethodError, match="needs a node of tier 'edge'"):
        solve(inst, "edge-only")


def test_bad_solver_numbers_are_refused(idn10):
    for kw in ({"time_limit_s": -5}, {"time_limit_s": 0}, {"time_limit_s": float("nan")}, {"mip_gap": -1}, {"threads": 0}):
        with pytest.raises(MethodError):
            solve(idn10, "greedy", **kw)


def test_try_solve_returns_failures_as_results(tmp_path):
    data = line_instance_data()
    data["demand"][0]["min_accuracy"] = 0.95
    inst = instance_from_data(data, tmp_path)
    out = try_solve(inst, "milp")
    assert isinstance(out, Failure) and out.status == "infeasible"
    assert "min_accuracy 0.9500" in out.reasons[0]
    ok = try_solve(instance_from_data(line_instance_data(), tmp_path), "milp")
    assert ok.status == "optimal" and ok.wall_time_s > 0


def test_cli_methods_name_lists_options(capsys):
    assert main(["methods", "milp"]) == 0
    out = capsys.readouterr().out
    assert "routes" in out and "enumerate" in out and "default" in out
    assert main(["methods", "nope"]) == 2


def test_cli_unknown_option_exits_2(capsys):
    code = main(["solve", str(INSTANCES / "idn-10.yaml"), "--method", "milp", "--option", "rootes=upward"])
    assert code == 2
    assert "unknown option rootes" in capsys.readouterr().err


def test_kinds(idn10):
    assert all(m.kind == "static" for m in methods("static"))
    assert get_method("milp").kind == "static"
