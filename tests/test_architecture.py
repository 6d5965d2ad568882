"""The module graph matches the pipeline: no import loops (type-only imports included) and no upward imports.

CONTRIBUTING.md's architecture section is the picture this test holds the code to. A new top-level module or
package must be given a layer here; stages import only layers at or below their own, and the two service
stages that sit side by side (deploy and the emulator) never import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "policygen"

# Bottom to top: the foundation, the pack, rendering, validation, evaluation, the services, exports,
# orchestration, output, the command line.
LAYERS: dict[str, int] = {
    "policygen": 0,
    "policygen.arm": 0,
    "policygen.errors": 0,
    "policygen.intents": 1,
    "policygen.artefacts": 2,
    "policygen.render": 2,
    "policygen.assignment_effects": 2,
    "policygen.rules": 3,
    "policygen.evaluate": 4,
    "policygen.azure": 5,
    "policygen.emulator": 5,
    "policygen.export": 6,
    "policygen.tasks": 7,
    "policygen.views": 8,
    "policygen.commands": 9,
    "policygen.cli": 10,
    "policygen.__main__": 10,
}
SIDE_BY_SIDE = {("policygen.azure", "policygen.emulator"), ("policygen.emulator", "policygen.azure")}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def _edges(mods: dict[str, Path]) -> set[tuple[str, str]]:
    """Every import between our modules, wherever it sits (function bodies and TYPE_CHECKING blocks too)."""
    edges = set()
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in mods]
                targets = subs + ([module] if len(subs) < len(node.names) else [])
            else:
                continue
            edges.update((name, t) for t in targets if t in mods and t != name)
    return edges


def _area(module: str) -> str:
    best = ""
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return best


def _loops(mods: dict[str, Path], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    graph: dict[str, list[str]] = {m: [] for m in mods}
    for a, b in edges:
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp.append(member)
                        if member == node:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Path], set[tuple[str, str]]]:
    mods = _modules()
    return mods, _edges(mods)


def test_every_module_has_a_layer(graph) -> None:
    mods, _ = graph
    assert [m for m in mods if not _area(m)] == []


def test_no_import_loops(graph) -> None:
    mods, edges = graph
    assert _loops(mods, edges) == []


def test_no_upward_or_sideways_imports(graph) -> None:
    _, edges = graph
    bad = []
    for a, b in sorted(edges):
        area_a, area_b = _area(a), _area(b)
        if LAYERS[area_b] > LAYERS[area_a] or (area_a, area_b) in SIDE_BY_SIDE:
            bad.append(f"{a} -> {b}")
    assert bad == []


def test_foundation_imports_nothing_else_of_ours(graph) -> None:
    """Only the error types (file:line:col diagnostics) are shared with the foundation."""
    _, edges = graph
    allowed = {"policygen.arm", "policygen.errors"}
    assert sorted(f"{a} -> {b}" for a, b in edges if _area(a) == "policygen.arm" and _area(b) not in allowed) == []


def test_loop_finder_finds_a_loop() -> None:
    """The check above can fail: a two-module cycle is reported."""
    mods = {"a": Path("a"), "b": Path("b"), "c": Path("c")}
    assert _loops(mods, {("a", "b"), ("b", "a"), ("b", "c")}) == [["a", "b"]]
