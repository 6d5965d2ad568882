"""The module graph: no import loops (type-only imports included) and the foundation imports nothing above it
(issue #11: `policygen/arm` is Azure's vocabulary below every stage; the pack belongs to `intents`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_graph.py"


def _graph() -> tuple[dict[str, set[str]], object]:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.graph(), module


def test__import_graph__has_no_loops() -> None:
    graph, module = _graph()
    assert len(graph) > 100 and module.cycles(graph) == []


def test__import_graph__foundation_and_intents_import_nothing_above_them() -> None:
    graph, _ = _graph()
    below_arm = ("policygen.arm", "policygen.errors")
    for name, targets in graph.items():
        if name.startswith("policygen.arm"):
            assert all(t.startswith(below_arm) for t in targets), (name, targets)
        if name.startswith("policygen.intents"):
            assert all(t.startswith((*below_arm, "policygen.intents")) for t in targets), (name, targets)
