"""Seeded fuzzing of idnplan's inputs: mutated shipped instances, profiles and plans.

Each case is one mutation (delete a field, wrong type, negative, NaN, inf, huge,
empty, control characters, duplicate and dangling ids, truncated file, binary
junk, deep nesting, an alias bomb) of one of three base documents:

- ``instance``: ``instances/idn-10.yaml``, its profiles cut to their first
  layers (so a case loads in milliseconds);
- ``profile``: the cut ``mobilenet_v2`` profile, loaded through the instance;
- ``plan``: the plan ``milp`` finds for the base instance, evaluated against it.

A case says what it expects: ``invalid`` (the input breaks a documented rule:
it must be refused with exit code 2) or ``any`` (any clean answer: 0, 1, 2 or 3).
:func:`run_case` runs one through the library API; :func:`run_cli_case` runs
one through ``python -m placement.cli`` in a subprocess. Used by
``tests/test_placement/test_fuzz.py`` and ``benchmarks/fuzz.py``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"

#: Fields that name or refer to something: empty or control characters are refused.
IDENT_KEYS = {"id", "u", "v", "device", "origin", "task", "model", "profile"}
#: Free-text one-line names: control characters are refused.
NAME_KEYS = IDENT_KEYS | {"name", "kind", "runtime", "source", "tracer"}
CONTROL = ["\x00", "\x1b[31m", "\x07", "a\x9bb", "\u202e"]
BAD_NUMBERS = [float("nan"), float("inf"), float("-inf"), -1.0, 1e300, 10**30]


@dataclass
class Case:
    """One fuzz case: a mutated document and what a correct toolkit must answer."""

    kind: str  # "instance", "profile" or "plan"
    what: str  # the mutation, for reports
    text: bytes
    expect: str  # "invalid" (exit 2) or "any" (0, 1, 2 or 3)


@dataclass
class Outcome:
    case: Case
    code: int | str  # exit code, or "hang"
    seconds: float
    message: str = ""

    def problem(self) -> str | None:
        """Why this outcome breaks the promise, or None."""
        if self.code == "hang":
            return "no answer within the time limit"
        if self.code not in (0, 1, 2, 3):
            return f"exit {self.code}: {self.message[:300]}"
        if self.case.expect == "invalid" and self.code != 2:
            return f"invalid input accepted (exit {self.code})"
        return None


# -- base documents -------------------------------------------------------------------


def _cut_profile(path: Path, n_layers: int = 6) -> dict:
    data = json.loads(path.read_text())
    data["layers"] = data["layers"][:n_layers]
    if data.get("graph"):
        nodes = [n for n in data["graph"]["nodes"] if n.get("layer") is not None and n["layer"] < n_layers]
        data["graph"] = {"nodes": nodes} if nodes else None
        if data["graph"] is None:
            del data["graph"]
    return data


class Bases:
    """The base documents, written once into ``folder`` (profiles cut short)."""

    def __init__(self, folder: Path):
        from placement.fileio import read_document
        from placement.instance import load_instance
        from placement.plan import plan_json
        from solvers import solve

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.instance = read_document(INSTANCES / "idn-10.yaml")[0]  # idnplan's reading (1.25e6 is a number)
        for model in self.instance["models"]:
            if "profile" in model:
                cut = _cut_profile(INSTANCES / model["profile"])
                name = f"base-{Path(model['profile']).name}"
                (self.folder / name).write_text(json.dumps(cut))
                model["profile"] = name
                if "mobilenet_v2" in name:
                    self.profile, self.profile_name = cut, name
        self.instance_path = self.folder / "base.yaml"
        self.instance_path.write_text(yaml.safe_dump(self.instance, sort_keys=False))
        inst = load_instance(self.instance_path)
        self.plan = json.loads(plan_json(solve(inst, method="milp")))
        self.plan_path = self.folder / "base-plan.json"
        self.plan_path.write_text(json.dumps(self.plan))


# -- mutations ------------------------------------------------------------------------


def _paths(data, prefix=()):
    yield prefix, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, prefix + (i,))


def _set(data, path, value):
    for key in path[:-1]:
        data = data[key]
    if value is _DELETE:
        del data[path[-1]]
    else:
        data[path[-1]] = value


_DELETE = object()


def _mutate_data(rng: random.Random, base: dict, strict: bool) -> tuple[dict, str, str]:
    """A mutated copy of ``base``, a description and the expectation."""
    data = copy.deepcopy(base)
    paths = [(p, v) for p, v in _paths(data) if p]
    path, value = rng.choice(paths)
    key = next((k for k in reversed(path) if isinstance(k, str)), "")
    where = ".".join(map(str, path))
    invalid = "invalid" if strict else "any"
    op = rng.choice(["delete", "number", "type", "null", "empty", "control", "dup", "dangling", "empty-list", "deep"])
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if op == "number" and is_number:
        bad = rng.choice(BAD_NUMBERS)
        _set(data, path, bad)
        return data, f"{where} = {bad!r}", invalid
    if op == "type":
        bad = 42 if isinstance(value, str) else "abc"
        _set(data, path, bad)
        return data, f"{where} = {bad!r} (wrong type)", invalid if (is_number or isinstance(value, (str, dict, list))) else "any"
    if op == "null":
        _set(data, path, None)
        return data, f"{where} = null", "any"
    if op in ("empty", "control") and isinstance(value, str):
        bad = "" if op == "empty" else rng.choice(CONTROL) + value
        refused = key in (IDENT_KEYS if op == "empty" else NAME_KEYS) and path[-1] == key
        _set(data, path, bad)
        return data, f"{where} = {bad!r}", invalid if refused else "any"
    if op == "dup" and strict and isinstance(data.get("nodes"), list) and len(data["nodes"]) > 1:
        data["nodes"][1]["id"] = data["nodes"][0]["id"]
        return data, "nodes[1].id duplicates nodes[0].id", invalid
    if op == "dangling" and strict and data.get("links"):
        i = rng.randrange(len(data["links"]))
        data["links"][i][rng.choice("uv")] = "ghost"
        return data, f"links[{i}] names node 'ghost'", invalid
    if op == "empty-list" and isinstance(value, list):
        _set(data, path, [])
        required = path in (("nodes",), ("models",), ("demand",), ("layers",))
        return data, f"{where} = []", invalid if required and strict else "any"
    if op == "deep":
        nested: list = []
        for _ in range(rng.choice([70, 200, 900])):
            nested = [nested]
        _set(data, path, nested)
        return data, f"{where} = 70+ nested lists", invalid
    _set(data, path, _DELETE)
    return data, f"delete {where}", "any"


def _alias_bomb(levels: int) -> str:
    lines = ["b0: &b0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def _dump(data, as_json: bool) -> bytes:
    if as_json:
        return json.dumps(data).encode()
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100).encode()


def make_case(rng: random.Random, bases: Bases, kind: str | None = None) -> Case:
    """One random case (the same ``rng`` state gives the same case)."""
    kind = kind or rng.choice(["instance", "instance", "profile", "plan"])
    base = {"instance": bases.instance, "profile": bases.profile, "plan": bases.plan}[kind]
    as_json = kind != "instance"
    text = _dump(base, as_json)
    op = rng.random()
    if op < 0.70:
        data, what, expect = _mutate_data(rng, base, strict=kind != "plan")
        if not rng.randrange(5) and "nested" not in what:  # a second mutation
            data, what2, expect2 = _mutate_data(rng, data, strict=kind != "plan")
            # invalid if the second is, or if the first is and the second left it alone
            # (a shared prefix: deleting demand[1] also deletes a bad demand[1].origin)
            a, b = what.split(" = ")[0].removeprefix("delete "), what2.split(" = ")[0].removeprefix("delete ")
            untouched = " = " in what and not (a.startswith(b) or b.startswith(a))
            first = expect == "invalid" and untouched
            what, expect = f"{what}; {what2}", ("invalid" if expect2 == "invalid" or first else "any")
        try:
            return Case(kind, what, _dump(data, as_json), expect)
        except (RecursionError, ValueError):
            return Case(kind, what, text, "any")
    if op < 0.80:
        cut = rng.randrange(len(text))
        return Case(kind, f"truncated at byte {cut}", text[:cut], "any")
    if op < 0.86:
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        return Case(kind, f"{len(junk)} bytes of binary junk", junk, "invalid" if b"\x00" in junk or len(junk) > 3 else "any")
    if op < 0.90:
        pos = rng.randrange(len(text))
        char = rng.choice(["\x00", "\x1b", "\x07", "\x7f"]).encode()
        # JSON allows DEL (0x7f) inside strings: there it may land in free text
        expect = "any" if as_json and char == b"\x7f" else "invalid"
        return Case(kind, f"control character {char!r} at byte {pos}", text[:pos] + char + text[pos:], expect)
    if op < 0.95:
        depth = rng.choice([100, 1000, 100_000])
        return Case(kind, f"JSON nested {depth} levels", b"[" * depth + b"]" * depth, "invalid")
    levels = rng.choice([4, 7, 8])
    return Case(kind, f"alias bomb of {levels} levels", (_alias_bomb(levels) + text.decode("utf-8", "replace")).encode(), "invalid")


# -- running --------------------------------------------------------------------------


class _Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise _Hang()


def _case_file(case: Case, bases: Bases) -> Path:
    suffix = "yaml" if case.kind == "instance" else "json"
    path = bases.folder / f"case.{suffix}"
    path.write_bytes(case.text)
    if case.kind == "profile":  # the instance that loads it
        inst = copy.deepcopy(bases.instance)
        for m in inst["models"]:
            if m.get("profile") == bases.profile_name:
                m["profile"] = path.name
        (bases.folder / "case-instance.yaml").write_text(yaml.safe_dump(inst, sort_keys=False))
    return path


def run_case(case: Case, bases: Bases, solve_it: bool = False, limit_s: float = 20.0) -> Outcome:
    """Run one case through the library API; a hang is cut at ``limit_s`` (main thread only)."""
    from placement.errors import IdnplanError
    from placement.evaluate import evaluate
    from placement.instance import load_instance
    from placement.plan import read_plan

    path = _case_file(case, bases)
    main = threading.current_thread() is threading.main_thread()
    if main:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limit_s)
    start = time.perf_counter()
    code: int | str = 0
    message = ""
    try:
        if case.kind == "plan":
            ev = evaluate(load_instance(bases.instance_path), read_plan(path))
            code = 0 if ev.feasible and not ev.mismatches else 1
        else:
            inst = load_instance(path if case.kind == "instance" else bases.folder / "case-instance.yaml")
            if solve_it:
                from solvers import solve

                solve(inst, method="milp", time_limit_s=limit_s / 2)
    except _Hang:
        code = "hang"
    except IdnplanError as exc:
        code, message = exc.exit_code, str(exc)
    except Exception as exc:  # noqa: BLE001 - what the CLI would call an internal error
        code, message = 70, f"{type(exc).__name__}: {exc}"
    finally:
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    return Outcome(case, code, time.perf_counter() - start, message)


def run_cli_case(case: Case, bases: Bases, limit_s: float = 60.0) -> tuple[Outcome, str | None]:
    """Run one case through ``python -m placement.cli`` (solve with --out, or evaluate).

    Returns the outcome and a problem with the files left behind, if any:
    on failure no output file and no temporary file may exist.
    """
    path = _case_file(case, bases)
    out_dir = bases.folder / "cli-out"
    out_dir.mkdir(exist_ok=True)
    for old in out_dir.iterdir():
        old.unlink()
    if case.kind == "plan":
        args = ["evaluate", str(bases.instance_path), str(path)]
    else:
        inst = path if case.kind == "instance" else bases.folder / "case-instance.yaml"
        args = ["solve", str(inst), "-m", "milp", "-q", "--time-limit", str(limit_s / 3), "--out", str(out_dir / "plan.json")]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "placement.cli", *args], capture_output=True, text=True, timeout=limit_s, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return Outcome(case, "hang", time.perf_counter() - start), None
    outcome = Outcome(case, proc.returncode, time.perf_counter() - start, proc.stderr)
    left = sorted(p.name for p in out_dir.iterdir())
    files = None
    if "Traceback" in proc.stderr:
        files = "a traceback was printed"
    elif proc.returncode != 0 and left:
        files = f"files left after exit {proc.returncode}: {left}"
    elif proc.returncode == 0 and case.kind != "plan" and left != ["plan.json"]:
        files = f"after exit 0 the folder holds {left}"
    return outcome, files


def run_many(n: int, seed: int, folder: Path, solve_every: int = 5) -> list[Outcome]:
    """``n`` seeded library cases; every ``solve_every``-th accepted instance is also solved."""
    bases = Bases(folder)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        case = make_case(rng, bases)
        out.append(run_case(case, bases, solve_it=case.kind != "plan" and i % solve_every == 0))
    return out


def summary(outcomes: list[Outcome]) -> dict:
    """Counts by exit code, failures, and the slowest case."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[str(o.code)] = counts.get(str(o.code), 0) + 1
    slowest = max(outcomes, key=lambda o: o.seconds) if outcomes else None
    failures = [(o.case.kind, o.case.what, o.problem()) for o in outcomes if o.problem()]
    total = sum(o.seconds for o in outcomes)
    return {"counts": counts, "failures": failures, "slowest": slowest, "total_s": total,
            "mean_ms": 1e3 * total / max(1, len(outcomes)), "finite": all(math.isfinite(o.seconds) for o in outcomes)}
