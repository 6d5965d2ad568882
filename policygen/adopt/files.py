"""JSON and JSONC files of a landing-zone repository, read with positioned errors collected for the whole run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from policygen.arm import json_text
from policygen.errors import DiagnosticSink

MAX_FILE_BYTES = json_text.MAX_BODY_BYTES
_JSONC = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/', re.DOTALL)


def strip_comments(text: str) -> str:
    """JSONC → JSON with every comment blanked (newlines kept, so line:col still point into the file)."""
    def blank(m: re.Match[str]) -> str:
        s = m.group()
        return s if s.startswith('"') else re.sub(r"[^\n]", " ", s)
    return _JSONC.sub(blank, text)


def read_json(path: Path, sink: DiagnosticSink, shown: str | None = None) -> Any:
    """A JSON/JSONC document, or None with a `file:line:col` diagnostic in `sink`."""
    name = shown or str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            sink.add(name, 1, 1, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB (ARM's body limit)")
            return None
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        sink.add(name, 0, 0, f"cannot read file: {exc}")
        return None
    try:
        return json_text.loads(strip_comments(text))
    except json_text.JsonTextError as exc:
        sink.add(name, exc.line or 1, exc.col or 1, f"invalid JSON: {exc.message}")
        return None


def line_of(path: Path, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of `needle` in a file (for messages about a key)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return 1, 1
    at = text.find(needle)
    if at < 0:
        return 1, 1
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def unescape(value: Any) -> Any:
    """ARM template escaping undone: a string starting with `[[` is the literal expression `[...`."""
    if isinstance(value, str):
        return value[1:] if value.startswith("[[") else value
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unescape(v) for v in value]
    return value
