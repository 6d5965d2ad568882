"""Run the rules over objects, JSON files, folders and intent packs; attach file/line to findings."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.arm.aliases import default_catalogue
from policygen.arm.lookup import ci_get
from policygen.artefacts import Build
from policygen.errors import Diagnostic
from policygen.intents.pack import SETTINGS_FILE, find_pack, is_pack
from policygen.rules.base import Finding, Severity, Summary
from policygen.rules.locate import locate
from policygen.rules.model import Doc, detect_kind
from policygen.rules.registry import run, run_collection

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


def _shape_finding(source: str | None, message: str) -> Finding:
    return Finding("DEF-00", Severity.ERROR, message, source, None, "")


def validate_doc(
    obj: Any,
    *,
    kind: str | None,
    source: str | None,
    own: bool,
    custom: bool,
    catalogue: Any,
    definitions: Mapping[str, dict] | None,
    assignment_scope: str | None,
    size: int | None = None,
    escaped: bool = False,
    summaries: list[Summary] | None = None,
) -> list[Finding]:
    if not isinstance(obj, dict):
        return [_shape_finding(source, f"expected a JSON object, found {type(obj).__name__}")]
    kind = kind or detect_kind(obj)
    if kind not in ("definition", "initiative", "assignment"):
        return [
            _shape_finding(
                source,
                "not a policy definition, initiative or assignment "
                "(no policyRule, policyDefinitions or policyDefinitionId)",
            )
        ]
    doc = Doc(
        obj,
        kind,
        file=source,
        own=own,
        custom=custom,
        catalogue=catalogue if catalogue is not None else default_catalogue(),
        definitions=definitions,
        assignment_scope=assignment_scope,
        size=size,
        escaped=escaped,
    )
    return check_doc(doc, summaries)


def check_doc(doc: Doc, summaries: list[Summary] | None = None) -> list[Finding]:
    """Run the rules over a built Doc (and note it for the per-run rules)."""
    findings = run(doc, doc.file)
    if summaries is not None:
        scope = None
        if doc.kind == "assignment":
            from policygen.rules.asg.common import scope_of

            scope = scope_of(doc)
        unchecked = doc.cache.get("unchecked_aliases", 0)
        summaries.append(Summary(doc.kind, doc.custom, scope, doc.file, "", unchecked))
    findings.sort(key=Finding.sort_key)
    return findings


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    objects: int = 0
    files: int = 0
    skipped: int = 0


def unescape_tree(v: Any, ptr: str, unescaped_exprs: list[str]) -> Any:
    """Copy with one `[` stripped from every `[[` string; records strings that were *not* escaped."""
    if isinstance(v, str):
        if v.startswith("[["):
            return v[1:]
        if v.startswith("[") and v.endswith("]") and len(v) > 2:
            unescaped_exprs.append(ptr)
        return v
    if isinstance(v, dict):
        return {
            k: unescape_tree(x, ptr + "/" + k.replace("~", "~0").replace("/", "~1"), unescaped_exprs)
            for k, x in v.items()
        }
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


def validate_json_file(
    path: Path | str,
    *,
    catalogue: Any,
    escaped: bool | None,
    explicit: bool,
    result: RunResult,
    summaries: list[Summary],
) -> None:
    name = str(path)
    try:
        with open(name, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        result.diagnostics.append(Diagnostic(name, 0, 0, f"cannot read: {exc.strerror}"))
        return
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        obj = _loads(raw)
    except _DecodeError as exc:
        line, col = _json_error_position(raw)
        result.diagnostics.append(Diagnostic(name, line, col, f"invalid JSON: {exc}".split("\n")[0]))
        return
    kind = detect_kind(obj) if isinstance(obj, dict) else None
    if kind is None:
        if explicit:
            result.diagnostics.append(Diagnostic(name, 1, 1, "not a policy definition, initiative or assignment"))
        else:
            result.skipped += 1
        return
    result.files += 1
    result.objects += 1
    props = obj.get("properties") if isinstance(obj.get("properties"), dict) else obj
    ptype = ci_get(props, "policyType")
    custom = not (isinstance(ptype, str) and ptype.lower() in BUILTIN_TYPES)

    def build(o: dict, is_escaped: bool) -> Doc:
        return Doc(o, kind, file=name, own=False, custom=custom, catalogue=catalogue, size=len(raw), escaped=is_escaped)

    arm_evaluated: list[str] = []
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
    findings = check_doc(doc, summaries)
    for ptr in arm_evaluated:
        findings.append(
            Finding(
                "FN-04",
                Severity.ERROR,
                "unescaped expression in an ARM-template-escaped file: ARM evaluates it at "
                "deployment time; write it as '[[...'",
                name,
                None,
                ptr,
            )
        )
    if findings:
        text = raw.decode("utf-8", errors="replace")
        where = locate(text, {f.pointer for f in findings})
        findings = [
            Finding(f.code, f.severity, f.message, f.file, where[f.pointer][0], f.pointer, where[f.pointer][1])
            for f in findings
        ]
        result.findings.extend(findings)


def _json_error_position(raw: bytes) -> tuple[int, int]:
    try:
        json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.colno
    return 0, 0


def validate_build(
    build: Build,
    *,
    catalogue: Any = None,
    only: Path | None = None,
    result: RunResult | None = None,
    summaries: list[Summary] | None = None,
) -> RunResult:
    """Validate a compiled pack as our own content; findings point at the intent YAML that made them.

    Args:
        only: report only findings whose source is this intent file.
        result, summaries: accumulate into a larger run (validate_files); None starts a run of its own.
    """
    own_run = result is None
    result = RunResult() if result is None else result
    summaries = [] if summaries is None else summaries
    catalogue = catalogue if catalogue is not None else default_catalogue()
    known: dict[str, dict] = {}
    for group, kind in ((build.definitions, "definition"), (build.initiatives, "initiative")):
        for name, art in group.items():
            known[name] = art.body
            known[build.definition_id(kind, name).lower()] = art.body
    for art in build.artefacts():
        result.objects += 1
        findings = validate_doc(
            art.body,
            kind=art.kind,
            source=art.relpath,
            own=True,
            custom=True,
            catalogue=catalogue,
            definitions=known,
            assignment_scope=art.scope,
            summaries=summaries,
        )
        for f in findings:
            ref = art.source_for(f.pointer)
            if only is not None and Path(ref.file).resolve() != only.resolve():
                continue
            result.findings.append(
                Finding(
                    f.code,
                    f.severity,
                    f"{art.relpath}: {f.message}",
                    ref.file,
                    ref.line or None,
                    f.pointer,
                    ref.col or None,
                )
            )
    result.files += 1
    if own_run:
        result.findings.extend(run_collection(summaries))
        result.findings.sort(key=Finding.sort_key)
    return result


def walk_folder(root: Path) -> tuple[list[Path], list[str]]:
    """Pack roots (folders with policygen.yaml) and the JSON files outside them, in a stable order."""
    packs: list[Path] = []
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if SETTINGS_FILE in filenames:
            packs.append(Path(dirpath))
            dirnames[:] = []  # the pack's own JSON (build output, tests) is not third-party input
            continue
        files.extend(os.path.join(dirpath, f) for f in filenames if f.endswith(".json"))
    files.sort()
    return packs, files


@dataclass
class Inputs:
    """What a list of paths holds, in the order it is validated; packs still have to be compiled."""

    items: list[tuple[str, Path | str, Path | None | bool]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def packs(self) -> list[Path]:
        """Pack roots to compile (each once, even when named several times)."""
        return list(dict.fromkeys(Path(item) for what, item, _ in self.items if what == "pack"))


def find_inputs(paths: Sequence[Path]) -> Inputs:
    """Sort paths into packs (folders with policygen.yaml, or intent YAML inside one) and policy JSON."""
    inputs = Inputs()
    add = inputs.items.append
    for raw_path in paths:
        path = Path(raw_path)
        if path.is_dir():
            if is_pack(path):
                add(("pack", path, None))
                continue
            packs, json_files = walk_folder(path)
            for pack in packs:
                add(("pack", pack, None))
            for f in json_files:
                add(("json", f, False))
        elif path.is_file():
            suffix = path.suffix.lower()
            if suffix == ".json":
                add(("json", path, True))
            elif suffix in (".yaml", ".yml"):
                root = find_pack(path)
                if root is None:
                    inputs.diagnostics.append(
                        Diagnostic(str(path), 0, 0, "intent YAML outside a pack (no policygen.yaml above it)")
                    )
                else:
                    add(("pack", root, path))
            else:
                inputs.diagnostics.append(Diagnostic(str(path), 0, 0, "not a JSON or YAML file"))
        else:
            inputs.diagnostics.append(Diagnostic(str(path), 0, 0, "no such file or folder"))
    return inputs


def validate_files(
    paths: Sequence[Path] | Inputs,
    *,
    catalogue: Any = None,
    escaped: bool | None = None,
    builds: Mapping[Path, Build | None] | None = None,
) -> RunResult:
    """Validate policy JSON files and folders, and the packs among them from their compiled `builds`.

    `builds` maps each of `find_inputs(paths).packs` to its Build, or to None when the caller could not
    compile it (and reports why). The cyclic GC pauses for the run: it creates no garbage cycles worth
    collecting mid-run, and full collections over a 65,000-alias catalogue cost ~8% of a corpus run.
    """
    inputs = paths if isinstance(paths, Inputs) else find_inputs(paths)
    builds = builds or {}
    missing = [str(p) for p in inputs.packs if p not in builds]
    if missing:
        raise ValueError(f"intent packs not compiled by the caller: {', '.join(missing)}")
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _validate(inputs, builds, catalogue=catalogue, escaped=escaped)
    finally:
        if was_enabled:
            gc.enable()


def _validate(
    inputs: Inputs, builds: Mapping[Path, Build | None], *, catalogue: Any, escaped: bool | None
) -> RunResult:
    result = RunResult(diagnostics=list(inputs.diagnostics))
    cat = catalogue if catalogue is not None else default_catalogue()
    summaries: list[Summary] = []
    for what, item, extra in inputs.items:
        if what == "pack":
            build = builds[Path(item)]
            if build is not None:
                validate_build(build, catalogue=cat, only=extra, result=result, summaries=summaries)  # type: ignore[arg-type]
        else:
            validate_json_file(
                item, catalogue=cat, escaped=escaped, explicit=bool(extra), result=result, summaries=summaries
            )
    result.findings.extend(run_collection(summaries))
    result.findings.sort(key=Finding.sort_key)
    return result
