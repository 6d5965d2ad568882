"""Findings as `file:line:col: severity CODE message` lines plus a one-line summary."""

from __future__ import annotations

from collections.abc import Sequence

from policygen.rules.base import Finding, Severity


def location(f: Finding) -> str:
    if not f.file:
        return "<input>"
    if f.line:
        return f"{f.file}:{f.line}:{f.col or 1}"
    return f.file


def render(findings: Sequence[Finding], *, objects: int | None = None, show_pointer: bool = True) -> str:
    lines = []
    for f in findings:
        ptr = f" [{f.pointer}]" if show_pointer and f.pointer else ""
        lines.append(f"{location(f)}: {f.severity.value} {f.code} {f.message}{ptr}")
    lines.append(summary(findings, objects))
    return "\n".join(lines) + "\n"


def summary(findings: Sequence[Finding], objects: int | None = None) -> str:
    counts = {s: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    parts = [
        f"{counts[Severity.ERROR]} error(s)",
        f"{counts[Severity.WARNING]} warning(s)",
        f"{counts[Severity.INFO]} info",
    ]
    scope = f" in {objects} object(s)" if objects is not None else ""
    return f"{', '.join(parts)}{scope}."


def render_refusal(errors: Sequence[Finding], what: str) -> str:
    """Why build/plan/apply stop before writing anything: the validator's errors and the way out."""
    return render(errors) + f"refusing to {what}: fix the errors above, or pass --skip-validation\n"
