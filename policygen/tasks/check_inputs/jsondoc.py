"""A deployment file parsed with where each object and array sits, so a finding points at its line.

JSON parsed by the standard library's pure-Python scanner with its object/array parsers wrapped to record the
span of every container (`id(container)` → (start, end) offsets); the C scanner offers no such hook. Depth is
checked on the bytes first (`arm.json_text.too_deep`), so hostile nesting never reaches the recursive parser;
ARM template comments (`//`, `/* */`) are blanked with their newlines kept. The pure-Python scanner is
~6x slower than the C one, so in files over ARM's 4 MB template limit (plans, what-if output) only containers
down to SHALLOW_DEPTH get positions and the C scanner parses what lies deeper.
"""

from __future__ import annotations

import bisect
import gc
import json
import re
from json import decoder, scanner
from pathlib import Path
from typing import Any

from policygen.arm import json_text
from policygen.errors import Diagnostic, InputError

MAX_FILE_BYTES = 64 * 1024 * 1024  # a terraform plan of a large estate fits; a bigger file is refused unread
FULL_POSITIONS_BYTES = 4 * 1024 * 1024  # ARM's template size limit
SHALLOW_DEPTH = 6  # a plan's change.after and a what-if change's after body are at depth 4
_JSONC = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_KEY = r'(?<!\\)"{}"\s*:'


def _strip_comments(text: str) -> str:
    if "/" not in text:
        return text

    def blank(m: re.Match[str]) -> str:
        s = m.group()
        return s if s.startswith('"') else re.sub(r"[^\n]", " ", s)

    return _JSONC.sub(blank, text)


class Document:
    """A parsed JSON file and the offsets of its containers."""

    def __init__(self, path: Path, text: str, data: Any, spans: dict[int, tuple[int, int]]):
        self.path, self.text, self.data, self.spans = path, text, data, spans
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    @property
    def name(self) -> str:
        return str(self.path)

    def line_at(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def line(self, obj: Any, key: str = "type") -> int:
        """Line of `obj`'s own `key` (not a nested object's), else of its opening brace; 1 when unknown."""
        span = self.spans.get(id(obj))
        if span is None:
            return 1
        start, end = span
        if isinstance(obj, dict) and key in obj:
            inner = sorted(self.spans[id(v)] for v in obj.values() if id(v) in self.spans)
            for m in re.finditer(_KEY.format(re.escape(key)), self.text[start:end]):
                at = start + m.start()
                if not any(a <= at < b for a, b in inner):
                    return self.line_at(at)
        return self.line_at(start)

    def at(self, obj: Any, message: str, key: str = "type") -> Diagnostic:
        return Diagnostic(self.name, self.line(obj, key), 1, message)


def read(path: Path) -> Document:
    """The file as a Document, or InputError with `file:line:col`."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(Diagnostic(str(path), 1, 1, f"file is larger than {MAX_FILE_BYTES // 2**20} MB"))
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(Diagnostic(str(path), 0, 0, f"cannot read deployment: {exc.strerror}")) from None
    except UnicodeDecodeError:
        raise InputError(Diagnostic(str(path), 0, 0, "the deployment is not UTF-8 text")) from None
    text = _strip_comments(text)
    where = json_text.too_deep(text)
    if where:
        raise InputError(Diagnostic(str(path), *where, f"invalid JSON: nested more than {json_text.MAX_DEPTH} "
                                    "levels deep"))
    spans: dict[int, tuple[int, int]] = {}
    enabled = gc.isenabled()
    gc.disable()  # a parsed tree has no cycles; the collector only costs time while it grows
    try:
        # templates (ARM refuses over 4 MB) get every position; larger files are machine output (plans,
        # what-if) whose resources sit a few levels down: below that the C scanner parses (6x faster)
        data = _Decoder(spans, 10**6 if len(text) <= FULL_POSITIONS_BYTES else SHALLOW_DEPTH).decode(text)
    except json.JSONDecodeError as exc:
        raise InputError(Diagnostic(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(Diagnostic(str(path), 1, 1, f"invalid JSON: {exc}")) from None
    finally:
        if enabled:
            gc.enable()
    return Document(path, text, data, spans)


class _Decoder(json.JSONDecoder):
    """Positions for containers down to `depth` levels; deeper values are parsed by the C scanner whole."""

    def __init__(self, spans: dict[int, tuple[int, int]], depth: int):
        super().__init__()
        fast = scanner.c_make_scanner(json.JSONDecoder()) if scanner.c_make_scanner else None
        level = [0]

        def positioned(parse: Any) -> Any:
            def wrapped(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
                start = s_and_end[1] - 1
                if fast is not None and level[0] >= depth:
                    return fast(s_and_end[0], start)
                level[0] += 1
                try:
                    value, end = parse(s_and_end, *args)
                finally:
                    level[0] -= 1
                spans[id(value)] = (start, end)
                return value, end
            return wrapped

        parse_object, parse_array = positioned(decoder.JSONObject), positioned(decoder.JSONArray)

        self.parse_object = parse_object  # type: ignore[assignment]
        self.parse_array = parse_array  # type: ignore[assignment]
        self.scan_once = scanner.py_make_scanner(self)
