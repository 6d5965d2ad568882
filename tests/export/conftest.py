"""Fixtures of the export tests (data and helpers are in support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.support import FIXTURE_PACK


@pytest.fixture
def fixture_pack(make_tree, tmp_path: Path) -> Path:
    return make_tree(FIXTURE_PACK, tmp_path / "pack")


@pytest.fixture
def mlops_pack(repo_dir: Path) -> Path:
    return repo_dir
