"""Module graph of policygen/: module count, package-to-package imports and import loops (type-only included).

Usage: python scripts/import_graph.py [--edges]   (run from the repository root)
Every `import` / `from ... import` counts, also inside functions and `if TYPE_CHECKING:`, because a loop
through a type-only import still ties the modules together.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "policygen"

# The pipeline's layers, bottom to top (CONTRIBUTING.md draws them): a module imports only its own layer or
# lower ones, and deploy and the emulator, side by side, never import each other.
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
    "policygen.templates": 4,  # beside evaluate, whose parser and pure functions its expressions call
    "policygen.azure": 5,
    "policygen.emulator": 5,
    "policygen.export": 6,
    "policygen.adopt": 6,
    "policygen.tasks": 7,
    "policygen.views": 8,
    "policygen.commands": 9,
    "policygen.cli": 10,
    "policygen.__main__": 10,
}
SIDE_BY_SIDE = {("policygen.azure", "policygen.emulator"), ("policygen.emulator", "policygen.azure")}


def layer_of(module: str) -> str:
    """The most specific LAYERS entry a module belongs to ("" when none)."""
    best = ""
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return best


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports that run up the layers or sideways between deploy and the emulator."""
    bad = []
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            a, b = layer_of(name), layer_of(target)
            if a and b and (LAYERS[b] > LAYERS[a] or (a, b) in SIDE_BY_SIDE):
                bad.append(f"{name} -> {target}")
    return bad


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ["policygen", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            subs = [f"{base}.{a.name}" for a in node.names]
            # `from pkg import module` depends on the module; `from pkg import name` on pkg itself
            targets = subs if all(t in known for t in subs) else [*subs, base]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        member = stack.pop()
                        on.discard(member)
                        comp.append(member)
                        if member == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def graph() -> dict[str, set[str]]:
    """Module → the policygen modules it imports."""
    mods = modules()
    return {m: imports(m, p, set(mods)) for m, p in mods.items()}


def main() -> int:
    mods = modules()
    graph = {m: imports(m, p, set(mods)) for m, p in mods.items()}
    area = lambda m: ".".join(m.split(".")[:2])  # noqa: E731
    cross: dict[tuple[str, str], int] = defaultdict(int)
    for m, targets in graph.items():
        for t in targets:
            if area(m) != area(t) and not area(m) == "policygen" == area(t):
                cross[(area(m), area(t))] += 1
    loops = cycles(graph)
    upward = violations(graph)
    print(
        f"modules: {len(mods)}; import edges: {sum(map(len, graph.values()))}; "
        f"cross-area edges: {sum(cross.values())} ({len(cross)} area pairs); loops: {len(loops)}; "
        f"upward or sideways imports: {len(upward)}"
    )
    for comp in loops:
        print(f"  loop of {len(comp)}: {', '.join(comp)}")
    for edge in upward:
        print(f"  upward: {edge}")
    if "--edges" in sys.argv:
        for (a, b), n in sorted(cross.items()):
            print(f"  {a} -> {b}: {n}")
    return 1 if loops or upward else 0


if __name__ == "__main__":
    raise SystemExit(main())
