"""Fixtures of the harness tests: small suites written to a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: The test plugin, named by absolute path so every suite loads the same file (once per process).
PLUGIN = str(HERE / "plugin_methods.py")


@pytest.fixture
def plugin() -> str:
    """Path of the test plugin (methods that sleep, crash or use too much memory)."""
    return PLUGIN


@pytest.fixture
def write_suite(tmp_path: Path):
    """Write a suite dict as ``tmp_path/NAME.yaml``; returns its path."""

    def write(data: dict, name: str = "suite") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


@pytest.fixture
def cli():
    """Run ``idnplan`` in-process; returns (exit code, stdout, stderr)."""

    def run(capsys, *argv: str) -> tuple[int, str, str]:
        from placement.cli import main

        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
