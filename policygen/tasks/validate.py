"""`policygen validate` as a task: find what the paths hold, compile each pack once, run the rules.

Problems that make an input unusable (YAML syntax, unknown keys, nothing to validate) are returned as
findings of the `INPUT` code beside the rules' findings, so every output format carries them with their
file:line (a CI job that uploads SARIF or reads JSON sees them too), and the run is marked unusable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from policygen.errors import Diagnostic, InputError
from policygen.rules.base import Finding, Severity

if TYPE_CHECKING:
    from policygen.artefacts import Build

INPUT_CODE = "INPUT"


@dataclass
class ValidateOutcome:
    findings: list[Finding] = field(default_factory=list)
    objects: int = 0
    unusable: bool = False  # some input could not be read or compiled: exit 2 whatever the findings

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


def input_finding(diag: Diagnostic) -> Finding:
    """An unusable-input diagnostic as an error finding at its file:line:col."""
    return Finding(INPUT_CODE, Severity.ERROR, diag.message, diag.file or None, diag.line or None, "", diag.col or None)


def compile_packs(roots: Sequence[Path]) -> tuple[dict[Path, Build | None], list[Diagnostic]]:
    """Compile each pack once for the validator (None and its diagnostics when it does not compile)."""
    builds: dict[Path, Build | None] = {}
    problems: list[Diagnostic] = []
    if not roots:  # policy JSON only: the renderer (Jinja2, pydantic, jsonschema) is never imported
        return builds, problems
    from policygen.render import compile_pack

    for root in roots:
        try:
            builds[root] = compile_pack(root)
        except InputError as exc:
            builds[root] = None
            problems.extend(exc.diagnostics)
    return builds, problems


def run_validate(
    paths: Sequence[Path], *, aliases: Sequence[Path] = (), escaped: bool | None = None, jobs: int | None = None
) -> ValidateOutcome:
    """Validate packs, intent YAML and policy JSON; unusable inputs come back as INPUT findings.

    `jobs`: worker processes for large JSON runs (None or 0: every available core)."""
    from policygen.arm.aliases import load_catalogue
    from policygen.rules.engine import validate_files
    from policygen.rules.inputs import find_inputs

    catalogue = load_catalogue(list(aliases))
    inputs = find_inputs(list(paths) or [Path(".")])
    builds, problems = compile_packs(inputs.packs)
    result = validate_files(inputs, catalogue=catalogue, escaped=escaped, builds=builds, jobs=jobs)
    diagnostics = sorted(set(result.diagnostics) | set(problems))
    findings = [input_finding(d) for d in diagnostics] + list(result.findings)
    findings.sort(key=Finding.sort_key)
    return ValidateOutcome(findings=findings, objects=result.objects, unusable=bool(diagnostics))


def validation_errors(build: Build) -> list[Finding]:
    """The error findings of a compiled pack: what build, plan and apply refuse to go on with."""
    from policygen.rules.engine import validate_build

    return [f for f in validate_build(build).findings if f.severity is Severity.ERROR]
