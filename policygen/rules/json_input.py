"""Third-party policy JSON: read, detect ARM-template escaping, check, and point findings at line:col."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from policygen.arm.json_text import MAX_DEPTH, too_deep
from policygen.arm.lookup import ci_get
from policygen.errors import Diagnostic
from policygen.rules.base import Finding, Severity, Summary
from policygen.rules.checking import RunResult, check_doc
from policygen.rules.locate import locate
from policygen.rules.model import Doc, detect_kind
from policygen.rules.nodes import esc

try:  # orjson parses the corpus ~2x faster than json; the validator works without it
    import orjson

    def _loads(raw: bytes) -> Any:
        return orjson.loads(raw)

    _DecodeError: tuple[type[Exception], ...] = (orjson.JSONDecodeError,)
except ImportError:  # pragma: no cover

    def _loads(raw: bytes) -> Any:
        return json.loads(raw)

    _DecodeError = (json.JSONDecodeError,)

BUILTIN_TYPES = ("builtin", "static")
UNESCAPED = (
    "unescaped expression in an ARM-template-escaped file: ARM evaluates it at deployment time; write it as '[[...'"
)


def unescape_tree(v: Any, ptr: str, unescaped_exprs: list[str]) -> Any:
    """Copy with one `[` stripped from every `[[` string; records strings that were *not* escaped."""
    if isinstance(v, str):
        if v.startswith("[["):
            return v[1:]
        if v.startswith("[") and v.endswith("]") and len(v) > 2:
            unescaped_exprs.append(ptr)
        return v
    if isinstance(v, dict):
        return {k: unescape_tree(x, ptr + "/" + esc(k), unescaped_exprs) for k, x in v.items()}
    if isinstance(v, list):
        return [unescape_tree(x, f"{ptr}/{i}", unescaped_exprs) for i, x in enumerate(v)]
    return v


def looks_escaped(raw: bytes) -> bool:
    """Enterprise-Scale style: expressions written `"[[...`; a few `[[` literals alone do not count."""
    n2 = raw.count(b'"[[')
    if not n2:
        return False
    n1 = raw.count(b'"[') - n2
    return n2 >= n1


def is_template_resource(obj: dict) -> bool:
    """An ARM template resource (`apiVersion` beside `type`, Enterprise-Scale style): ARM evaluates `[...]`
    strings before Policy sees them, so its policy expressions are legitimately escaped as `[[...`."""
    return isinstance(obj.get("apiVersion"), str) and isinstance(obj.get("type"), str)


def read_bytes(name: str) -> bytes:
    """A file's bytes through one descriptor and reads of its size (a buffered reader per file costs a
    third of reading the 5,266 built-ins). A regular file that returns less than asked is at its end,
    so the usual case is one read; anything else is read until a read returns nothing."""
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        want = st.st_size + 1
        first = os.read(fd, want)
        if len(first) < want and stat.S_ISREG(st.st_mode):
            return first
        chunks = [first]
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_raw(name: str, result: RunResult) -> bytes | None:
    """A file's bytes without a UTF-8 BOM, or None after noting why it cannot be read."""
    try:
        raw = read_bytes(name)
    except OSError as exc:
        result.diagnostics.append(Diagnostic(name, 0, 0, f"cannot read: {exc.strerror}"))
        return None
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def _parse(name: str, raw: bytes, explicit: bool, result: RunResult) -> tuple[dict, str] | None:
    """(object, kind) of a policy JSON text, or None after noting why it is not one."""
    deep = too_deep(raw)  # before parsing: the checks and the error-position parser both recurse per level
    if deep:
        message = f"JSON nested more than {MAX_DEPTH} levels deep; refusing it"
        result.diagnostics.append(Diagnostic(name, *deep, message))
        return None
    try:
        obj = _loads(raw)
    except _DecodeError as exc:
        line, col = _json_error_position(raw)
        if not line:  # only the fast parser refuses it (a lone surrogate escape): its own position
            line, col = getattr(exc, "lineno", 0) or 1, getattr(exc, "colno", 0) or 1
        result.diagnostics.append(Diagnostic(name, line, col, f"invalid JSON: {exc}".split("\n")[0]))
        return None
    kind = detect_kind(obj) if isinstance(obj, dict) else None
    if kind is None:
        if explicit:
            result.diagnostics.append(Diagnostic(name, 1, 1, "not a policy definition, initiative or assignment"))
        else:
            result.skipped += 1
        return None
    return obj, kind


class SameContent:
    """What the files checked so far in one run reported, by content: a file whose bytes equal an earlier
    one's reports the same findings at the same lines under its own name (the rules read the document,
    never its path). A fifth of the built-in corpus repeats another file (the Azure Government copies).
    Small files only, keyed by a 128-bit BLAKE2 digest; at most MAX_FILES are remembered."""

    MAX_BYTES = 16 * 1024
    MAX_FILES = 50_000

    def __init__(self) -> None:
        self.reports: dict[bytes, tuple[list[Finding], Summary]] = {}

    def key(self, name: str, raw: bytes) -> bytes | None:
        if len(raw) > self.MAX_BYTES or name == "<memory>":  # FLD-02 words findings of in-memory documents apart
            return None
        return hashlib.blake2b(raw, digest_size=16).digest()

    def replay(self, key: bytes, name: str, result: RunResult, summaries: list[Summary]) -> bool:
        """Report the earlier file's findings and summary under `name`; False when there is none."""
        known = self.reports.get(key)
        if known is None:
            return False
        findings, s = known
        result.files += 1
        result.objects += 1
        result.findings.extend(Finding(f.code, f.severity, f.message, name, f.line, f.pointer, f.col) for f in findings)
        summaries.append(Summary(s.kind, s.custom, s.scope, name, s.pointer_base, s.unchecked_aliases))
        return True

    def keep(self, key: bytes, findings: list[Finding], summary: Summary) -> None:
        if len(self.reports) >= self.MAX_FILES:
            self.reports.clear()
        self.reports[key] = (findings, summary)


def _doc(name: str, raw: bytes, obj: dict, kind: str, catalogue: Any, escaped: bool | None) -> tuple[Doc, list[str]]:
    """The Doc to check (unescaped when the file is ARM-template-escaped) and the expressions ARM would evaluate."""
    props = obj.get("properties") if isinstance(obj.get("properties"), dict) else obj
    ptype = ci_get(props, "policyType")
    custom = not (isinstance(ptype, str) and ptype.lower() in BUILTIN_TYPES)

    def build(o: dict, is_escaped: bool) -> Doc:
        return Doc(o, kind, file=name, own=False, custom=custom, catalogue=catalogue, size=len(raw), escaped=is_escaped)

    arm_evaluated: list[str] = []
    if escaped is None and not is_template_resource(obj):
        # A REST body (or bare properties) is what Azure receives as is: `[[parameters('effect')]` is the
        # literal string `[parameters('effect')]` there, which FN-04 reports as the error it is.
        return build(obj, False), arm_evaluated
    if escaped is None and kind == "definition":
        # Detect from the walk instead of scanning bytes: Enterprise-Scale style sources escape every
        # expression, so `[[` strings in policy-evaluated regions outnumber plain expressions.
        doc = build(obj, False)
        if doc.escaped_strings and len(doc.escaped_strings) >= len(doc.exprs):
            doc = build(unescape_tree(obj, "", arm_evaluated), True)
    else:
        is_escaped = looks_escaped(raw) if escaped is None else escaped
        if is_escaped:
            obj = unescape_tree(obj, "", arm_evaluated)
        doc = build(obj, is_escaped)
    return doc, arm_evaluated


def validate_json_file(
    path: Path | str,
    *,
    catalogue: Any,
    escaped: bool | None,
    explicit: bool,
    result: RunResult,
    summaries: list[Summary],
    same: SameContent | None = None,
) -> None:
    """Check one JSON file into `result`; `explicit` files that are not policy objects are input errors.

    `same`: the run's reports by content (a file equal to an earlier one is not checked again)."""
    name = str(path)
    raw = _read_raw(name, result)
    if raw is None:
        return
    key = same.key(name, raw) if same is not None else None
    if key is not None and same is not None and same.replay(key, name, result, summaries):
        return
    parsed = _parse(name, raw, explicit, result)
    if parsed is None:
        return
    obj, kind = parsed
    result.files += 1
    result.objects += 1
    doc, arm_evaluated = _doc(name, raw, obj, kind, catalogue, escaped)
    findings = check_doc(doc, summaries)
    findings += [Finding("FN-04", Severity.ERROR, UNESCAPED, name, None, ptr) for ptr in arm_evaluated]
    if findings:
        where = locate(raw.decode("utf-8", errors="replace"), {f.pointer for f in findings})
        findings = [
            Finding(f.code, f.severity, f.message, f.file, where[f.pointer][0], f.pointer, where[f.pointer][1])
            for f in findings
        ]
        result.findings.extend(findings)
    if key is not None and same is not None:
        same.keep(key, findings, summaries[-1])


def _json_error_position(raw: bytes) -> tuple[int, int]:
    try:
        json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.colno
    return 0, 0
