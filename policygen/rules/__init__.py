"""Offline validator: every documented Azure Policy rule, as small units with stable codes.

Public API:
    validate_object(obj, kind=..., own=..., custom=..., ...) -> list[Finding]   (one JSON object)
    validate_build(build, catalogue=...) -> list[Finding]                        (a compiled pack)
    validate_paths(paths, builds=..., catalogue=..., escaped=...) -> list[Finding] (files, folders, packs)
    all_rules() -> list[type[Rule]]                                              (the catalogue)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from policygen.rules.base import Finding, Rule, Severity
from policygen.rules.registry import all_rules

if TYPE_CHECKING:
    from policygen.arm.aliases import AliasCatalogue
    from policygen.artefacts import Build

__all__ = [
    "Finding",
    "Rule",
    "Severity",
    "all_rules",
    "has_errors",
    "validate_build",
    "validate_object",
    "validate_paths",
]


def validate_object(
    obj: dict,
    *,
    kind: str | None = None,
    source: str = "<memory>",
    own: bool = False,
    custom: bool = True,
    catalogue: AliasCatalogue | None = None,
    definitions: Mapping[str, dict] | None = None,
    assignment_scope: str | None = None,
) -> list[Finding]:
    """Validate one policy definition, initiative or assignment (REST or bare properties form).

    Args:
        obj: the JSON object (not ARM-template-escaped; escaped strings are reported as FN-04).
        kind: "definition" | "initiative" | "assignment"; None detects it from the content.
        source: file name used in findings.
        own: our own intents: custom limits apply and an unknown alias is an error.
        custom: False for Microsoft built-ins (size limits exempt; extra modes and effects allowed).
        catalogue: alias catalogue; None loads the default (shipped + `aliases sync` cache).
        definitions: member/assigned definitions by id or name, for cross-checks when available.
        assignment_scope: the scope an assignment is made at (24-character names at management groups).

    Returns:
        Findings sorted by pointer; line numbers are unknown for in-memory objects.
    """
    from policygen.rules.engine import validate_doc

    return validate_doc(
        obj,
        kind=kind,
        source=source,
        own=own,
        custom=custom or own,
        catalogue=catalogue,
        definitions=definitions,
        assignment_scope=assignment_scope,
    )


def validate_paths(
    paths: Sequence[Path],
    *,
    builds: Mapping[Path, Build | None] | None = None,
    catalogue: AliasCatalogue | None = None,
    escaped: bool | None = None,
) -> list[Finding]:
    """Validate files and folders (recursive): policy JSON (REST, bare, ARM-escaped) and intent packs.

    Args:
        builds: the compiled Build of every pack among `paths` (`engine.find_inputs(paths).packs`), by root.

    Raises:
        InputError: some input was unusable (unreadable, not JSON/YAML, not a policy object); carries
            every such problem.
    """
    from policygen.errors import InputError
    from policygen.rules.engine import validate_files

    result = validate_files(paths, catalogue=catalogue, escaped=escaped, builds=builds)
    if result.diagnostics:
        raise InputError(result.diagnostics)
    return result.findings


def validate_build(build: Build, *, catalogue: AliasCatalogue | None = None) -> list[Finding]:
    """Validate a compiled pack as our own content (findings point at the intent YAML)."""
    from policygen.rules.engine import validate_build as run

    return run(build, catalogue=catalogue).findings


def has_errors(findings: Sequence[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
