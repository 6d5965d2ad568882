"""JSON pointer → (line, col) in the original text, computed only for files that have findings.

Parsing every file with positions would cost more than the whole validation, so the validator parses
with the fast C parser and, only when a file has findings, scans its text once with a token regex,
tracking the pointer of every value and stopping when all wanted pointers (or their parents) are seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _esc(key: str) -> str:
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


def locate(text: str, pointers: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Map each pointer to the 1-based (line, col) of its key (object members) or value (array items).

    A pointer that does not exist (e.g. a missing key) maps to its nearest existing parent.
    """
    wanted = set(pointers)
    prefixes: set[str] = set()
    for p in wanted:
        prefixes.add(p)
        while p:
            p = p.rsplit("/", 1)[0]
            if p in prefixes:
                break
            prefixes.add(p)
    found: dict[str, tuple[int, int]] = {"": (1, 1)}
    remaining = len(prefixes - {""})
    # Frame: [is_object, pointer_of_container, next_index_or_pending_key, expecting_key]
    stack: list[list] = []
    line, line_start, scanned = 1, 0, 0
    pending: str | None = None  # pointer of the value about to be read
    for m in _TOKEN.finditer(text):
        if remaining <= 0:
            break
        tok = m.group()
        c = tok[0]
        pos = m.start()
        if c == "}" or c == "]":
            stack.pop()
            continue
        if c == ",":
            if stack and stack[-1][0]:
                stack[-1][3] = True
            continue
        if c == ":":
            continue
        top = stack[-1] if stack else None
        if top is not None and top[0] and top[3]:
            # an object key
            key = json.loads(tok) if "\\" in tok else tok[1:-1]
            ptr = top[1] + "/" + _esc(key)
            top[3] = False
            if ptr in prefixes and ptr not in found:
                nl = text.count("\n", scanned, pos)
                if nl:
                    line += nl
                    line_start = text.rfind("\n", scanned, pos) + 1
                scanned = pos
                found[ptr] = (line, pos - line_start + 1)
                remaining -= 1
            pending = ptr
            continue
        # a value
        if top is None:
            ptr = ""
        elif top[0]:
            ptr = pending or top[1]
        else:
            ptr = top[1] + "/" + str(top[2])
            top[2] += 1
            if ptr in prefixes and ptr not in found:
                nl = text.count("\n", scanned, pos)
                if nl:
                    line += nl
                    line_start = text.rfind("\n", scanned, pos) + 1
                scanned = pos
                found[ptr] = (line, pos - line_start + 1)
                remaining -= 1
        if c == "{":
            stack.append([True, ptr, 0, True])
        elif c == "[":
            stack.append([False, ptr, 0, False])
    out: dict[str, tuple[int, int]] = {}
    for p in wanted:
        q = p
        while q not in found:
            q = q.rsplit("/", 1)[0] if "/" in q else ""
        out[p] = found[q]
    return out
