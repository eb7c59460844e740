"""The docs cannot drift: every example in README.md and docs/*.md is executed.

Each Markdown file's fenced blocks run in order in one temporary folder (with
the repository's ``instances/`` and ``benchmarks/`` linked in), sharing one
Python namespace:

- ```python blocks are executed;
- ```yaml blocks that are whole instances (a top-level ``nodes:``) are loaded
  and validated; other YAML blocks must parse;
- ```json blocks must parse (a fragment is parsed inside braces); plans are
  read as plans;
- ```csv blocks must be demand or resource traces with the right header;
- ```bash / ```sh blocks: every ``idnplan ...`` command (also as
  ``.venv/bin/idnplan``, also after ``&&``) runs through
  :func:`placement.cli.main` and must exit 0; a bare ``python`` is refused
  (it fails outside an activated virtualenv: write ``.venv/bin/python``).

Markers, as an HTML comment on the line before the fence (invisible on the
rendered page): ``<!-- docs-test: skip (why) -->``, ``<!-- docs-test: slow -->``
(run only by the ``slow`` test), ``<!-- docs-test: file NAME -->`` (also save
the block as NAME in the folder). In a shell block, a trailing
``# docs-test: skip (why)`` skips one command and ``# docs-test: exit N``
expects exit code N.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
_LINE_MARKER = re.compile(r"#\s*docs-test:\s*(skip|exit\s+\d+)")


@dataclass
class Block:
    file: str
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    markers: list[str] = field(default_factory=list)

    def marker(self, name: str) -> str | None:
        for m in self.markers:
            if m == name or m.startswith(name + " "):
                return m[len(name):].strip()
        return None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with their docs-test markers."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        markers = []
        j = i - 1
        while j >= 0 and _MARKER.match(lines[j]):
            markers.insert(0, _MARKER.match(lines[j]).group(1))
            j -= 1
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        out.append(Block(path.relative_to(ROOT).as_posix(), start + 1, m.group(1).lower(), "\n".join(body) + "\n", markers))
        i += 1
    return out


def _all_blocks() -> list[Block]:
    return [b for f in DOC_FILES for b in blocks_of(f)]


def shell_commands(text: str) -> list[tuple[list[str], str]]:
    """Commands of a shell block: (argv, trailing docs-test marker or '').

    Continuation lines are joined, comments dropped, and ``a && b`` / ``a ; b``
    give two commands.
    """
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE_MARKER.search(line)
        marker = m.group(1) if m else ""
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        argv: list[str] = []
        for tok in lexer:
            if tok in ("&&", ";", "||", "|", "&"):
                if argv:
                    out.append((argv, marker))
                argv = []
            else:
                argv.append(tok)
        if argv:
            out.append((argv, marker))
    return out


class Workspace:
    """A temporary folder holding the doc's files, with one Python namespace."""

    def __init__(self, tmp: Path):
        self.dir = tmp
        for name in ("instances", "benchmarks"):
            (tmp / name).symlink_to(ROOT / name)
        self.ns: dict = {"__name__": "__docs__"}
        self.count = 0

    def run(self, block: Block) -> None:
        name = block.marker("file")
        if name:
            (self.dir / name).write_text(block.text, encoding="utf-8")
        lang = block.lang
        if lang == "python":
            if name:  # a module for later commands, not a snippet
                return
            code = compile(block.text, block.where, "exec")
            with _quiet() as out:
                try:
                    exec(code, self.ns)  # noqa: S102 - the docs' own examples
                except Exception as exc:
                    raise AssertionError(f"{block.where}: python example failed: {type(exc).__name__}: {exc}\n{out.getvalue()[-3000:]}") from exc
        elif lang == "yaml":
            self._yaml(block, name)
        elif lang == "json":
            self._json(block, name)
        elif lang == "csv":
            self._csv(block, name)
        elif lang in ("bash", "sh", "console", "shell"):
            self._shell(block)

    def _yaml(self, block: Block, name: str | None) -> None:
        data = yaml.safe_load(block.text)
        if isinstance(data, dict) and "nodes" in data:
            from placement import load_instance

            self.count += 1
            path = self.dir / (name or f"example-{self.count}.yaml")
            if not name:
                path.write_text(block.text, encoding="utf-8")
            with _quiet():
                try:
                    load_instance(path)
                except Exception as exc:
                    raise AssertionError(f"{block.where}: example instance does not validate: {exc}") from exc
        elif isinstance(data, dict) and "levels" in data:  # a generator config
            from placement.generate import GeneratorConfig

            GeneratorConfig.model_validate(data)

    def _json(self, block: Block, name: str | None) -> None:
        try:
            data = json.loads(block.text)
        except json.JSONDecodeError:
            data = json.loads("{" + block.text + "}")  # a fragment: '"key": value'
        if isinstance(data, dict) and {"routes", "storage", "status"} <= set(data):
            from placement.plan import Plan

            Plan.model_validate(data)

    def _csv(self, block: Block, name: str | None) -> None:
        from placement.traces import DEMAND_HEADER, RESOURCE_HEADER, read_demand_trace

        header = tuple(block.text.splitlines()[0].split(","))
        assert header in (DEMAND_HEADER, RESOURCE_HEADER), f"{block.where}: unknown CSV header {header}"
        if header == DEMAND_HEADER:
            path = self.dir / (name or "docs-trace.csv")
            path.write_text(block.text, encoding="utf-8")
            read_demand_trace(path)

    def _shell(self, block: Block) -> None:
        from placement.cli import main

        for argv, marker in shell_commands(block.text):
            while len(argv) > 1 and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", argv[0]):
                argv = argv[1:]  # VAR=value before a command
            prog = argv[0]
            assert prog != "python", f"{block.where}: '{' '.join(argv)}': a bare 'python' fails outside an activated virtualenv; write .venv/bin/python"
            if prog.endswith("python") and len(argv) > 1 and argv[1].endswith(".py"):
                assert (ROOT / argv[1]).is_file(), f"{block.where}: no such script {argv[1]}"
            if Path(prog).name != "idnplan" or marker.startswith("skip"):
                continue
            args = []
            for a in argv[1:]:
                hits = sorted(glob(a, root_dir=self.dir)) if any(c in a for c in "*?[") else []
                args.extend(hits or [a])
            expected = int(marker.split()[1]) if marker.startswith("exit") else 0
            with _quiet() as out:
                try:
                    code = main(args)
                except SystemExit as exc:  # argparse (--help, usage errors)
                    code = exc.code if isinstance(exc.code, int) else 2
            assert code == expected, f"{block.where}: 'idnplan {' '.join(args)}' exited {code}, expected {expected}\n{out.getvalue()[-3000:]}"


@contextlib.contextmanager
def _quiet():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        yield buf


def _run_doc(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: bool) -> int:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    ws = Workspace(tmp_path)
    ran = 0
    for block in blocks_of(path):
        if block.marker("skip") is not None or (block.marker("slow") is not None and not slow):
            continue
        ws.run(block)
        ran += 1
    return ran


def _has_slow(path: Path) -> bool:
    return any(b.marker("slow") is not None for b in blocks_of(path))


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_doc_examples_run(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every example not marked slow or skip runs (and validates) as shown."""
    _run_doc(doc, tmp_path, monkeypatch, slow=False)


@pytest.mark.slow
@pytest.mark.parametrize("doc", [d for d in DOC_FILES if _has_slow(d)], ids=lambda p: p.name)
def test_doc_examples_run_slow(doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, with the examples marked slow."""
    _run_doc(doc, tmp_path, monkeypatch, slow=True)


def test_skips_are_rare_and_explained() -> None:
    skips = [b for b in _all_blocks() if b.marker("skip") is not None]
    for b in skips:
        assert b.marker("skip"), f"{b.where}: a skip marker must say why"
    assert len(skips) <= 5, [b.where for b in skips]


def test_markers_are_known() -> None:
    for b in _all_blocks():
        for m in b.markers:
            assert m.split()[0] in ("skip", "slow", "file"), f"{b.where}: unknown docs-test marker '{m}'"


def test_docs_stay_inside_the_repository() -> None:
    """No doc points to DESIGN.md or other files outside the repository, and every relative link resolves."""
    link = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")
    for doc in DOC_FILES:
        text = doc.read_text(encoding="utf-8")
        assert "DESIGN.md" not in text, f"{doc.name} refers to DESIGN.md, which is not in the repository"
        for target, _ in link.findall(text):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (doc.parent / target).exists(), f"{doc.name}: broken link {target}"


def test_readme_lists_every_command_and_exit_code() -> None:
    from placement.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in sub.choices:
        assert re.search(rf"`{re.escape(name)}[ `\]]", readme), f"README's command table misses '{name}'"
    for code in ("0", "1", "2", "3", "4", "70", "130"):
        assert f"**{code}**" in readme, f"README does not document exit code {code}"


def test_shell_command_parsing() -> None:
    cmds = shell_commands("a b && .venv/bin/idnplan x 'y z'  # c\nidnplan q \\\n  --r 1  # docs-test: exit 3\n# only a comment\n")
    assert cmds == [(["a", "b"], ""), ([".venv/bin/idnplan", "x", "y z"], ""), (["idnplan", "q", "--r", "1"], "exit 3")]


def test_a_failing_example_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness is not a no-op: a wrong command, snippet or instance is caught."""
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path)
    with pytest.raises(AssertionError, match="exited 2"):
        ws.run(Block("x.md", 1, "bash", "idnplan validate no-such-file.yaml\n"))
    with pytest.raises(AssertionError, match="python example failed"):
        ws.run(Block("x.md", 1, "python", "from placement import load_instance\nload_instance('nope.yaml')\n"))
    with pytest.raises(AssertionError, match="does not validate"):
        ws.run(Block("x.md", 1, "yaml", "name: x\nnodes: []\nlinks: []\nmodels: []\ndemand: []\n"))
    with pytest.raises(AssertionError, match="bare 'python'"):
        ws.run(Block("x.md", 1, "bash", "python benchmarks/milp_scaling.py\n"))
    ws.run(Block("x.md", 1, "bash", "idnplan validate no-such-file.yaml  # docs-test: exit 2\n"))
    assert os.listdir(tmp_path)


def _section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    assert start is not None, f"missing heading '{heading}'"
    level = len(heading) - len(heading.lstrip("#"))
    end = next((j for j in range(start + 1, len(lines)) if re.match(rf"^#{{1,{level}}} ", lines[j])), len(lines))
    return "\n".join(lines[start:end])


def _format_sections() -> list[tuple[str, str, list]]:
    from dataclasses import fields as dc_fields

    from placement.front import Front, FrontPoint
    from placement.generate.config import (
        Backbone,
        DemandConfig,
        GeneratorConfig,
        Level,
        Models,
        ProfileModel,
        Root,
        SyntheticModels,
    )
    from placement.online_run import OnlineRun, OnlineSlot, OnlineSummary, RegretPoint
    from placement.plan import Failure, Plan, PlanMetrics, PlanRoute, PlanSegment
    from placement.schema import (
        DemandSpec,
        DeviceSpec,
        GraphNodeSpec,
        GraphSpec,
        HostInfo,
        InstanceSpec,
        LayerSpec,
        LinkSpec,
        ModelSpec,
        NodeSpec,
        ObjectiveSpec,
        OptionsSpec,
        ProfileSpec,
        Weights,
    )

    class _Failure:  # a dataclass, not a pydantic model
        model_fields = {f.name: None for f in dc_fields(Failure)}

    return [
        ("docs/formats.md", "### Instance (top level)", [InstanceSpec]),
        ("docs/formats.md", "### Devices", [DeviceSpec]),
        ("docs/formats.md", "### Nodes", [NodeSpec]),
        ("docs/formats.md", "### Links", [LinkSpec]),
        ("docs/formats.md", "### Models", [ModelSpec]),
        ("docs/formats.md", "### Layers", [LayerSpec]),
        ("docs/formats.md", "### Graphs", [GraphSpec, GraphNodeSpec]),
        ("docs/formats.md", "### Demand", [DemandSpec]),
        ("docs/formats.md", "### Objective", [ObjectiveSpec, Weights]),
        ("docs/formats.md", "### Options", [OptionsSpec]),
        ("docs/formats.md", "## Plan files", [Plan, PlanRoute, PlanSegment, PlanMetrics]),
        ("docs/formats.md", "## Failure results", [_Failure]),
        ("docs/formats.md", "## Profile files", [ProfileSpec, HostInfo]),
        ("docs/formats.md", "## Front files", [Front, FrontPoint]),
        ("docs/formats.md", "## Online-run files", [OnlineRun, OnlineSlot, OnlineSummary, RegretPoint]),
        ("docs/walkthrough.md", "## Generator configs", [GeneratorConfig, Level, Root, Backbone, SyntheticModels, ProfileModel, Models, DemandConfig]),
    ]


@pytest.mark.parametrize("doc, heading, models", _format_sections(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_schema_field_is_documented(doc: str, heading: str, models: list) -> None:
    """The format reference stays current: each field of each file format is named in its section."""
    section = _section((ROOT / doc).read_text(encoding="utf-8"), heading)
    missing = [f"{m.__name__}.{name}" for m in models for name in m.model_fields if f"`{name}`" not in section]
    assert not missing, f"{doc} '{heading}' does not document: {', '.join(missing)}"


def test_every_trace_header_and_status_is_documented() -> None:
    from placement.plan import PlanStatus, Termination
    from placement.traces import DEMAND_HEADER, RESOURCE_HEADER

    text = (ROOT / "docs/formats.md").read_text(encoding="utf-8")
    for header in (DEMAND_HEADER, RESOURCE_HEADER):
        assert f"`{','.join(header)}`" in text
    plans = _section(text, "## Plan files")
    for value in [*PlanStatus, *Termination]:
        assert f"`{value.value}`" in plans, value
