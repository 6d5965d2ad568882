"""Safe YAML loading that remembers where every key and item came from.

PyYAML's SafeLoader keeps the last of two duplicate keys without a word; a policy whose effect is
silently replaced is exactly the bug we exist to prevent, so duplicates are reported. Positions are
kept beside the data (`Located` dicts and lists) so that model errors can point at `file:line:col`.

Hostile input is refused while composing, before anything is built: nesting deeper than
`policygen.arm.json_text.MAX_DEPTH` (PyYAML composes recursively: a RecursionError otherwise), and
aliases whose expansion (nodes plus characters, what `to_plain` or JSON output would produce) exceeds
the document's own size by far - the "billion laughs" pack that took `build` to 3.7 GB - or that
contain themselves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.error import Mark, MarkedYAMLError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policygen.arm.json_text import MAX_DEPTH
from policygen.errors import Diagnostic, DiagnosticSink

ALIAS_BUDGET_MIN = 1_000_000  # expansion allowed whatever the size: anchors reused for lists and settings
ALIAS_BUDGET_FACTOR = 4  # ... or this many times the text
_FLOW_RUN = re.compile(rf"[\[{{](?:[ \t\r\n]*[\[{{]){{{MAX_DEPTH}}}")


class YamlLimitError(MarkedYAMLError):
    """Well-formed YAML that policygen refuses to expand (too deep, alias bomb, recursive alias)."""


class BoundedComposer(Composer):
    """Composer mixin: depth limit while composing, alias expansion checked once the document is composed."""

    _depth = 0
    _alias_uses: list[tuple[Mark, Node]] | None = None

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            if self._alias_uses is None:
                self._alias_uses = []
            self._alias_uses.append((mark, node))
            return node
        if self._depth >= MAX_DEPTH:
            raise YamlLimitError(
                None, None, f"nested more than {MAX_DEPTH} levels deep; refusing it", self.peek_event().start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None and self._alias_uses:
            text_size = len(getattr(self, "buffer", "") or "")
            check_expansion(node, self._alias_uses, max(ALIAS_BUDGET_MIN, ALIAS_BUDGET_FACTOR * text_size))
        return node


def expanded_sizes(root: Node) -> tuple[dict[int, int], int | None]:
    """Expanded size (nodes + scalar characters) of every node reachable from `root`, without expanding
    anything: each node is sized once (iteratively, shared nodes memoised). Second value: the id of a node
    that contains itself, if any."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            if isinstance(node, SequenceNode):
                size[key] = 1 + sum(size[id(c)] for c in node.value)
            else:
                size[key] = 1 + sum(size[id(k)] + size[id(v)] for k, v in node.value)
            continue
        if key in size:
            continue
        if isinstance(node, ScalarNode):
            size[key] = 1 + len(node.value)
            continue
        if key in on_path:
            return size, key
        on_path.add(key)
        stack.append((node, True))
        children = node.value if isinstance(node, SequenceNode) else [n for pair in node.value for n in pair]
        for child in children:
            if id(child) not in size:
                if id(child) in on_path:
                    return size, id(child)
                stack.append((child, False))
    return size, None


def check_expansion(root: Node, alias_uses: list[tuple[Mark, Node]], budget: int) -> None:
    """Raise YamlLimitError at the alias to blame when the aliases make the document too large or cyclic."""
    size, cyclic = expanded_sizes(root)
    if cyclic is not None:
        mark = next((m for m, n in alias_uses if id(n) == cyclic), alias_uses[0][0])
        raise YamlLimitError(None, None, "this alias refers to a node that contains it (a recursive structure)", mark)
    total = size.get(id(root), 0)
    if total > budget:
        mark, _ = max(alias_uses, key=lambda use: size.get(id(use[1]), 0))
        raise YamlLimitError(
            None,
            None,
            f"aliases expand this document to more than {budget:,} values and characters; refusing it "
            "(an alias bomb?). Repeat the value instead of using anchors, or use fewer levels of aliases",
            mark,
        )


class LocatedDict(dict):
    """A dict with `pos` (its own position) and `key_pos`/`value_pos` per key; positions are 1-based."""

    pos: tuple[int, int] = (0, 0)
    key_pos: dict[Any, tuple[int, int]]
    value_pos: dict[Any, tuple[int, int]]


class LocatedList(list):
    pos: tuple[int, int] = (0, 0)
    item_pos: list[tuple[int, int]]


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Loader(BoundedComposer, yaml.SafeLoader):
    """SafeLoader that builds Located containers, reports duplicate keys and refuses hostile nesting."""

    def __init__(self, stream: str, filename: str, sink: DiagnosticSink) -> None:
        super().__init__(stream)
        self.filename = filename
        self.sink = sink

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> LocatedDict:  # type: ignore[override]
        self.flatten_mapping(node)
        out = LocatedDict()
        out.pos = _mark(node)
        out.key_pos, out.value_pos = {}, {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                self.sink.add(self.filename, *_mark(key_node), "mapping keys must be plain scalars")
                continue
            if key in out:
                first = out.key_pos[key]
                self.sink.add(
                    self.filename,
                    *_mark(key_node),
                    f"duplicate key {key!r} (first defined at line {first[0]}); YAML would silently keep the last",
                )
                continue
            out[key] = self.construct_object(value_node, deep=True)
            out.key_pos[key] = _mark(key_node)
            out.value_pos[key] = _mark(value_node)
        return out

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LocatedList:  # type: ignore[override]
        out = LocatedList(self.construct_object(child, deep=True) for child in node.value)
        out.pos = _mark(node)
        out.item_pos = [_mark(child) for child in node.value]
        return out


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def load_yaml(path: Path, sink: DiagnosticSink, display: str | None = None) -> Any:
    """Parse one YAML file; syntax errors and duplicates go to `sink`. Returns None when unusable."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        sink.add(name, 0, 0, f"cannot read file: {exc}")
        return None
    return loads_yaml(text, name, sink)


def _flow_run_too_deep(text: str) -> tuple[int, int] | None:
    """Where a run of more than MAX_DEPTH flow openers (`[[[[...`) starts nesting too deep. PyYAML's scanner
    keeps a possible simple key per open flow level (up to 1,024 characters back) and rescans them for every
    token, so such a run costs it about a second before the composer can refuse; this regex costs nothing."""
    m = _FLOW_RUN.search(text)
    if not m:
        return None
    off = m.end() - 1
    return text.count("\n", 0, off) + 1, off - (text.rfind("\n", 0, off) + 1) + 1


# PyYAML's parser messages name grammar tokens; what a person usually did wrong instead.
_HINTS = (
    ("expected <block end>", "check the indentation of this line and the one above (keys of one mapping or "
     "items of one list line up)"),
    ("mapping values are not allowed", "a key here is indented under a plain value, or a value holding ': ' "
     "needs quotes"),
    ("could not find expected ':'", "a key needs ': ' after it, or a quote is not closed"),
    ("found character '\\t'", "indent with spaces; YAML does not allow tabs"),
)


def syntax_hint(problem: str) -> str:
    return next((f": {hint}" for start, hint in _HINTS if problem.startswith(start)), "")


def loads_yaml(text: str, name: str, sink: DiagnosticSink) -> Any:
    before = len(sink.items)
    deep = _flow_run_too_deep(text)
    if deep:
        sink.add(name, *deep, f"nested more than {MAX_DEPTH} levels deep; refusing it")
        return None
    try:
        loader = _Loader(text, name, sink)
    except yaml.YAMLError as exc:  # the reader refuses control characters before parsing starts
        sink.add(name, 0, 0, f"invalid YAML: {exc}")
        return None
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        prefix = "" if isinstance(exc, YamlLimitError) else "invalid YAML: "
        sink.add(name, line, col, f"{prefix}{exc.problem or exc.context}{syntax_hint(exc.problem or '')}")
        return None
    except yaml.YAMLError as exc:
        sink.add(name, 0, 0, f"invalid YAML: {exc}")
        return None
    finally:
        loader.dispose()
    return None if len(sink.items) > before else data


def position(data: Any, loc: tuple[Any, ...]) -> tuple[int, int]:
    """Best YAML position for a path of keys/indexes into loaded data (deepest one known)."""
    best = getattr(data, "pos", (0, 0))
    node = data
    for part in loc:
        if isinstance(node, LocatedDict) and part in node:
            best = node.value_pos.get(part, best)
            node = node[part]
        elif isinstance(node, LocatedList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.item_pos[part]
            node = node[part]
        else:
            break
    return best


def key_position(data: Any, loc: tuple[Any, ...]) -> tuple[int, int]:
    """Position of the *key* at the end of `loc` (for 'unknown key' messages)."""
    parent_loc, last = loc[:-1], loc[-1] if loc else None
    node = data
    for part in parent_loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return position(data, loc)
    if isinstance(node, LocatedDict) and last in node.key_pos:
        return node.key_pos[last]
    return position(data, loc)


def to_plain(data: Any) -> Any:
    """Strip position info (plain dicts/lists), e.g. before putting values into JSON."""
    if isinstance(data, dict):
        return {k: to_plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [to_plain(v) for v in data]
    return data


__all__ = [
    "BoundedComposer",
    "Diagnostic",
    "YamlLimitError",
    "LocatedDict",
    "LocatedList",
    "load_yaml",
    "loads_yaml",
    "position",
    "key_position",
    "to_plain",
]
