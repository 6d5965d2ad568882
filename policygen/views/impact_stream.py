"""`policygen impact` output written while the evaluation runs: JSON (compact, or `--pretty`), NDJSON and
CSV. Rows are encoded batch by batch in the workers (`encode`), written here in inventory order
(`emit`), and the per-policy and per-subscription summaries close the document (`finish`), so memory
does not depend on the number of findings.

JSON: `{"resources": N, "results": [...], "policies": [...], "scopes": [...]}` (the summaries come last
because they are known last). NDJSON and CSV carry the rows only; `--summary FILE` writes the
summaries as JSON for every format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.encoder import encode_basestring
from pathlib import Path

from policygen.tasks.impact import ImpactResult
from policygen.views.console import echo

FORMATS = ("json", "ndjson", "csv")
CSV_HEADER = ["policy", "effect", "resourceId", "resourceType", "matched", "compliant", "denied", "error"]
_BOOL = {True: "true", False: "false", None: "null"}


def _quote() -> Callable[[str], str]:
    """JSON string literal (what `json.dumps(s, ensure_ascii=False)` writes for a str: the C encoder it
    calls, without building an encoder per call), cached: a resource's id and a policy's name repeat."""
    cache: dict[str, str] = {}
    encode = encode_basestring

    def quote(s: str) -> str:
        q = cache.get(s)
        if q is None:
            if len(cache) > 50_000:
                cache.clear()
            q = cache[s] = encode(s)
        return q

    return quote


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
    the characters the csv module quotes for (see `_csv_special`); cached."""
    cache: dict[str, str] = {}
    special = _csv_special().search

    def quote(s: str) -> str:
        q = cache.get(s)
        if q is None:
            if len(cache) > 50_000:
                cache.clear()
            q = cache[s] = '"' + s.replace('"', '""') + '"' if special(s) else s
        return q

    return quote


def rows_json(quote: Callable[[str], str]) -> Callable[[list[tuple]], list[str]]:
    """Rows (tuples in `ImpactRow`'s field order) as compact JSON, the keys of `ImpactRow.to_json` in
    its order. The resource part is built once per resource and the outcome part once per (effect,
    matched, compliant, denied): effects are lower-case words from a fixed set, so they need no escaping."""
    tails: dict[tuple, str] = {}
    heads: dict[str, str] = {}

    def enc(rows: list[tuple]) -> list[str]:
        out = []
        append = out.append
        last = last_type = mid = None
        for policy, rid, rtype, effect, matched, compliant, denied, error, _, reason in rows:
            if rid is not last or rtype is not last_type:
                last, last_type = rid, rtype
                mid = f',"resourceId":{quote(rid)},"resourceType":{quote(rtype)},"effect":"'
            k = (effect, matched, compliant, denied)
            tail = tails.get(k)
            if tail is None:
                tail = tails[k] = (
                    f'{effect}","matched":{_BOOL[matched]},"compliant":{_BOOL[compliant]},'
                    f'"denied":{_BOOL[denied]}'
                )
            head = heads.get(policy)
            if head is None:
                if len(heads) > 50_000:
                    heads.clear()
                head = heads[policy] = '{"policy":' + quote(policy)
            if error or reason:
                s = head + mid + tail
                if error:
                    s += ',"error":' + json.dumps(error, ensure_ascii=False)
                if reason:
                    s += ',"reason":' + json.dumps(reason, ensure_ascii=False)
                append(s + "}")
            else:
                append(f"{head}{mid}{tail}}}")
        return out

    return enc


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
        self._quote = _quote()
        self._rows = rows_json(self._quote)
        self._csv_quote = _csv_quote()
        self._csv_heads: dict[tuple[str, str], str] = {}

    # -- in the worker ------------------------------------------------------------------------------

    def encode(self, rows: list[tuple]) -> str:
        """Rows as tuples in `ImpactRow`'s field order (see evaluate.inventory.iter_pairs)."""
        if not rows:
            return ""
        if self.fmt == "csv":
            return self._csv_rows(rows)
        if self.fmt == "ndjson":
            return "\n".join(self._rows(rows)) + "\n"
        if self.pretty:
            from policygen.evaluate.inventory import ImpactRow

            return ",\n".join(
                "    " + json.dumps(ImpactRow(*r).to_json(), indent=2, ensure_ascii=False).replace("\n", "\n    ")
                for r in rows
            )
        return ",\n".join(self._rows(rows))

    def _csv_rows(self, rows: list[tuple]) -> str:
        """What `csv.writer` writes for these rows, its quoting of each text cached: a resource's id and a
        policy's name repeat across rows."""
        q = self._csv_quote
        why = self.why
        out = []
        append = out.append
        last = last_type = mid = None
        heads = self._csv_heads
        for policy, rid, rtype, effect, matched, compliant, denied, error, _, reason in rows:
            if rid is not last or rtype is not last_type:
                last, last_type = rid, rtype
                mid = f",{q(rid)},{q(rtype)},"
            head = heads.get((policy, effect))
            if head is None:
                if len(heads) > 50_000:
                    heads.clear()
                head = heads[(policy, effect)] = f"{q(policy)},{q(effect)}"
            line = (f"{head}{mid}{matched},{'' if compliant is None else compliant},"
                    f"{denied},{q(error) if error else ''}")
            if why:
                line += "," + q(reason or "")
            append(line)
        out.append("")
        return "\n".join(out)

    # -- here ---------------------------------------------------------------------------------------

    def start(self, resources: int) -> None:
        if self.fmt == "csv":
            echo(",".join(CSV_HEADER + (["reason"] if self.why else [])) + "\n", nl=False)
        elif self.fmt == "json":
            echo(f'{{\n  "resources": {resources},\n  "results": [' if self.pretty
                 else f'{{"resources":{resources},"results":[', nl=False)

    def emit(self, text: str) -> None:
        if not text:
            return
        if self.fmt == "json":
            text = ("," if self.rows_written else "") + "\n" + text
        self.rows_written += 1
        echo(text, nl=False)

    def finish(self, result: ImpactResult) -> None:
        if self.fmt == "json":
            if self.pretty:
                tail = json.dumps({"policies": result.summary, "scopes": result.scopes}, indent=2, ensure_ascii=False)
                echo(("\n  ]," if self.rows_written else "],") + "\n" + tail[2:], nl=True)
            else:
                policies = json.dumps(result.summary, ensure_ascii=False, separators=(",", ":"))
                scopes = json.dumps(result.scopes, ensure_ascii=False, separators=(",", ":"))
                echo(("\n" if self.rows_written else "") + f'],\n"policies":{policies},\n"scopes":{scopes}}}')
        self.finish_summary(result)

    def finish_summary(self, result: ImpactResult) -> None:
        summary = {"resources": result.resources, "policies": result.summary, "scopes": result.scopes}
        if self.summary is not None:
            self.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
