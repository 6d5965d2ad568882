"""One inventory file (a JSON array or NDJSON) cut at resource boundaries by byte offset, so that
worker processes parse it in parallel instead of the parent reading it all before any worker starts
(docs/scale.md, "Every core").

A JSON array is cut at a `,` between `}` and `{` near each nominal offset. Such a cut may fall inside a
nested array of objects or a string, so a candidate is first probed (the text after it, wrapped in
`[`...`]`, must not close an enclosing bracket within `PROBE` bytes), and every cut is then verified by
the slices themselves: slice 0 starts at a true element boundary, and a slice that starts at one and
parses as `[` + slice + `]` also ends at one (a cut inside a string leaves it open, a cut inside a nested
value leaves a bracket open), so when every slice parses, every cut is true. A slice that does not parse
is joined to the next one and parsed again; NDJSON is cut after a line break and every line must hold one
resource. Anything else (other shapes, invalid JSON, integers orjson refuses, envelopes on a line) makes
`scan` return None: the caller reads the file with the serial reader, which locates errors.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.evaluate.inventory import RelatedIndex
from policygen.evaluate.policy import CompiledPolicy
from policygen.evaluate.stream import ENVELOPE, MAX_VALUE_CHARS, WRAPPERS

SLICE = 1 << 20  # nominal bytes per slice: a unit of work for a worker (parsed, evaluated, encoded)
MIN_SLICE = 1 << 16
PROBE = 1 << 16  # bytes after a candidate cut that must not close an enclosing bracket
MAX_JOIN = 8  # slices joined to repair a wrong cut before giving up
SEARCH = 1 << 16  # bytes after a nominal offset searched for a cut (at least)
MAX_PROBES = 16  # candidates probed for one cut (hostile text may hold `},{` everywhere)
_CUT = re.compile(rb"\}[ \t\n\r]*(,)[ \t\n\r]*\{")
_WS = b" \t\n\r"
_BOM = b"\xef\xbb\xbf"
_HEADS = WRAPPERS | ENVELOPE  # a first key that makes the serial reader treat an object as an export
_FIRST_KEY = re.compile(rb'\{[ \t\n\r]*"([^"\\]*)"')


@dataclass
class Sliced:
    """An inventory file as byte ranges holding `counts[i]` resources each, read again where evaluated."""

    path: str
    kind: str  # "array" (ranges between top-level commas) or "lines" (NDJSON)
    spans: list[tuple[int, int]] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    count: int = 0
    bare: int = 0  # resources without `properties`
    index: RelatedIndex | None = None
    pending: bool = False  # planned only (`planned`): counted by the workers that evaluate it (evaluate.resident)

    def __len__(self) -> int:
        return self.count

    def load(self, i: int) -> list[dict]:
        """The resources of slice `i` (as the serial reader yields them)."""
        found = read_span(self.path, self.kind, *self.spans[i])
        if found is None or len(found) != self.counts[i]:
            from policygen.errors import Diagnostic, InputError

            raise InputError(Diagnostic(self.path, 0, 0, "the inventory changed while it was read"))
        return found


def read_span(path: str, kind: str, start: int, stop: int) -> list[dict] | None:
    """The resources in bytes [start, stop) of `path`, or None when they are not what `kind` promises."""
    import orjson

    if stop - start > MAX_VALUE_CHARS:  # the serial reader streams it (and refuses a value this large)
        return None
    try:
        with open(path, "rb") as fh:
            data = os.pread(fh.fileno(), stop - start, start)
    except OSError:
        return None
    if len(data) != stop - start:
        return None
    loads = orjson.loads
    try:
        if kind == "array":
            return [v for v in loads(b"[" + data + b"]") if type(v) is dict]
        out = []
        for line in data.split(b"\n"):
            if line.strip(_WS):
                v = loads(line)
                if type(v) is not dict or not _plain_resource(v):
                    return None
                out.append(v)
        return out
    except orjson.JSONDecodeError:
        return None


def _plain_resource(v: dict) -> bool:
    """An object the serial reader yields as a resource as is (not an export, not an error)."""
    if "type" not in v:
        return False
    keys = [k.lower() for k in v]
    return keys[0] not in _HEADS and WRAPPERS.isdisjoint(keys)


def _shape(fh: Any, size: int) -> tuple[str, int, int] | None:
    """(kind, first byte, end byte) of the resources of a plain JSON array or NDJSON file, else None."""
    head = os.pread(fh.fileno(), 4096, 0)
    pos = 3 if head.startswith(_BOM) else 0
    pos += len(head[pos:]) - len(head[pos:].lstrip(_WS))
    if pos >= len(head):
        return None  # empty, or a long run of blanks: the serial reader says so
    tail = os.pread(fh.fileno(), min(size, 4096), max(0, size - 4096))
    end = size - (len(tail) - len(tail.rstrip(_WS)))
    if head[pos:pos + 1] == b"[":
        if end <= pos + 1 or tail.rstrip(_WS)[-1:] != b"]":
            return None
        return "array", pos + 1, end - 1
    if head[pos:pos + 1] == b"{":
        key = _FIRST_KEY.match(head, pos)
        if key is not None and key[1].decode("utf-8", "replace").lower() in _HEADS:
            return None  # an export (`{"data": [...]}`): streamed by the serial reader
        return "lines", pos, size
    return None


def plan(path: str, jobs: int, step: int | None = None) -> tuple[str, list[tuple[int, int]]] | None:
    """The kind of `path` and its slices (byte ranges of about `step` bytes; by default a few per worker,
    at most `SLICE`), or None when it is not a shape cut here."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            found = _shape(fh, size)
            if found is None:
                return None
            kind, start, end = found
            step = step or max(MIN_SLICE, min(SLICE, (end - start) // (4 * max(1, jobs))))
            cuts = _line_cuts(fh, start, end, step) if kind == "lines" else _array_cuts(fh, start, end, step)
    except OSError:
        return None
    if kind == "array":
        bounds = [start, *(c + 1 for c in cuts)]
        stops = [*cuts, end]
    else:
        bounds = [start, *cuts]
        stops = [*cuts, end]
    return kind, list(zip(bounds, stops, strict=True))


def _line_cuts(fh: Any, start: int, end: int, step: int) -> list[int]:
    """Byte positions just after a line break near each nominal offset."""
    cuts: list[int] = []
    n = start + step
    while n < end:
        at = n
        while True:
            block = os.pread(fh.fileno(), 1 << 16, at)
            i = block.find(b"\n")
            if i >= 0 or not block:
                break
            at += len(block)
        if i < 0 or at + i + 1 >= end:
            break
        cut = at + i + 1
        cuts.append(cut)
        n = max(n + step, cut + 1)
    return cuts


def _array_cuts(fh: Any, start: int, end: int, step: int) -> list[int]:
    """Positions of top-level commas (probably: `read_span` verifies) near each nominal offset."""
    cuts: list[int] = []
    n = start + step
    while n < end:
        cut = _find_cut(fh, n, min(n + max(step, SEARCH), end), end)
        if cut is not None:
            cuts.append(cut)
        n = max(n + step, (cut or 0) + 1)
    return cuts


def _find_cut(fh: Any, lo: int, hi: int, end: int) -> int | None:
    """The first candidate comma in [lo, hi) whose probe passes, or None."""
    import orjson

    at = lo
    for _ in range(MAX_PROBES):
        if at >= hi:
            return None
        m = None
        while m is None and at < hi:
            block = os.pread(fh.fileno(), min(end, hi + 64, at + SEARCH) - at, at)
            m = _CUT.search(block)
            if m is None:
                if at + len(block) >= min(end, hi + 64):
                    return None
                at += max(1, len(block) - 64)  # a candidate may straddle the blocks
        if m is None:
            return None
        comma = at + m.start(1)
        if comma >= hi:
            return None
        stop = min(end, comma + 1 + PROBE)
        window = os.pread(fh.fileno(), stop - comma - 1, comma + 1)
        if stop < end:
            window = _ascii_end(window)
        try:
            orjson.loads(b"[" + window + b"]")
            return comma
        except orjson.JSONDecodeError as exc:
            if exc.msg.startswith("unexpected content after document"):
                at = comma + max(1, exc.pos)  # the enclosing array closed there: skip its siblings
                continue
            if stop < end and exc.pos >= len(window) // 2:
                return comma  # cut off by the probe's end, not closed: probably top level
            at = comma + 1
    return None


def _ascii_end(window: bytes) -> bytes:
    """`window` without its last character when that is not ASCII (it may be cut inside its UTF-8 bytes)."""
    k = len(window)
    while k and 0x80 <= window[k - 1] < 0xC0 and len(window) - k < 3:
        k -= 1  # continuation bytes
    if k and window[k - 1] >= 0x80:
        k -= 1  # the first byte of the last character
    return window[:k]


_SCAN: tuple | None = None  # (path, kind, related types) for forked workers


def summarise(found: list[dict], types: Any) -> tuple[int, int, bytes]:
    """What the first pass reports of a parsed slice: its resources, those without `properties`, and
    (as compact JSON) those of the related types existence policies look for."""
    import orjson

    bare = sum(1 for r in found if "properties" not in r)
    related = b""
    if types:
        keep = [r for r in found if type(t := r.get("type")) is str and t.lower() in types]
        if keep:
            related = orjson.dumps(keep)
    return len(found), bare, related


def _first_pass(span: tuple[int, int]) -> tuple[int, int, bytes] | None:
    """(resources, bare ones, the related ones as JSON) of one slice, or None when it does not parse."""
    assert _SCAN is not None
    path, kind, types = _SCAN
    enabled = gc.isenabled()
    gc.disable()  # parsed JSON is acyclic
    try:
        found = read_span(path, kind, *span)
        return None if found is None else summarise(found, types)
    except TypeError:  # pragma: no cover - orjson.dumps of what orjson.loads gave
        return None
    finally:
        if enabled:
            gc.enable()


def planned(paths: Sequence[Path], jobs: int, step: int | None = None) -> Sliced | None:
    """One JSON array or NDJSON file cut into slices, not yet read (`Sliced.pending`), or None."""
    if len(paths) != 1 or not Path(paths[0]).is_file():
        return None
    path = str(paths[0])
    found = plan(path, jobs, step)
    if found is None:
        return None
    return Sliced(path, found[0], found[1], pending=True)


def scan(paths: Sequence[Path], policies: Sequence[tuple[str, CompiledPolicy]], jobs: int,
         step: int | None = None) -> Sliced | None:
    """The first pass over one inventory file on `jobs` workers: resources counted, the related ones the
    policies ask for indexed in input order. None: read it with the serial reader instead."""
    global _SCAN
    import orjson

    if len(paths) != 1 or not Path(paths[0]).is_file():
        return None
    path = str(paths[0])
    planned = plan(path, jobs, step)
    if planned is None:
        return None
    kind, spans = planned
    index = RelatedIndex.for_policies(policies)
    _SCAN = (path, kind, index.types if index is not None else None)
    enabled = gc.isenabled()
    gc.disable()
    try:
        if jobs > 1 and len(spans) > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(min(jobs, len(spans))) as pool:
                results = pool.map(_first_pass, spans, chunksize=1)
        else:
            results = [_first_pass(s) for s in spans]
        found = _repair(kind, spans, results)
        if found is None:
            return None
        spans, results = found
        out = Sliced(path, kind, spans, [r[0] for r in results], index=index)
        out.count = sum(out.counts)
        out.bare = sum(r[1] for r in results)
        if index is not None:
            for r in results:
                if r[2]:
                    for res in orjson.loads(r[2]):
                        index.add(res)
        return out
    finally:
        _SCAN = None
        if enabled:
            gc.enable()


def _repair(kind: str, spans: list[tuple[int, int]], results: list) -> tuple[list, list] | None:
    """Every slice of a JSON array parsed, after joining a slice that did not to the next ones (its start
    is a true boundary when every slice before it parsed, so its end cut is the wrong one)."""
    if all(r is not None for r in results):
        return spans, results
    if kind != "array":
        return None
    out_spans, out_results = [], []
    i = 0
    while i < len(spans):
        if results[i] is not None:
            out_spans.append(spans[i])
            out_results.append(results[i])
            i += 1
            continue
        for j in range(i + 1, min(len(spans), i + 1 + MAX_JOIN)):
            joined = (spans[i][0], spans[j][1])
            r = _first_pass(joined)
            if r is not None:
                out_spans.append(joined)
                out_results.append(r)
                i = j + 1
                break
        else:
            return None
    return out_spans, out_results
