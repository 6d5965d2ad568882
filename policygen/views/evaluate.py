"""What `policygen evaluate` (one definition x one resource) and `policygen test` print."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape

from policygen.tasks.policy_tests import PolicyTestRun
from policygen.views.console import make_console
from policygen.views.encoding import VisibleFile, echo_json


def render_outcome_json(out: Any) -> None:
    echo_json(json.dumps(out.to_json(), indent=2, ensure_ascii=False))  # valid JSON whatever stdout carries


def render_outcome(policy: Any, resource: dict, out: Any) -> None:
    console = make_console()
    console.file = VisibleFile(console.file)  # a lone surrogate, or € on a latin-1 stdout, written escaped
    rid = (resource.get("id") or "/".join(str(v) for v in (resource.get("type"), resource.get("name")) if v)
           or "(no id, type or name)")
    if out.error:
        verdict = "[red]EVALUATION FAILED[/] (implicit deny)"
    elif not out.applicable:
        verdict = "[dim]NOT APPLICABLE[/] (Azure records no compliance state)"
    elif out.compliant is None:
        verdict = "[dim]no compliance state[/]"
    elif out.compliant:
        verdict = "[green]COMPLIANT[/]"
    else:
        verdict = "[red]NON-COMPLIANT[/]" + (" [red](request denied)[/]" if out.denied else "")
    console.print(f"policy    {escape(policy.name)}  (effect {escape(str(out.effect or 'not resolved'))})")
    console.print(f"resource  {escape(str(rid))}")
    console.print(f"result    {verdict}; if matched: {str(out.matched).lower()}")
    console.print("why:")
    for line in out.reasons:
        console.print("  " + escape(line))
    for warning in policy.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if policy.unknown_aliases:
        names = ", ".join(sorted(policy.unknown_aliases))
        console.print(f"[yellow]warning:[/] aliases not in the catalogue (derived path used): {escape(names)}")
    if out.modified is not None:
        console.print("resource after remediation:")
        console.print(escape(json.dumps(out.modified, indent=2, ensure_ascii=False)))


def _test_id(case: Any) -> str:
    return f"{case.source.file}::{case.definition}::{case.name}"


def render_test_run(result: PolicyTestRun, *, verbose: bool = False) -> None:
    """pytest-style: dots per file (or one line per test), failures with the evaluator's reasons."""
    console = make_console()
    console.file = VisibleFile(console.file)  # a lone surrogate, or € on a latin-1 stdout, written escaped
    run, build = result.run, result.build
    console.print(f"[bold]policy tests[/]: {len(run.results)} collected from {len(build.definitions)} definitions")
    if verbose:
        for r in run.results:
            status = "[green]PASSED[/]" if r.passed else "[red]FAILED[/]"
            console.print(f"{escape(_test_id(r.case))} {status}")
    else:
        by_file: dict[str, list[bool]] = {}
        for r in run.results:
            by_file.setdefault(r.case.source.file, []).append(r.passed)
        for file, states in by_file.items():
            marks = "".join("[green].[/]" if ok else "[red]F[/]" for ok in states)
            console.print(f"{escape(file)} {marks}")
    if run.failed:
        console.rule("FAILURES", style="red")
        for r in run.failed:
            console.rule(escape(f"{r.case.definition}::{r.case.name}"), style="red", characters="_")
            for problem in r.failures:
                console.print(f"{escape(str(r.case.source))}: [red]{escape(problem)}[/]")
            if r.outcome is not None:
                console.print("why:")
                for line in r.outcome.reasons:
                    console.print("  " + escape(line))
    if run.untested and not result.keyword:
        names = escape(", ".join(run.untested))
        console.print(f"[yellow]warning:[/] definitions without both a compliant and a non-compliant case: {names}")
    passed = len(run.results) - len(run.failed)
    parts = []
    if run.failed:
        parts.append(f"[red]{len(run.failed)} failed[/]")
    parts.append(f"[green]{passed} passed[/]")
    style = "red" if run.failed else "green"
    console.rule(f"{', '.join(parts)} in {run.seconds:.2f}s", style=style)
