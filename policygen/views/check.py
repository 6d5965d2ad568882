"""What `policygen check` prints: per resource what the assignments would do (text), JSON, or SARIF
(results on the template line that declares the resource, so a pull request shows them there)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from policygen import __version__
from policygen.tasks.check import OUTCOMES, CheckResult, Finding
from policygen.views.console import PLAIN_WIDTH, count, make_console
from policygen.views.encoding import JSON_ESCAPE, VISIBLE, VisibleFile, echo_json, echo_visible
from policygen.views.findings_sarif import SCHEMA, _uri

STYLE = {"denied": "red", "undecidable": "yellow", "modified": "cyan", "deployIfNotExists": "cyan",
         "audited": "yellow", "notEnforced": "dim", "exempt": "dim"}
LEVEL = {"denied": "error", "undecidable": "warning", "audited": "warning", "modified": "note",
         "deployIfNotExists": "note", "notEnforced": "note", "exempt": "none"}
HELP = {
    "denied": "Azure would refuse the request (403 RequestDisallowedByPolicy).",
    "undecidable": "The outcome reads a value known only during deployment (reference(), list*(), known after "
                   "apply), or the input cannot be evaluated (a linked template, an azurerm resource).",
    "modified": "Azure would change the request before creating the resource (modify/append).",
    "deployIfNotExists": "A deployIfNotExists policy would deploy a related resource after this one.",
    "audited": "The resource would be created and reported non-compliant.",
    "notEnforced": "The assignment has enforcementMode DoNotEnforce: reported, not enforced.",
    "exempt": "An exemption waives this member for the resource.",
}


def render(result: CheckResult, fmt: str, output: Path | None = None) -> None:
    """The report on stdout, or in `output` (a pipeline uploads the SARIF file even when check exits 1)."""
    if fmt == "text" and output is None:
        _text(result)
        return
    if fmt == "json":
        text = json.dumps(to_json(result), indent=2, ensure_ascii=False)
    elif fmt == "sarif":
        text = json.dumps(to_sarif(result), indent=2, ensure_ascii=False)
    else:
        console = Console(file=io.StringIO(), width=PLAIN_WIDTH, soft_wrap=True, highlight=False, emoji=False)
        _text(result, console)
        text = console.file.getvalue().rstrip("\n")  # type: ignore[attr-defined]
    # what the output's encoding cannot carry is escaped, JSON as JSON (see views/encoding.py)
    if output is None:
        (echo_visible if fmt == "text" else echo_json)(text)
    else:
        output.write_text(text + "\n", encoding="utf-8", errors=VISIBLE if fmt == "text" else JSON_ESCAPE)
        echo_visible(f"{summary_line(result)}; report written to {output}", err=True)


def summary(result: CheckResult) -> dict[str, int]:
    return {o: sum(1 for f in result.findings if f.outcome == o) for o in OUTCOMES}


def to_json(result: CheckResult) -> dict[str, Any]:
    by_resource: dict[int, list[Finding]] = {}
    for f in result.findings:
        by_resource.setdefault(id(f.resource), []).append(f)
    return {
        "denied": result.denied,
        "summary": summary(result),
        "source": result.source,
        "scopes": result.chain,
        "assignments": result.assignments,
        "resources": [
            {"id": p.id or None, "type": p.resource.get("type"), "name": p.resource.get("name"), "file": p.source,
             "line": p.line, "symbolic": p.symbolic,
             "findings": [{k: v for k, v in f.to_json().items() if k not in ("resourceId", "resourceType", "file",
                                                                             "line")}
                          for f in by_resource.get(id(p), [])]}
            for p in result.resources
        ],
        "skipped": result.skipped,
    }


def summary_line(result: CheckResult) -> str:
    parts = [f"{n} {o}" for o, n in summary(result).items() if n]
    return (f"{count(len(result.resources), 'resource')} checked against "
            f"{count(len(result.assignments), 'assignment')} ({result.source}): "
            + (", ".join(parts) or "nothing to report"))


def _text(result: CheckResult, out: Console | None = None) -> None:
    if out is None:
        out = make_console()
        out.file = VisibleFile(out.file)
    err = make_console(stderr=True)
    err.file = VisibleFile(err.file)
    for s in result.skipped:
        err.print(f"[yellow]skipped[/] {escape(s)}")
    if not result.assignments:
        err.print(f"[yellow]warning:[/] no assignment ({escape(result.source)}) is in force at these scopes: "
                  + escape(", ".join(result.chain)))
    by_resource: dict[int, list[Finding]] = {}
    for f in result.findings:
        by_resource.setdefault(id(f.resource), []).append(f)
    for p in result.resources:
        found = by_resource.get(id(p), [])
        where = f"{p.source}:{p.line}"
        label = escape(p.id or f"{p.resource.get('type')}/{p.resource.get('name')}")
        if not found:
            out.print(f"[green]ok[/] {label} ({escape(where)})")
            continue
        out.print(f"[bold]{label}[/] ({escape(where)})")
        for f in found:
            member = f" {escape(f.member)}" if f.member else ""
            out.print(f"  [{STYLE[f.outcome]}]{f.outcome}[/]{member}" + (f" ({f.effect})" if f.effect else ""))
            if f.message and f.outcome in ("denied", "notEnforced", "exempt"):
                out.print(f"    {escape(f.message)}")
            for c in f.changes:
                out.print(f"    {escape(c['path'])}: {escape(json.dumps(c['before']))} -> "
                          f"{escape(json.dumps(c['after']))}")
            if f.detail:
                out.print(f"    {escape(f.detail)}")
    out.print(escape(summary_line(result)))


def to_sarif(result: CheckResult, root: Path | None = None) -> dict[str, Any]:
    root = root or Path(os.getcwd())
    rules = [{"id": f"check/{o}", "name": o, "shortDescription": {"text": HELP[o]},
              "defaultConfiguration": {"level": LEVEL[o]}} for o in OUTCOMES]
    index = {o: i for i, o in enumerate(OUTCOMES)}
    results = []
    for f in result.findings:
        text = f"{f.outcome}: {f.resource.id or f.resource.resource.get('name')}"
        if f.member:
            text += f" by {f.member} ({f.effect})"
        for extra in (f.message, f.detail, *(f"{c['path']}: {json.dumps(c['before'])} -> {json.dumps(c['after'])}"
                                            for c in f.changes)):
            if extra:
                text += f". {extra}"
        results.append({
            "ruleId": f"check/{f.outcome}", "ruleIndex": index[f.outcome], "level": LEVEL[f.outcome],
            "message": {"text": text},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": _uri(f.resource.source, root)},
                                     "region": {"startLine": max(f.resource.line, 1)}},
                "logicalLocations": [{"fullyQualifiedName": f.resource.id, "kind": "resource"}],
            }],
            "partialFingerprints": {"member/resource": f"{f.member}|{f.resource.id}".lower()},
        })
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "policygen check", "version": __version__, "rules": rules}},
        "results": results,
    }]}
