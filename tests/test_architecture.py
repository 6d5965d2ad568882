"""The module graph matches the pipeline (issue #11): no import loops, type-only imports included; no upward
imports; the foundation `policygen/arm` imports nothing of ours but the error types.

The graph and the layer table live in scripts/import_graph.py, which prints the same numbers for a person.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_graph.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph(tool: ModuleType) -> dict[str, set[str]]:
    return tool.graph()


def test_every_module_has_a_layer(tool: ModuleType, graph: dict[str, set[str]]) -> None:
    assert len(graph) > 100
    assert [m for m in graph if not tool.layer_of(m)] == []


def test_no_import_loops(tool: ModuleType, graph: dict[str, set[str]]) -> None:
    assert tool.cycles(graph) == []


def test_no_upward_or_sideways_imports(tool: ModuleType, graph: dict[str, set[str]]) -> None:
    assert tool.violations(graph) == []


def test_foundation_imports_only_itself_and_errors(graph: dict[str, set[str]]) -> None:
    below = ("policygen.arm", "policygen.errors")
    bad = [
        (m, sorted(t for t in ts if not t.startswith(below)))
        for m, ts in graph.items()
        if m.startswith("policygen.arm")
    ]
    assert [(m, ts) for m, ts in bad if ts] == []


def test_the_checks_can_fail(tool: ModuleType) -> None:
    """A two-module cycle and an import from evaluate up into the CLI are both reported."""
    assert tool.cycles({"a": {"b"}, "b": {"a", "c"}, "c": set()}) == [["a", "b"]]
    assert tool.violations({"policygen.evaluate.x": {"policygen.cli"}, "policygen.cli": set()}) == [
        "policygen.evaluate.x -> policygen.cli"
    ]
    assert tool.violations({"policygen.emulator.app": {"policygen.azure.plan"}}) == [
        "policygen.emulator.app -> policygen.azure.plan"
    ]
