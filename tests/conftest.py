"""Shared fixtures: the optional ../shared material and a temporary pack builder."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests judge behaviour, never speed: a busy CI machine (or `-n auto` on two cores) must not turn
# slow example generation or a slow example into a failure.
_QUIET = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("policygen", **_QUIET)
# CI runs the same examples every time (a red CI must be reproducible); local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, **_QUIET)
settings.load_profile("ci" if os.environ.get("CI") else "policygen")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the checkout; tests that need it skip when it is absent (users' machines)."""
    if not (SHARED / "corpus").is_dir():
        pytest.skip("../shared/corpus is not available")
    return SHARED


@pytest.fixture
def make_tree(tmp_path: Path):
    """Write a dict of relative path → (dedented) text under tmp_path and return tmp_path."""

    def _make(files: dict[str, str], root: Path | None = None) -> Path:
        base = root or tmp_path
        for rel, text in files.items():
            target = base / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return base

    return _make
