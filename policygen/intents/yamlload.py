"""Safe YAML loading that remembers where every key and item came from.

PyYAML's SafeLoader keeps the last of two duplicate keys without a word; a policy whose effect is
silently replaced is exactly the bug we exist to prevent, so duplicates are reported. Positions are
kept beside the data (`Located` dicts and lists) so that model errors can point at `file:line:col`.

Two loaders build the same `Located` data. libyaml's (PyYAML's C parser, in the PyPI wheels) is about
eight times faster than the pure-Python one, which decides whenever libyaml is missing or the document
is anything but a clean, bounded one: a syntax error, a duplicate key, deep nesting or an alias bomb
(`yamlguard`) is reported by the pure loader, so every message and position is the same either way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policygen.arm.json_text import MAX_DEPTH
from policygen.errors import Diagnostic, DiagnosticSink
from policygen.intents.yamlguard import (
    BoundedComposer,
    YamlLimitError,
    expansion_problem,
    flow_run_too_deep,
    nests_shallowly,
)

try:  # libyaml is compiled into PyYAML's wheels; a source build without it falls back to the pure loader
    from yaml import CSafeLoader as _CSafeLoader
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CSafeLoader = _CParser = None  # type: ignore[assignment,misc]

FAST = _CSafeLoader is not None
# Where libyaml and the pure parser part ways, the pure loader decides: tabs (libyaml takes some the pure
# scanner refuses), line breaks other than \n and \r\n, a byte order mark inside the text, and explicit
# keys (`? key`: an empty value after one is marked at the next token by libyaml).
_PURE_ONLY = re.compile("[\t\x85\u2028\u2029\ufeff]|\\?(?![^ \r\n])")


class LocatedDict(dict):
    """A dict with `pos` (its own position) and `key_pos`/`value_pos` per key; positions are 1-based."""

    pos: tuple[int, int] = (0, 0)
    key_pos: dict[Any, tuple[int, int]]
    value_pos: dict[Any, tuple[int, int]]


class LocatedList(list):
    pos: tuple[int, int] = (0, 0)
    item_pos: list[tuple[int, int]]


_STR_TAG = "tag:yaml.org,2002:str"


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Located(yaml.constructor.SafeConstructor):
    """Constructor mixin: Located containers, duplicate keys reported to `sink`."""

    def __init__(self, stream: str, filename: str, sink: DiagnosticSink) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self.filename = filename
        self.sink = sink

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> LocatedDict:  # type: ignore[override]
        if not isinstance(node, MappingNode):  # `!!map` on a scalar or a list
            raise ConstructorError(None, None, f"expected a mapping, but found a {node.id}", node.start_mark)
        self.flatten_mapping(node)
        out = LocatedDict()
        out.pos = _mark(node)
        key_pos: dict[Any, tuple[int, int]] = {}
        value_pos: dict[Any, tuple[int, int]] = {}
        out.key_pos, out.value_pos = key_pos, value_pos
        for key_node, value_node in node.value:
            key = self._value(key_node)
            try:
                hash(key)
            except TypeError:
                self.sink.add(self.filename, *_mark(key_node), "mapping keys must be plain scalars")
                continue
            if key in out:
                first = key_pos[key]
                self.sink.add(
                    self.filename,
                    *_mark(key_node),
                    f"duplicate key {key!r} (first defined at line {first[0]}); YAML would silently keep the last",
                )
                continue
            out[key] = self._value(value_node)
            mark = key_node.start_mark
            key_pos[key] = (mark.line + 1, mark.column + 1)
            mark = value_node.start_mark
            value_pos[key] = (mark.line + 1, mark.column + 1)
        return out

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LocatedList:  # type: ignore[override]
        if not isinstance(node, SequenceNode):  # `!!seq` on a scalar or a mapping
            raise ConstructorError(None, None, f"expected a list, but found a {node.id}", node.start_mark)
        out = LocatedList(self._value(child) for child in node.value)
        out.pos = _mark(node)
        out.item_pos = [(c.start_mark.line + 1, c.start_mark.column + 1) for c in node.value]
        return out

    def _value(self, node: Node) -> Any:
        """A child's value; a plain string (most of a pack) without PyYAML's per-node dispatch, which returns
        the same `node.value` for it."""
        if node.__class__ is ScalarNode and node.tag == _STR_TAG:
            return node.value
        return self.construct_object(node, deep=True)


def _building_located(cls: type) -> type:
    cls.add_constructor("tag:yaml.org,2002:map", _Located.construct_mapping)  # type: ignore[attr-defined]
    cls.add_constructor("tag:yaml.org,2002:seq", _Located.construct_sequence)  # type: ignore[attr-defined]
    return cls


@_building_located
class _Loader(BoundedComposer, _Located, yaml.SafeLoader):
    """The pure-Python loader: refuses hostile nesting and aliases while composing."""


class _Diverges(Exception):
    """libyaml placed something where the pure parser would place it differently: let the pure loader load it."""


def _empty_plain(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.value == "" and not node.style


class _FastConstruction(_Located):
    """libyaml marks an empty value in a flow collection (`{a: }`, `{a, b}`) at the next token, the pure
    parser right after the indicator before it; such documents are left to the pure loader."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> LocatedDict:  # type: ignore[override]
        if node.flow_style and any(_empty_plain(k) or _empty_plain(v) for k, v in node.value):
            raise _Diverges
        return super().construct_mapping(node, deep)

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LocatedList:  # type: ignore[override]
        if node.flow_style and any(_empty_plain(c) for c in node.value):
            raise _Diverges
        return super().construct_sequence(node, deep)


# libyaml scans, parses and composes; our constructor builds the same Located data from its nodes
_FastLoader: Any = None
if _CSafeLoader is not None:
    _FastLoader = type("_FastLoader", (_FastConstruction, _CSafeLoader), {})
    _FastLoader.add_constructor("tag:yaml.org,2002:map", _FastConstruction.construct_mapping)
    _FastLoader.add_constructor("tag:yaml.org,2002:seq", _FastConstruction.construct_sequence)


def load_yaml(path: Path, sink: DiagnosticSink, display: str | None = None) -> Any:
    """Parse one YAML file; syntax errors and duplicates go to `sink`. Returns None when unusable."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        sink.add(name, 0, 0, f"cannot read file: {exc}")
        return None
    return loads_yaml(text, name, sink)


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


def loads_yaml(text: str, name: str, sink: DiagnosticSink, *, fast: bool | None = None) -> Any:
    """Parse one YAML text; problems go to `sink` (None returned). `fast=False` forces the pure loader
    (tests compare the two); by default libyaml is used when present."""
    deep = flow_run_too_deep(text)
    if deep:
        sink.add(name, *deep, f"nested more than {MAX_DEPTH} levels deep; refusing it")
        return None
    if fast is not False and FAST:
        done, data = _load_fast(text, name)
        if done:
            return data
    return _load_pure(text, name, sink)


def _load_fast(text: str, name: str) -> tuple[bool, Any]:
    """(True, data) for a clean, bounded document; (False, None) when the pure loader must decide and say
    what is wrong (syntax, duplicates, depth, aliases), so messages never depend on which parser ran."""
    if _PURE_ONLY.search(text) or not nests_shallowly(text, _CParser):
        return False, None
    quiet = DiagnosticSink()
    loader = _FastLoader(text, name, quiet)
    try:
        node = loader.get_single_node()
        if node is not None and expansion_problem(node, text):
            return False, None
        data = loader.construct_document(node) if node is not None else None
    except Exception:  # noqa: BLE001 - any refusal by libyaml (or text it cannot encode) goes to the pure loader
        return False, None
    finally:
        loader.dispose()
    return (False, None) if quiet.items else (True, data)


def _load_pure(text: str, name: str, sink: DiagnosticSink) -> Any:
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
