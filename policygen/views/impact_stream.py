"""`policygen impact` output written while the evaluation runs: JSON (compact, or `--pretty`), NDJSON and
CSV. Rows are encoded batch by batch in the workers (`encode`), written here in inventory order
(`emit`), and the per-policy and per-subscription summaries close the document (`finish`), so memory
does not depend on the number of findings.

JSON: `{"resources": N, "results": [...], "policies": [...], "scopes": [...]}` (the summaries come last
because they are known last). NDJSON and CSV carry the rows only; `--summary FILE` writes the
summaries as JSON for every format.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
from collections.abc import Callable
from itertools import chain, repeat
from json.encoder import encode_basestring
from operator import itemgetter
from pathlib import Path
from typing import Any

from policygen.tasks.impact import ImpactResult
from policygen.views.console import echo
from policygen.views.encoding import JSON_ESCAPE, VISIBLE, echo_json, echo_visible

FORMATS = ("json", "ndjson", "csv")
CSV_HEADER = ["policy", "effect", "resourceId", "resourceType", "matched", "compliant", "denied", "error"]
_BOOL = {True: "true", False: "false", None: "null"}


class _Parts(dict):
    """A text per key, made on first use (`make`) and looked up by C code (`map(parts.__getitem__, keys)`).
    Forgotten past `limit` entries: error texts and --why reasons can make every key new."""

    def __init__(self, make: Callable[[Any], str], codec: tuple[str, str] | None = None, limit: int = 50_000):
        super().__init__()
        self.make = make
        self.codec = codec  # (encoding, errors): the parts are bytes
        self.limit = limit

    def __missing__(self, key: Any) -> str | bytes:
        if len(self) > self.limit:
            self.clear()
        text = self.make(key)
        part = self[key] = text.encode(*self.codec) if self.codec else text
        return part


_POLICY = itemgetter(0)
_RESOURCE = itemgetter(1)  # the row's resource id (label)
_POLICY_EFFECT = itemgetter(0, 3)
_OUTCOME = itemgetter(slice(2, 8))  # resource type, effect, matched, compliant, denied, error
_OUTCOME_WHY = itemgetter(2, 3, 4, 5, 6, 7, 9)  # ... and the reason


def _byte_sink() -> tuple[Any, str] | None:
    """(stdout's byte stream, encoding) when bytes written there are what `echo` (click) writes for the
    same text: a UTF-8 text stream over a byte stream, no newline translation (not Windows). Click writes
    to such a stream as it is; it strips escape sequences off a terminal (see `emit`). What UTF-8 cannot
    carry (lone surrogates) is escaped by the format's codec error handler (see views/encoding.py)."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None)
    if buffer is None or not isinstance(encoding, str) or os.linesep != "\n":
        return None
    try:
        if codecs.lookup(encoding).name != "utf-8":
            return None
    except LookupError:
        return None
    stream.flush()
    return buffer, encoding


def _csv_special() -> re.Pattern[str]:
    """The characters that make `csv.writer` (excel dialect, QUOTE_MINIMAL, "\\n" line ends) quote a
    field, asked of the csv module itself (whether a lone "\\r" is quoted differs between versions)."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    quoted = []
    for c in ',"\r\n\t \x00;':
        buf.seek(0)
        buf.truncate()
        w.writerow(["", "a" + c])
        if buf.getvalue()[1:2] == '"':
            quoted.append(c)
    return re.compile("[" + re.escape("".join(quoted)) + "]")


def _csv_quote() -> Callable[[str], str]:
    """One field as `csv.writer` writes it among others: quoted, its quotes doubled, when it holds one of
    the characters the csv module quotes for (see `_csv_special`)."""
    special = _csv_special().search

    def quote(s: str) -> str:
        return '"' + s.replace('"', '""') + '"' if special(s) else s

    quote.special = special  # type: ignore[attr-defined]
    return quote


def _join_rows(rows: list[tuple], heads: _Parts, head_key: Callable, mid: Callable[..., Any],
               tails: _Parts, tail_key: Callable) -> list:
    """The rows' texts as (head, resource, tail) parts, each part looked up by C code (`map`, `zip`): a
    head per policy, a tail per outcome (each ends with the separator), a resource part per id of the batch
    (`mid` of the distinct ids). No Python step per row: a row costs a few dictionary lookups. The parts
    are bytes when the heads' are (`_Parts.codec`)."""
    ids = list(dict.fromkeys(map(_RESOURCE, rows)))
    resource = dict(zip(ids, mid(ids, heads.codec), strict=True))
    return list(chain.from_iterable(zip(map(heads.__getitem__, map(head_key, rows)),
                                        map(resource.__getitem__, map(_RESOURCE, rows)),
                                        map(tails.__getitem__, map(tail_key, rows)), strict=True)))


def _json_head(policy: str) -> str:
    return '{"policy":' + encode_basestring(policy) + ',"resourceId":'


def _json_tail(sep: str) -> Callable[[tuple], str]:
    """The rest of a row of `ImpactRow.to_json` (compact, its key order) after the resource id, then `sep`.
    Effects are lower-case words from a fixed set, so they need no escaping."""

    def tail(key: tuple) -> str:
        rtype, effect, matched, compliant, denied, error, *why = key
        text = (f',"resourceType":{encode_basestring(rtype)},"effect":"{effect}","matched":{_BOOL[matched]},'
                f'"compliant":{_BOOL[compliant]},"denied":{_BOOL[denied]}')
        if error:
            text += ',"error":' + json.dumps(error, ensure_ascii=False)
        if why and why[0]:
            text += ',"reason":' + json.dumps(why[0], ensure_ascii=False)
        return text + "}" + sep

    return tail


def _json_ids(ids: list[str], codec: tuple[str, str] | None) -> Any:
    quoted = map(encode_basestring, ids)
    return map(str.encode, quoted, *map(repeat, codec)) if codec else quoted


class StreamWriter:
    """Encoder (picklable results, runs in workers), emitter and closing summary of one format."""

    def __init__(self, fmt: str, *, pretty: bool = False, why: bool = False, summary: Path | None = None):
        if fmt not in FORMATS:
            raise ValueError(fmt)
        self.fmt = fmt
        self.pretty = pretty
        self.why = why
        self.summary = summary
        self.rows_written = 0
        self._tail_key = _OUTCOME_WHY if why else _OUTCOME
        self._sink: Any = None  # stdout's byte stream, when rows go there as bytes (see `open`)
        self._opened = False
        self._echo = echo_visible if fmt == "csv" else echo_json
        self._errors = VISIBLE if fmt == "csv" else JSON_ESCAPE
        self._parts(None)

    def _parts(self, codec: tuple[str, str] | None) -> None:
        """Caches of the parts of rows (see `_join_rows`), as text or, with `codec`, as bytes. Reasons are
        written with `why` (rows carry them only then)."""
        self._codec = codec
        if self.fmt == "csv":
            self._csv_quote = _csv_quote()
            self._heads = _Parts(self._csv_head, codec)
            self._tails = _Parts(self._csv_tail, codec)
        else:
            self._heads = _Parts(_json_head, codec)
            self._tails = _Parts(_json_tail("\n" if self.fmt == "ndjson" else ",\n"), codec)

    # -- in the worker ------------------------------------------------------------------------------

    def encode(self, rows: list[tuple]) -> str | bytes:
        """Rows as tuples in `ImpactRow`'s field order (see evaluate.inventory.iter_pairs): text, or after
        `start` found stdout's byte stream, the bytes to write there."""
        if not rows:
            return ""
        if self.pretty:
            from policygen.evaluate.inventory import ImpactRow

            text = ",\n".join(
                "    " + json.dumps(ImpactRow(*r).to_json(), indent=2, ensure_ascii=False).replace("\n", "\n    ")
                for r in rows
            )
            return text.encode(*self._codec) if self._codec else text
        if self.fmt == "csv":
            parts = _join_rows(rows, self._heads, _POLICY_EFFECT, self._csv_ids, self._tails, self._tail_key)
        else:
            parts = _join_rows(rows, self._heads, _POLICY, _json_ids, self._tails, self._tail_key)
            if self.fmt == "json":
                parts[-1] = parts[-1][:-2]  # the last row's ",\n"
        return (b"" if self._codec else "").join(parts)

    # CSV: what `csv.writer` writes (see `_csv_quote`): "policy,effect," + resource id + ",type,..." + "\n"

    def _csv_head(self, key: tuple[str, str]) -> str:
        q = self._csv_quote
        return f"{q(key[0])},{q(key[1])},"

    def _csv_tail(self, key: tuple) -> str:
        q = self._csv_quote
        rtype, _, matched, compliant, denied, error, *why = key
        text = f",{q(rtype)},{matched},{'' if compliant is None else compliant},{denied},{q(error) if error else ''}"
        if self.why:
            text += "," + q(why[0] or "")
        return text + "\n"

    def _csv_ids(self, ids: list[str], codec: tuple[str, str] | None) -> Any:
        q = self._csv_quote
        quoted = map(q, ids) if q.special("/".join(ids)) else ids  # type: ignore[attr-defined]  # "/": never quoted
        return map(str.encode, quoted, *map(repeat, codec)) if codec else quoted

    # -- here ---------------------------------------------------------------------------------------

    def open(self) -> None:
        """From here rows are encoded as bytes for stdout's byte stream when writing them there gives the
        bytes `echo` would (see `_byte_sink`): no text-to-bytes copy of the output. Before workers are
        forked when they start before the head is written (see commands/impact_quick.py)."""
        if not self._opened:
            self._opened = True
            self._sink = _byte_sink()
            if self._sink is not None:
                self._parts((self._sink[1], self._errors))

    def start(self, resources: int) -> None:
        """The document's head (after `open`)."""
        self.open()
        if self.fmt == "csv":
            echo(",".join(CSV_HEADER + (["reason"] if self.why else [])) + "\n", nl=False)
        elif self.fmt == "json":
            echo(f'{{\n  "resources": {resources},\n  "results": [' if self.pretty
                 else f'{{"resources":{resources},"results":[', nl=False)

    def emit(self, text: str | bytes) -> None:
        if not text:
            return
        sep = ("," if self.rows_written else "") + "\n" if self.fmt == "json" else ""
        self.rows_written += 1
        if isinstance(text, str):
            self._echo(sep + text, nl=False)
        elif b"\x1b" in text:  # an escape sequence: `echo` decides whether to strip it (not on a terminal)
            echo(sep + text.decode(self._sink[1]), nl=False)
        else:
            out = self._sink[0]
            if sep:
                out.write(sep.encode())
            out.write(text)
            out.flush()

    def finish(self, result: ImpactResult) -> None:
        if self.fmt == "json":
            if self.pretty:
                tail = json.dumps({"policies": result.summary, "scopes": result.scopes}, indent=2, ensure_ascii=False)
                echo_json(("\n  ]," if self.rows_written else "],") + "\n" + tail[2:], nl=True)
            else:
                policies = json.dumps(result.summary, ensure_ascii=False, separators=(",", ":"))
                scopes = json.dumps(result.scopes, ensure_ascii=False, separators=(",", ":"))
                echo_json(("\n" if self.rows_written else "") + f'],\n"policies":{policies},\n"scopes":{scopes}}}')
        self.finish_summary(result)

    def finish_summary(self, result: ImpactResult) -> None:
        summary = {"resources": result.resources, "policies": result.summary, "scopes": result.scopes}
        if self.summary is not None:
            self.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8",
                                    errors=JSON_ESCAPE)
