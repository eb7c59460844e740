"""Fuzzing: mutated shipped instances, profiles and plans get a clean answer (issue 9).

Every case must end with exit code 0, 1, 2 or 3 (never an internal error or a
hang); a case that breaks a documented rule must be refused (exit 2); through
the CLI, no traceback and no file left behind on failure. The harness is
``tests/fuzz.py``; ``benchmarks/fuzz.py`` runs it at scale and prints a table.
"""

from __future__ import annotations

import random

import fuzz
import pytest


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return fuzz.Bases(tmp_path_factory.mktemp("fuzz"))


def _check(outcomes):
    failures = [f"{o.case.kind}: {o.case.what}: {o.problem()}" for o in outcomes if o.problem()]
    assert not failures, "\n".join(failures[:20])


def test_cases_are_reproducible(bases):
    first = [fuzz.make_case(random.Random(5), bases) for _ in range(3)]
    again = [fuzz.make_case(random.Random(5), bases) for _ in range(3)]
    assert [(c.what, c.text) for c in first] == [(c.what, c.text) for c in again]


def test_fuzz_library(bases):
    rng = random.Random(20261126)
    outcomes = []
    for i in range(300):
        case = fuzz.make_case(rng, bases)
        outcomes.append(fuzz.run_case(case, bases, solve_it=case.kind != "plan" and i % 10 == 0, limit_s=20))
    _check(outcomes)
    codes = {o.code for o in outcomes}
    assert {0, 2} <= codes  # the mutations reach both outcomes: the test can fail either way
    assert max(o.seconds for o in outcomes) < 10


def test_fuzz_cli_sample(bases):
    rng = random.Random(7)
    kinds = ["instance", "instance", "profile", "plan", "instance", "plan"]
    for kind in kinds:
        case = fuzz.make_case(rng, bases, kind)
        outcome, files = fuzz.run_cli_case(case, bases)
        assert outcome.problem() is None, (case.what, outcome.problem())
        assert files is None, (case.what, files)


def test_base_documents_are_accepted(bases):
    for kind, text in (("instance", bases.instance_path.read_bytes()), ("plan", bases.plan_path.read_bytes())):
        outcome = fuzz.run_case(fuzz.Case(kind, "unchanged", text, "any"), bases, solve_it=kind == "instance")
        assert outcome.code == 0, outcome.message


@pytest.mark.long
def test_fuzz_ten_thousand(tmp_path):
    outcomes = fuzz.run_many(10_000, seed=1, folder=tmp_path, solve_every=20)
    _check(outcomes)
