"""Safe YAML loading that remembers where every key and item came from.

PyYAML's SafeLoader keeps the last of two duplicate keys without a word; a policy whose effect is
silently replaced is exactly the bug we exist to prevent, so duplicates are reported. Positions are
kept beside the data (`Located` dicts and lists) so that model errors can point at `file:line:col`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from policygen.errors import Diagnostic, DiagnosticSink


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


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds Located containers and reports duplicate keys."""

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


def loads_yaml(text: str, name: str, sink: DiagnosticSink) -> Any:
    before = len(sink.items)
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
        sink.add(name, line, col, f"invalid YAML: {exc.problem or exc.context}")
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
    "Diagnostic",
    "LocatedDict",
    "LocatedList",
    "load_yaml",
    "loads_yaml",
    "position",
    "key_position",
    "to_plain",
]
