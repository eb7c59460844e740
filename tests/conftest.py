"""Shared fixtures (helpers live in helpers.py, importable from every test)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from helpers import line_instance_data, write_yaml


@pytest.fixture
def line_data() -> dict:
    return copy.deepcopy(line_instance_data())


@pytest.fixture
def line_path(tmp_path: Path, line_data: dict) -> Path:
    return write_yaml(tmp_path / "line.yaml", line_data)


@pytest.fixture
def line_instance(line_path: Path):
    from placement import load_instance

    return load_instance(line_path)
