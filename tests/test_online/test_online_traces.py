"""Trace reading, validation (bad rows named) and generators."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import instance_from_data
from online_helpers import online_instance_data

from placement.cli import main
from placement.errors import InputError
from placement.generate.traces import DEMAND_KINDS, generate_demand_trace, generate_resource_trace
from placement.traces import read_demand_trace, read_resource_trace, write_demand_trace, write_resource_trace
from solvers.online.costs import instance_pairs


@pytest.fixture()
def inst(tmp_path):
    return instance_from_data(online_instance_data(), tmp_path)


def _write(tmp_path, text):
    p = tmp_path / "t.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("body", "field", "line"),
    [
        ("0,d1,ta,3\n1,zz,ta,1\n", "origin", 3),
        ("0,d1,ta,3\n0,d1,nope,1\n", "task", 3),
        ("0,d1,ta,-1\n", "count", 2),
        ("0,d1,ta,1.5\n", "count", 2),
        ("2,d1,ta,1\n1,d1,ta,1\n", "slot", 3),
        ("0,edge,ta,1\n", "origin", 2),
    ],
)
def test_bad_demand_rows_are_named(tmp_path, inst, body, field, line):
    p = _write(tmp_path, "slot,origin,task,count\n" + body)
    with pytest.raises(InputError) as exc:
        read_demand_trace(p, instance_pairs(inst), set(inst.node))
    prob = exc.value.problems[0]
    assert prob.file == str(p) and prob.line == line and prob.path.endswith(field)


def test_missing_header_refused(tmp_path, inst):
    p = _write(tmp_path, "0,d1,ta,3\n")
    with pytest.raises(InputError, match="header"):
        read_demand_trace(p, instance_pairs(inst))


def test_bad_resource_rows(tmp_path, inst):
    dirs = {"edge->cloud", "cloud->edge"}
    for body, field in (("0,node,edge,0\n", "factor"), ("0,node,nowhere,1\n", "id"), ("0,link,d1->cloud,1\n", "id"), ("0,disk,edge,1\n", "kind")):
        p = _write(tmp_path, "slot,kind,id,factor\n" + body)
        with pytest.raises(InputError) as exc:
            read_resource_trace(p, set(inst.node), dirs)
        assert exc.value.problems[0].path.endswith(field) and exc.value.problems[0].line == 2


def test_cli_refuses_bad_trace_with_exit_2(tmp_path, inst, capsys):
    p = _write(tmp_path, "slot,origin,task,count\n0,d1,ta,x\n")
    rc = main(["online", str(inst.source), str(p), "--policy", "lru", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "t.csv:2" in err and "count" in err and "Traceback" not in err


@pytest.mark.parametrize("kind", DEMAND_KINDS)
def test_generators_round_trip_and_are_seeded(tmp_path, inst, kind):
    a = generate_demand_trace(inst, kind, 40, seed=3, requests=30)
    b = generate_demand_trace(inst, kind, 40, seed=3, requests=30)
    assert np.array_equal(a.counts, b.counts) and a.counts.shape == (40, 4) and a.counts.min() >= 0
    write_demand_trace(a, tmp_path / "a.csv")
    back = read_demand_trace(tmp_path / "a.csv", instance_pairs(inst))
    assert np.array_equal(back.counts, a.counts)


def test_adversarial_alternates_disjoint_mixes(inst):
    tr = generate_demand_trace(inst, "adversarial", 10, seed=0)
    even, odd = tr.counts[0::2].sum(axis=0) > 0, tr.counts[1::2].sum(axis=0) > 0
    assert not np.any(even & odd)


def test_resource_generators(tmp_path, inst):
    r = generate_resource_trace(inst, "slow-edge", 100)
    assert r.events[0].slot == 50 and r.events[0].factor == 0.5
    write_resource_trace(r, tmp_path / "r.csv")
    dirs = {f"{l.u}->{l.v}" for l in inst.links} | {f"{l.v}->{l.u}" for l in inst.links}
    c = generate_resource_trace(inst, "congested-access", 100) if any(n.tier == "access" for n in inst.nodes) else None
    assert c is None
    assert read_resource_trace(tmp_path / "r.csv", set(inst.node), dirs).events == r.events


def test_peak_hours_congests_every_access_uplink_in_the_busy_quarter(tmp_path):
    from helpers import ROOT

    from placement.instance import load_instance

    inst = load_instance(ROOT / "instances" / "idn-100.yaml")
    access = [n.id for n in inst.nodes if n.tier == "access"]
    r = generate_resource_trace(inst, "peak-hours", 100, factor=0.3)
    # period 25: busy from slot 12 (factor 0.3) to slot 18 (back to 1), in each of the 4 periods
    assert sorted({e.slot for e in r.events}) == [12, 18, 37, 43, 62, 68, 87, 93]
    for slot, value in ((12, 0.3), (18, 1.0), (87, 0.3)):
        at = [e for e in r.events if e.slot == slot]
        assert {e.factor for e in at} == {value} and {e.kind for e in at} == {"link"}
        ends = {e.id.split("->")[0] for e in at} | {e.id.split("->")[1] for e in at}
        assert set(access) <= ends and len(at) == 2 * len(access)  # both directions of every access uplink
    for e in r.events[:2 * len(access)]:
        a, b = e.id.split("->")
        assert inst.network.link(a, b) is not None
    assert main(["trace", "resources", str(ROOT / "instances" / "idn-100.yaml"), "peak-hours", "--slots", "100", "-o", str(tmp_path / "p.csv")]) == 0
    dirs = {f"{l.u}->{l.v}" for l in inst.links} | {f"{l.v}->{l.u}" for l in inst.links}
    assert read_resource_trace(tmp_path / "p.csv", set(inst.node), dirs).events == generate_resource_trace(inst, "peak-hours", 100).events
