"""Evaluate only what Azure would have created: a definition the validator finds an error in (unknown
condition key, a key beside `allOf`/`not`, too deep a rule, an escaped expression in a REST body, …) is
refused by `evaluate`, `test` and `impact` with the validator's own findings, at their `file:line`.

The checks are the validator's (`policygen.rules`), not a copy: only error-severity findings of the rules
that encode what Azure rejects (our own-content conventions are not applied: `own=False`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policygen.errors import Diagnostic


def _errors(findings: list[Any]) -> list[Any]:
    from policygen.rules.base import Severity

    return [f for f in findings if f.severity == Severity.ERROR]


def file_refusals(path: Path, catalogue: Any) -> list[Diagnostic]:
    """Error findings for a definition JSON file (REST form, bare properties or an ARM template resource)."""
    from policygen.rules.checking import RunResult
    from policygen.rules.json_input import validate_json_file

    result = RunResult()
    validate_json_file(path, catalogue=catalogue, escaped=None, explicit=True, result=result, summaries=[])
    out = list(result.diagnostics)
    for f in _errors(result.findings):
        out.append(Diagnostic(f.file or str(path), f.line or 0, f.col or 0, f"{f.code}: {f.message}"))
    return out


def definition_refusals(
    body: Mapping[str, Any], source: str, catalogue: Any, locate: Any = None, *, escaped: bool = False
) -> list[Diagnostic]:
    """Error findings for a definition object; `locate(pointer)` gives (file, line, col) when known
    (a pack's intent YAML), else the findings point at `source`. `escaped`: `body` was an ARM template
    resource whose expressions have been un-escaped already."""
    from policygen.rules.checking import validate_doc

    findings = validate_doc(
        dict(body), kind="definition", source=source, own=False, custom=True, catalogue=catalogue,
        definitions=None, assignment_scope=None, escaped=escaped,
    )  # fmt: skip
    out = []
    for f in _errors(findings):
        file, line, col = locate(f.pointer) if locate is not None else (source, f.line or 0, f.col or 0)
        out.append(Diagnostic(file, line or 0, col or 0, f"{f.code}: {f.message}"))
    return out


def build_refusals(build: Any, catalogue: Any, names: Any = None) -> dict[str, list[Diagnostic]]:
    """Per pack definition (all, or those in `names`): the refusals, pointing at the intent YAML."""
    out: dict[str, list[Diagnostic]] = {}
    for name, art in build.definitions.items():
        if names is not None and name not in names:
            continue

        def locate(pointer: str, _art: Any = art) -> tuple[str, int, int]:
            ref = _art.source_for(pointer)
            return ref.file, ref.line or 0, ref.col or 0

        problems = definition_refusals(art.body, art.relpath, catalogue, locate)
        if problems:
            out[name] = problems
    return out
