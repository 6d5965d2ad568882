"""Bounds on hostile YAML, shared by both loaders in `yamlload` (and the emulator's seed loader).

Refused before anything is built: nesting deeper than `policygen.arm.json_text.MAX_DEPTH` (PyYAML composes
recursively: a RecursionError in Python, a segmentation fault in libyaml's composer), and aliases whose
expansion (nodes plus characters, what `to_plain` or JSON output would produce) exceeds the document's own
size by far - the "billion laughs" pack that took `build` to 3.7 GB - or that contain themselves.

The pure composer checks while composing (`BoundedComposer`). libyaml composes in C, where nothing can be
hooked in, so its guards run around it: `nests_shallowly` (a character count, or libyaml's own event stream
when the count is inconclusive) before composing, `expansion_problem` on the composed node graph after.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.composer import Composer
from yaml.error import Mark, MarkedYAMLError
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent
from yaml.nodes import Node, ScalarNode, SequenceNode

from policygen.arm.json_text import MAX_DEPTH

ALIAS_BUDGET_MIN = 1_000_000  # expansion allowed whatever the size: anchors reused for lists and settings
ALIAS_BUDGET_FACTOR = 4  # ... or this many times the text
_FLOW_RUN = re.compile(rf"[\[{{](?:[ \t\r\n]*[\[{{]){{{MAX_DEPTH}}}")
# Every collection node starts at one of these characters and no two share one: a block sequence at its
# first `-`, a block or single-pair mapping at its first `:` (or `?`), a flow collection at `[` / `{`.
_NESTERS = ("-", ":", "?", "[", "{")


class YamlLimitError(MarkedYAMLError):
    """Well-formed YAML that policygen refuses to expand (too deep, alias bomb, recursive alias)."""


def alias_budget(text_size: int) -> int:
    return max(ALIAS_BUDGET_MIN, ALIAS_BUDGET_FACTOR * text_size)


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
            check_expansion(node, self._alias_uses, alias_budget(text_size))
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


def expansion_problem(root: Node, text: str) -> bool:
    """Whether aliases in a composed document are cyclic or over budget (the pure loader then says where).
    Without both an anchor and an alias character there can be no shared node: nothing to walk."""
    if "&" not in text or "*" not in text:
        return False
    size, cyclic = expanded_sizes(root)
    return cyclic is not None or size.get(id(root), 0) > alias_budget(len(text) + 1)


def flow_run_too_deep(text: str) -> tuple[int, int] | None:
    """Where a run of more than MAX_DEPTH flow openers (`[[[[...`) starts nesting too deep. PyYAML's scanner
    keeps a possible simple key per open flow level (up to 1,024 characters back) and rescans them for every
    token, so such a run costs it about a second before the composer can refuse; this regex costs nothing."""
    m = _FLOW_RUN.search(text)
    if not m:
        return None
    off = m.end() - 1
    return text.count("\n", 0, off) + 1, off - (text.rfind("\n", 0, off) + 1) + 1


def nests_shallowly(text: str, parser_class: Any) -> bool:
    """True when no collection in `text` can reach MAX_DEPTH levels, so libyaml may compose it (it recurses
    in C without a limit: 100,000 levels crash the process). Most intents hold fewer nesting characters
    than the limit; otherwise libyaml's event stream (no recursion) is followed until it gets that deep.
    False is conservative: the pure loader decides and reports."""
    if sum(text.count(c) for c in _NESTERS) < MAX_DEPTH:
        return True
    parser = parser_class(text)
    depth = 0
    try:
        while True:
            event = parser.get_event()
            if event is None:
                return True
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth >= MAX_DEPTH:
                    return False
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except Exception:  # noqa: BLE001 - malformed text: the pure loader reports it
        return False
    finally:
        parser.dispose()
