"""JSON pointer → (line, col) in the original text, computed only for files that have findings.

Parsing every file with positions would cost more than the whole validation, so the validator parses
with the fast C parser and, only when a file has findings, tokenizes its text once (the text is known
to be valid JSON by then), tracking the pointer of every value and stopping as soon as every wanted
pointer (or its nearest parent) has been seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from policygen.rules.nodes import esc

# Strings, structural characters and bare literals; `:` and whitespace fall between matches.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],]|[^\s{}\[\]:,"]+')


class _Lines:
    """1-based (line, col) of increasing offsets, counting newlines only once."""

    __slots__ = ("text", "line", "start", "scanned")

    def __init__(self, text: str):
        self.text, self.line, self.start, self.scanned = text, 1, 0, 0

    def at(self, pos: int) -> tuple[int, int]:
        newlines = self.text.count("\n", self.scanned, pos)
        if newlines:
            self.line += newlines
            self.start = self.text.rfind("\n", self.scanned, pos) + 1
        self.scanned = pos
        return self.line, pos - self.start + 1


class _Frame:
    """An open object (`key` = pointer of the member being read, None while a key is expected) or array."""

    __slots__ = ("ptr", "is_object", "key", "index")

    def __init__(self, ptr: str, is_object: bool):
        self.ptr, self.is_object, self.key, self.index = ptr, is_object, None, 0


def _with_parents(pointers: set[str]) -> set[str]:
    out: set[str] = set()
    for p in pointers:
        while p not in out:
            out.add(p)
            p = p.rsplit("/", 1)[0] if "/" in p else ""
    return out


def locate(text: str, pointers: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Map each pointer to the 1-based (line, col) of its key (object members) or value (array items).

    A pointer that does not exist (e.g. a missing key) maps to its nearest existing parent.
    """
    wanted = set(pointers)
    interesting = _with_parents(wanted)
    found: dict[str, tuple[int, int]] = {"": (1, 1)}
    remaining = len(interesting - {""})
    lines = _Lines(text)
    stack: list[_Frame] = []
    for m in _TOKEN.finditer(text):
        if remaining <= 0:
            break
        tok = m.group()
        c = tok[0]
        if c == "}" or c == "]":
            stack.pop()
            continue
        top = stack[-1] if stack else None
        if c == ",":
            if top is not None and top.is_object:
                top.key = None
            continue
        if top is None:
            ptr, mark = "", False
        elif top.is_object and top.key is None:  # a member's key: the member is located here
            top.key = ptr = top.ptr + "/" + esc(json.loads(tok) if "\\" in tok else tok[1:-1])
            mark = True
        elif top.is_object:  # the member's value
            ptr, mark = top.key, False
        else:  # an array item is located at its value
            ptr, mark = f"{top.ptr}/{top.index}", True
            top.index += 1
        if mark and ptr in interesting and ptr not in found:
            found[ptr] = lines.at(m.start())
            remaining -= 1
        if c == "{" or c == "[":
            stack.append(_Frame(ptr, c == "{"))
    out: dict[str, tuple[int, int]] = {}
    for p in wanted:
        q = p
        while q not in found:
            q = q.rsplit("/", 1)[0] if "/" in q else ""
        out[p] = found[q]
    return out
