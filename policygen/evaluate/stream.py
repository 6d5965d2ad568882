"""Read resource inventories as a stream of resources, never holding a file's text and its parsed form
at once (a 1 GB export parsed whole needs the text, the decoded string and the objects together).

Accepted, in one or several files (a folder: its `*.json`, `*.ndjson`, `*.jsonl` files in natural
order, e.g. the pages of a paged Resource Graph export):
- a JSON array of resources (`az resource list`, `az graph query ... --query data`);
- NDJSON / JSON Lines (one resource per line), or any sequence of concatenated JSON values;
- a Resource Graph response (`{"totalRecords", "count", "$skipToken", "data": [...]}`, also the table
  form `{"data": {"columns": [...], "rows": [...]}}`), an ARM list response (`{"value": [...],
  "nextLink"}`) or `{"resources": [...]}`: the array inside is streamed, the envelope skipped.

Values are decoded by the standard library's C scanner (`JSONDecoder.raw_decode`) over a sliding
window of the file, so the cost per resource is that of `json.load`. A single value larger than
`MAX_VALUE_CHARS` is refused (bounded memory on hostile input).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from policygen.errors import Diagnostic, InputError

CHUNK = 1 << 20  # characters decoded per read
MAX_VALUE_CHARS = 64 << 20  # one resource (or envelope field) larger than this is refused
WRAPPERS = frozenset({"data", "value", "resources"})
# Keys of Resource Graph / ARM list envelopes (REST and `az graph query` spellings): an object whose
# first key is one of these (or a wrapper) is walked key by key instead of decoded whole.
ENVELOPE = frozenset(
    {
        "totalrecords",
        "total_records",
        "count",
        "resulttruncated",
        "$skiptoken",
        "skiptoken",
        "skip_token",
        "facets",
        "nextlink",
        "@odata.nextlink",
        "@odata.context",
        "@odata.count",
    }
)
SUFFIXES = (".json", ".ndjson", ".jsonl")
_WS = re.compile(r"[ \t\n\r]*").match
_DECODE = json.JSONDecoder().raw_decode


def inventory_files(paths: Sequence[Path]) -> list[Path]:
    """Files to read, in order: folders expand to their inventory files sorted naturally (page-2 before
    page-10); a missing path is an input error (all of them reported at once)."""
    out: list[Path] = []
    missing = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted((f for f in p.iterdir() if f.suffix.lower() in SUFFIXES and f.is_file()), key=_natural))
        elif p.is_file():
            out.append(p)
        else:
            missing.append(Diagnostic(str(p), 0, 0, "no such inventory file or folder"))
    if missing:
        raise InputError(missing)
    return out


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def iter_resources(paths: Sequence[Path], *, chunk: int = CHUNK, whole: int = 0) -> Iterator[dict]:
    """Every resource object of the inventory files, in file order (non-objects in arrays skipped).

    A file of at most `whole` bytes holding a plain JSON array is parsed in one go (orjson: faster than
    the window, for callers that keep every resource anyway, so the text is the smaller part); any
    other content, or text orjson refuses, is streamed as usual (with its located diagnostics)."""
    for f in inventory_files(paths):
        if whole:
            found = _whole_array(f, whole)
            if found is not None:
                yield from found
                continue
        try:
            fh = open(f, "rb")  # noqa: SIM115 - closed in finally (a generator may stop early)
        except OSError as exc:
            raise InputError(Diagnostic(str(f), 0, 0, f"cannot read inventory: {exc.strerror}")) from None
        try:
            yield from _document(_Window(fh, str(f), chunk))
        finally:
            fh.close()


def _whole_array(f: Path, limit: int) -> list[dict] | None:
    """The resources of `f` when it is a JSON array of at most `limit` bytes that orjson reads; else None."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency
        return None
    try:
        if f.stat().st_size > limit:
            return None
        data = f.read_bytes()
    except OSError:
        return None  # the streamed read reports it
    if data[:1] != b"[":
        return None
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    del data
    return [v for v in parsed if type(v) is dict]


class _Window:
    """A sliding window of decoded text over a binary file, with line/column tracking for errors."""

    __slots__ = ("fh", "source", "chunk", "decoder", "buf", "pos", "eof", "lines", "col_base")

    def __init__(self, fh: Any, source: str, chunk: int):
        self.fh = fh
        self.source = source
        self.chunk = chunk
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.lines = 0  # newlines before buf[0]
        self.col_base = 0  # characters between the last discarded newline and buf[0]

    def more(self, size: int | None = None) -> None:
        """Drop consumed text and append the next chunk (or mark the end of the file)."""
        if self.eof:
            return
        data = self.fh.read(size or self.chunk)
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise self.error("the inventory is not UTF-8 text") from None
        if not data:
            self.eof = True
        buf, pos = self.buf, self.pos
        if pos:
            n = buf.count("\n", 0, pos)
            if n:
                self.lines += n
                self.col_base = pos - buf.rfind("\n", 0, pos) - 1
            else:
                self.col_base += pos
        self.buf = buf[pos:] + text
        self.pos = 0

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the file), not consumed."""
        pos = _WS(self.buf, self.pos).end()
        while pos >= len(self.buf) and not self.eof:
            self.pos = pos
            self.more()
            pos = _WS(self.buf, 0).end()
        self.pos = pos
        return self.buf[pos] if pos < len(self.buf) else ""

    def value(self) -> Any:
        """Decode the value at the (non-blank) current position, reading more text while it is cut off."""
        size = self.chunk
        while True:
            buf, pos = self.buf, self.pos
            if not self.eof and len(buf) - pos < 65536:
                self.more(size)
                continue
            try:
                obj, end = _DECODE(buf, pos)
            except RecursionError:
                raise self.error("a value nested too deeply to read", pos) from None
            except json.JSONDecodeError as exc:
                if self.eof or not (exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated string")):
                    raise self.error(f"invalid JSON: {exc.msg}", exc.pos) from None
                if len(buf) - pos > MAX_VALUE_CHARS:
                    raise self.error(f"a value larger than {MAX_VALUE_CHARS >> 20} M characters", pos) from None
                self.more(size)
                size *= 2  # amortised: a long value is re-scanned O(log n) times, not once per chunk
                continue
            if end >= len(buf) and not self.eof:  # a number may go on in the next chunk
                self.more(size)
                continue
            self.pos = end
            return obj

    def expect(self, ch: str, what: str) -> None:
        if self.peek() != ch:
            raise self.error(f"expected {what}")
        self.pos += 1

    def error(self, message: str, at: int | None = None) -> InputError:
        p = self.pos if at is None else at
        nl = self.buf.rfind("\n", 0, p)
        line = self.lines + self.buf.count("\n", 0, p) + 1
        col = p - nl if nl >= 0 else self.col_base + p + 1
        return InputError(Diagnostic(self.source, line, col, message))


def _document(w: _Window) -> Iterator[dict]:
    """A file: one or more top-level values (an array, an envelope, or resources one after another)."""
    c = w.peek()
    if not c:
        raise w.error("the inventory file is empty")
    while c:
        if c == "[":
            yield from _array(w)
        elif c == "{":
            yield from _object(w)
        else:
            raise w.error('inventory must be a JSON array of resources, NDJSON, or an export ({"data": [...]})')
        c = w.peek()


def _array(w: _Window) -> Iterator[dict]:
    w.pos += 1
    c = w.peek()
    if c == "]":
        w.pos += 1
        return
    while True:
        if not c:
            raise w.error("unexpected end of file inside an array")
        v = w.value()
        if type(v) is dict:
            yield v
        c = w.peek()
        if c == ",":
            w.pos += 1
            c = w.peek()
        elif c == "]":
            w.pos += 1
            return
        else:
            raise w.error("expected ',' or ']' after an array element")


def _first_key(w: _Window) -> str | None:
    """The first key of the object at the current position, without consuming anything."""
    while not w.eof and len(w.buf) - w.pos < 4096:
        w.more()
    m = re.compile(r'\{[ \t\n\r]*"((?:[^"\\]|\\.)*)"').match(w.buf, w.pos)
    if m is None:
        return None
    try:
        return json.loads(f'"{m.group(1)}"')
    except ValueError:
        return None


def _object(w: _Window) -> Iterator[dict]:
    key = _first_key(w)
    if key is None or (key.lower() not in WRAPPERS and key.lower() not in ENVELOPE):
        start = w.pos
        obj = w.value()
        if not isinstance(obj, dict):  # pragma: no cover - '{' always decodes to a dict
            return
        found = next((k for k in obj if isinstance(k, str) and k.lower() in WRAPPERS), None)
        if found is not None:  # an envelope with an unusual first key: already decoded whole
            yield from _unwrap(obj[found], w, start)
        elif "type" in obj:
            yield obj
        else:
            raise w.error("a JSON object that is neither a resource (no 'type') nor an export", start)
        return
    w.pos += 1
    if w.peek() == "}":
        w.pos += 1
        return
    while True:
        k = w.value()
        if not isinstance(k, str):
            raise w.error("expected a property name")
        w.expect(":", "':' after a property name")
        if k.lower() in WRAPPERS:
            c = w.peek()
            if c == "[":
                yield from _array(w)
            elif c == "{":
                yield from _table(w)
            else:
                raise w.error(f"'{k}' must be an array of resources")
        else:
            w.peek()
            w.value()  # count, $skipToken, facets: not needed
        c = w.peek()
        if c == ",":
            w.pos += 1
            w.peek()
        elif c == "}":
            w.pos += 1
            return
        else:
            raise w.error("expected ',' or '}' after a property")


def _table(w: _Window) -> Iterator[dict]:
    """Resource Graph's table form: rows streamed once the columns are known."""
    columns: list[str] | None = None
    early_rows: list[Any] = []  # rows before columns (unusual order): kept until the columns arrive
    w.pos += 1
    c = w.peek()
    while c and c != "}":
        k = w.value()
        w.expect(":", "':' after a property name")
        kl = k.lower() if isinstance(k, str) else ""
        w.peek()
        if kl == "rows" and w.peek() == "[" and columns is not None:
            w.pos += 1
            c = w.peek()
            while c and c != "]":
                row = w.value()
                if isinstance(row, list):
                    yield dict(zip(columns, row, strict=False))
                c = w.peek()
                if c == ",":
                    w.pos += 1
                    c = w.peek()
            w.expect("]", "']' closing the rows")
        else:
            v = w.value()
            if kl == "columns" and isinstance(v, list):
                columns = [col.get("name") if isinstance(col, dict) else str(col) for col in v]
                for row in early_rows:
                    yield dict(zip(columns, row, strict=False))
                early_rows = []
            elif kl == "rows" and isinstance(v, list):
                early_rows.extend(r for r in v if isinstance(r, list))
        c = w.peek()
        if c == ",":
            w.pos += 1
            c = w.peek()
    w.expect("}", "'}' closing the table")


def _unwrap(data: Any, w: _Window, at: int) -> Iterator[dict]:
    if isinstance(data, dict) and "columns" in data and "rows" in data:
        cols = [c.get("name") if isinstance(c, dict) else str(c) for c in data["columns"]]
        for row in data["rows"]:
            if isinstance(row, list):
                yield dict(zip(cols, row, strict=False))
    elif isinstance(data, list):
        yield from (r for r in data if isinstance(r, dict))
    else:
        raise w.error("the export's data must be an array of resources", at)
