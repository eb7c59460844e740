"""Reports: mean +- 95 % CI over seeds, the best of each row marked, in Markdown, LaTeX and CSV."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from bench.report import Cell, report
from bench.store import Store

SUITE = {
    "name": "rep", "instances": [{"factory": "tiny"}], "methods": [{"method": "greedy"}, {"method": "milp"}, {"method": "cloud-only"}],
    "tables": [{"name": "obj", "value": "objective", "reference": "milp", "digits": 3},
               {"name": "acc", "value": "mean_inaccuracy", "better": "higher", "digits": 2}],
}


@pytest.fixture
def db(tmp_path):
    """A database with hand-made rows: greedy 1, 2, 3 (mean 2), milp 1, 1, 1 (best), cloud-only infeasible."""
    path = tmp_path / "r.sqlite"
    with Store(path) as store:
        store.add_suite("rep", "rep.yaml", yaml.safe_dump(SUITE), "x")
        for method, values, status in (("greedy", [1.0, 2.0, 3.0], "heuristic"), ("milp", [1.0, 1.0, 1.0], "optimal"), ("cloud-only", [None] * 3, "infeasible")):
            for seed, v in enumerate(values):
                store.record(f"{method}{seed}", {
                    "suite": "rep", "kind": "static", "instance": "tiny", "instance_group": "tiny", "instance_sha256": "h",
                    "method": method, "method_label": method, "options": {}, "seed": seed, "repeat": 0, "status": status,
                    "objective": v, "mean_inaccuracy": None if v is None else v / 10, "host": "h1", "finished_at": "now",
                })
    return path


def test_confidence_interval_is_student_t():
    cell = Cell(values=[1.0, 2.0, 3.0])
    assert cell.mean == 2.0
    assert cell.ci95 == pytest.approx(4.302652729911275 / 3**0.5, rel=1e-9)  # t(0.975, 2) * s / sqrt(n), s = 1
    assert Cell(values=[5.0]).ci95 is None


def test_markdown_marks_the_best_and_shows_failures(db):
    with Store(db, create=False) as store:
        text = report(store, "obj", fmt="markdown")
    row = next(line for line in text.splitlines() if line.startswith("| tiny"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == ["tiny", "2.000 ± 2.484", "**1.000 ± 0.000**", "infeasible x3", "2.00x", "-"]
    assert "95 % CI" in text and "hosts: h1" in text


def test_higher_is_better(db):
    with Store(db, create=False) as store:
        text = report(store, "acc")
    assert "**0.20 ± 0.25**" in text and "**0.10" not in text


def test_latex_bolds_the_best(db):
    with Store(db, create=False) as store:
        text = report(store, "obj", fmt="latex")
    assert r"$\mathbf{1.000 \pm 0.000}$" in text and r"$2.000 \pm 2.484$" in text
    assert r"\begin{tabular}{lrrrrr}" in text and r"instance\_group" in text and r"95 \% CI" in text


def test_csv_is_tidy(db):
    with Store(db, create=False) as store:
        text = report(store, "obj", fmt="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    by = {r["method"]: r for r in rows}
    assert by["greedy"]["n"] == "3" and float(by["greedy"]["mean"]) == 2.0 and by["greedy"]["best"] == "0"
    assert by["milp"]["best"] == "1" and by["cloud-only"]["mean"] == "" and by["cloud-only"]["statuses"] == "infeasible=3"


def test_report_cli_errors(db, cli, capsys, tmp_path):
    code, _, err = cli(capsys, "bench", "report", str(db), "--table", "nope")
    assert code == 2 and "no table 'nope'" in err and "rep:obj" in err
    code, _, err = cli(capsys, "bench", "report", str(tmp_path / "missing.sqlite"))
    assert code == 2 and "no such results database" in err
    out = tmp_path / "t.tex"
    code, _, _ = cli(capsys, "bench", "report", str(db), "--table", "obj", "--format", "latex", "--out", str(out))
    assert code == 0 and r"\mathbf" in out.read_text()
