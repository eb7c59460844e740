"""benchmarks/regenerate_docs.py: every shipped suite cuts to a valid quick suite; the quick pass writes tables and figures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from bench.suite import load_suite

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("regenerate_docs", ROOT / "benchmarks" / "regenerate_docs.py")
regenerate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(regenerate)

CHEAP = ["gains", "split_dp_speed", "split_exact", "congestion", "smoke"]


@pytest.mark.parametrize("stem", CHEAP)
def test_quick_suite_is_a_valid_smaller_suite(stem, tmp_path):
    full = ROOT / "benchmarks" / "suites" / f"{stem}.yaml"
    data = regenerate.quick_suite(full)
    assert data["name"].endswith("-quick") and data["repeats"] == 1 and len(data["seeds"]) == 1
    path = tmp_path / "q.yaml"  # elsewhere: the quick suite's paths are absolute
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    quick = load_suite(path)
    assert len(quick.instances) == 1 and 0 < len(quick.runs) <= len(quick.spec.methods)
    assert all(t.name.endswith("-quick") for t in quick.spec.tables)


def test_quick_pass_writes_tables_and_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    code = regenerate.main(["--quick", "--only", "split_exact,split_dp_speed", "--out-dir", str(out), "-q"])
    assert code == 0
    tables = sorted(p.name for p in (out / "tables").iterdir())
    assert tables == ["split-dp-objective-quick.md", "split-dp-time-quick.md", "split-exact-chain-quick.md", "split-exact-graph-quick.md"]
    chain = (out / "tables" / "split-exact-chain-quick.md").read_text()
    assert "exhaustive-chain" in chain and "1.00x" in chain and "error" not in chain
    assert (out / "figures" / "split-dp-time-vs-layers-quick.png").stat().st_size > 1000
    assert not (ROOT / "docs" / "tables" / "split-exact-chain-quick.md").exists()  # never over the docs


@pytest.mark.slow
def test_quick_pass_of_every_suite(tmp_path):
    """The whole quick pass (about 2 minutes on 2 loaded cores): every suite but XL runs and reports."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    assert regenerate.main(["--quick", "--out-dir", str(out), "-q"]) == 0
    names = {p.stem for p in (out / "tables").iterdir()}
    for table in ("gains-quick", "online-cost-quick", "pareto-hypervolume-quick", "scaling-time-quick", "congestion-objective-quick",
                  "split-exact-graph-quick", "split-dp-time-quick"):
        assert table in names
