"""The emulator's modules form a tree: families depend on `context.Context`, never on `app.Emulator`.

Imports inside functions and under TYPE_CHECKING count: a loop hidden in a lazy import is still a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import policygen.emulator
from policygen.emulator import running_emulator
from policygen.emulator.context import Context

PACKAGE = Path(policygen.emulator.__file__).parent
TOP = {"policygen.emulator", "policygen.emulator.server", "policygen.emulator.app"}


def _module_name(path: Path) -> str:
    return "policygen.emulator" if path.stem == "__init__" else f"policygen.emulator.{path.stem}"


def _imports() -> dict[str, set[str]]:
    """Every policygen module each emulator module imports, wherever the import statement is."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("policygen"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(
                        sub
                        if (PACKAGE / f"{alias.name}.py").exists() and node.module == "policygen.emulator"
                        else node.module
                    )
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("policygen"))
        graph[_module_name(path)] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return None


def test_no_import_loop_in_the_emulator():
    graph = _imports()
    assert len(graph) > 20
    assert _cycle(graph) is None


def test_only_the_entry_points_import_the_application():
    graph = _imports()
    users = {m for m, deps in graph.items() if "policygen.emulator.app" in deps}
    assert users <= TOP


def test_wire_level_core_takes_scopes_from_the_foundation_only():
    deps = _imports()["policygen.emulator.core"]
    assert not any(d.startswith("policygen.azure") for d in deps)
    assert "policygen.arm.scopes" in deps or "policygen.arm" in deps


def test_the_application_is_a_context():
    with running_emulator() as url:
        assert isinstance(url.emulator, Context)
