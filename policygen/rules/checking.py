"""One policy object -> findings: build its Doc, run the rules for its kind, note it for the per-run rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policygen.arm.aliases import default_catalogue
from policygen.errors import Diagnostic
from policygen.rules.base import Finding, Severity, Summary
from policygen.rules.model import Doc, detect_kind
from policygen.rules.registry import run


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
    """What one validation run found, over every input it was given."""

    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    objects: int = 0
    files: int = 0
    skipped: int = 0

    def extend(self, part: RunResult) -> None:
        """Add the result of the files that follow this result's (a worker's chunk)."""
        self.findings.extend(part.findings)
        self.diagnostics.extend(part.diagnostics)
        self.objects += part.objects
        self.files += part.files
        self.skipped += part.skipped
