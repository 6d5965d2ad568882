"""A small HCL writer whose output is already what `terraform fmt` produces.

terraform fmt (hclwrite) aligns the `=` of consecutive lines that each hold a whole attribute
(`key = value` with balanced brackets). Any other line ends the run: a blank line, a comment, a block
header, `key = {` / `key = [` opening a multi-line value, a closing bracket, a list item. Inside a run,
every key is padded to the widest key (counted in characters, as hclwrite counts runes). Indentation is
two spaces per open bracket. Values never span lines except through nested objects and lists, so these
rules are all the formatter applies to what we emit; tests check them against the real terraform binary
when it is installed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

INLINE_LIST_MAX = 60
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Line:
    indent: int
    key: str | None  # None: not an attribute line (item, bracket, block header, comment, blank)
    text: str  # the value (for attribute lines) or the whole line content
    opens: bool = False  # `key = {` / `key = [`: not aligned, ends a run

    @property
    def aligned(self) -> bool:
        return self.key is not None and not self.opens


def string(text: str) -> str:
    """A quoted HCL string whose value is exactly `text` (template sequences `${`/`%{` escaped)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch in "\u2028\u2029\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


def key(name: str, bare: bool = False) -> str:
    """Object key: quoted unless `bare` and a plain identifier (data keys are always quoted, so keys such
    as `for`, `if` or `null` are never read as syntax)."""
    return name if bare and _IDENT.match(name) else string(name)


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return string(value)
    raise TypeError(f"not a scalar: {value!r}")


def _inline(value: Any) -> str | None:
    if isinstance(value, dict):
        return "{}" if not value else None
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(not isinstance(v, dict | list) for v in value):
            text = "[" + ", ".join(scalar(v) for v in value) + "]"
            return text if len(text) <= INLINE_LIST_MAX else None
        return None
    return scalar(value)


class Raw(str):
    """An HCL expression written as is (e.g. `var.assignment_scopes["prod"]`)."""


def value_lines(name: str | None, value: Any, indent: int, suffix: str = "", bare_keys: bool = False) -> list[Line]:
    """Lines for `name = value` (or a bare list item when name is None). Data keys are sorted."""
    inline = str(value) if isinstance(value, Raw) else _inline(value)
    if inline is not None:
        return [Line(indent, name, inline + suffix)]
    out: list[Line] = []
    open_ch, close_ch = ("{", "}") if isinstance(value, dict) else ("[", "]")
    out.append(Line(indent, name, open_ch, opens=True) if name is not None else Line(indent, None, open_ch))
    if isinstance(value, dict):
        for k in sorted(value):
            out.extend(value_lines(key(k, bare_keys), value[k], indent + 2))
    else:
        for item in value:
            out.extend(value_lines(None, item, indent + 2, suffix=","))
    out.append(Line(indent, None, close_ch + suffix))
    return out


def render(lines: list[Line]) -> str:
    """Join lines, aligning `=` within each run of attribute lines."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.aligned:
            pad = " " * line.indent
            if line.key is not None:
                out.append(f"{pad}{line.key} = {line.text}")
            else:
                out.append(f"{pad}{line.text}" if line.text else "")
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].aligned:
            j += 1
        width = max(len(lines[k].key or "") for k in range(i, j))
        for k in range(i, j):
            run = lines[k]
            out.append(f"{' ' * run.indent}{(run.key or '').ljust(width)} = {run.text}")
        i = j
    return "\n".join(out) + "\n"


def block(header: str, body: list[Line], indent: int = 0) -> list[Line]:
    """`header {` body `}` (body lines already indented by the caller)."""
    return [Line(indent, None, header + " {"), *body, Line(indent, None, "}")]
