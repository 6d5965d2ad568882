"""Reading JSON the way a service must: bounded depth, no silently dropped duplicate keys, ARM's size limit.

Python's parser recurses once per nesting level, so `[[[[...` a thousand deep ends in RecursionError (a
traceback in the CLI, a 500 in the emulator), and everything downstream walks the tree recursively too.
The depth is checked on the bytes first, in C-speed passes, before anything recurses. ARM refuses request
bodies over 4 MB with 413 `RequestContentTooLarge` ("The request content size exceeds the maximum size of
4 MB."; reported in Azure/Azure-Landing-Zones#2644; limit documented in azure-resource-manager-rpc#138).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 128  # the deepest built-in definition (a DINE with its template) nests 24 levels
MAX_BODY_BYTES = 4 * 1024 * 1024

# The unrolled form ("normal* (special normal*)*") matches the same strings as "(?:[^"\\]|\\.)*" three times
# faster: the engine runs through plain characters without trying an alternation at each one.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_ONLY_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_QUOTE_OR_BRACKET = bytes(b for b in range(256) if b not in b'"[]{}')
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_CURLY_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_STEP = {ord("["): 1, ord("]"): -1}


class JsonTextError(ValueError):
    """Unusable JSON text, with the 1-based line and column when known (0 otherwise)."""

    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def _as_bytes(raw: bytes | str) -> bytes:
    return raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else raw


def too_deep(raw: bytes | str, max_depth: int = MAX_DEPTH) -> tuple[int, int] | None:
    """(line, col) of the first bracket nested deeper than `max_depth`, or None.

    Strings are removed and only the brackets kept (C-speed regex and translate), then a running sum over
    them gives the depth: linear, no recursion, no per-character Python loop on the common path."""
    data = _as_bytes(raw)
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return None
    if bracket_depth(_brackets_outside_strings(data), max_depth) <= max_depth:
        return None
    depth = 0
    for m in _TOKEN.finditer(data):
        tok = m.group()
        if tok in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                off = m.start()
                return data.count(b"\n", 0, off) + 1, off - (data.rfind(b"\n", 0, off) + 1) + 1
        elif tok in (b"]", b"}"):
            depth -= 1
    return None  # unbalanced rather than deep: the parser reports it


def bracket_depth(brackets: bytes, max_depth: int) -> int:
    """The deepest nesting of a `[`/`]` sequence (the running sum's maximum), or some depth above
    `max_depth` once it is known to exceed it.

    A balanced sequence loses its innermost pairs to each `replace` (one C pass), so it is empty after
    as many passes as it is deep; a JSON document nests ~20 deep, so ~20 passes over a shrinking
    sequence replace a Python-level step per bracket. A sequence that stops shrinking before it is
    empty is unbalanced (not JSON: the parser will say so) and is summed bracket by bracket."""
    rest = brackets
    for passes in range(max_depth + 1):
        if not rest:
            return passes
        shorter = rest.replace(b"[]", b"")
        if len(shorter) == len(rest):
            break
        rest = shorter
    else:
        return max_depth + 1
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _brackets_outside_strings(data: bytes) -> bytes:
    """The brackets of `data` that are not inside strings, `{}` written as `[]`.

    Escapes are dropped first, each backslash with the character after it (left to right, as the JSON
    lexer pairs them); then every `"` opens or closes a string, so once all but quotes and brackets are
    deleted (one C pass) the brackets outside strings are the even pieces between quotes. Text whose
    quotes do not pair up is not JSON: the string pattern answers for it."""
    text = _ESCAPE.sub(b"", data) if b"\\" in data else data
    kept = text.translate(None, _NOT_QUOTE_OR_BRACKET)
    if kept.count(b'"') % 2:
        return _STRING.sub(b"", data).translate(_CURLY_AS_SQUARE, _ONLY_BRACKETS)
    return b"".join(kept.split(b'"')[0::2]).translate(_CURLY_AS_SQUARE)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise JsonTextError(f"duplicate key {k!r} (JSON readers disagree on which value wins)")
            seen.add(k)
    return out


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH, duplicates: bool = False) -> Any:
    """Parse JSON text; `duplicates=False` refuses an object with the same key twice. Raises JsonTextError."""
    where = too_deep(raw, max_depth)
    if where:
        raise JsonTextError(f"nested more than {max_depth} levels deep", *where)
    try:
        return json.loads(raw, object_pairs_hook=None if duplicates else _pairs)
    except JsonTextError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonTextError(exc.msg, exc.lineno, exc.colno) from None
    except (ValueError, RecursionError) as exc:  # undecodable bytes; RecursionError only if max_depth is huge
        raise JsonTextError(str(exc).split("\n")[0] or type(exc).__name__) from None
