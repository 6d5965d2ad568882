"""CLI commands of the evaluate area: `evaluate` (one definition × one resource), `test` (policy unit
tests of a pack) and `impact` (definitions × a resource inventory).

Exit codes: 0 nothing to report; 1 a resource is non-compliant or denied (`evaluate`, `impact`, unless
`--exit-zero`) or a policy test failed (`test`); 2 unusable input.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from policygen.errors import Diagnostic, ExitCode, InputError

FORMAT_EVAL = typer.Option("text", "--format", "-f", help="text (explains why) or json.")
ALIASES_OPT = typer.Option(None, "--aliases", help="Extra alias catalogue (CSV or `az provider list` JSON).")
PARAMS_OPT = typer.Option(None, "--parameters", "-p", help='JSON/YAML object: name -> value or {"value": v}.')


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("test")(test)
    app.command("impact")(impact)


def _catalogue(files: list[Path] | None):
    from policygen.arm.aliases import load_catalogue

    return load_catalogue(files or [])


def _read_object(path: Path, what: str) -> Any:
    from policygen.evaluate.inventory import load_json_file

    return load_json_file(path, what)


def evaluate(
    definition: Path = typer.Argument(..., help="Policy definition JSON (REST form or bare properties)."),
    resource: Path = typer.Argument(..., help="ARM resource JSON."),
    parameters: Path | None = PARAMS_OPT,
    related: Path | None = typer.Option(
        None, "--related", help="Related resources for auditIfNotExists/deployIfNotExists (JSON array)."
    ),
    aliases: list[Path] | None = ALIASES_OPT,
    api_version: str | None = typer.Option(
        None, "--api-version", help="requestContext().apiVersion (default: the resource's apiVersion or latest)."
    ),
    fmt: str = FORMAT_EVAL,
) -> None:
    """Evaluate one policy definition against one resource and explain the outcome.

    Exits 1 when the resource is non-compliant or a request would be denied.
    """
    from policygen.evaluate import EvalContext, compile_policy, resources_from_json
    from policygen.evaluate.sources import load_parameters

    if fmt not in ("text", "json"):
        raise InputError(f"--format must be text or json, not {fmt!r}")
    from policygen.evaluate.sources import arm_unescaped

    definition_data = arm_unescaped(_read_object(definition, "policy definition"))
    resource_data = _read_object(resource, "resource")
    if not isinstance(resource_data, dict):
        raise InputError(Diagnostic(str(resource), 0, 0, "the resource must be a JSON object"))
    related_data = resources_from_json(_read_object(related, "related resources"), str(related)) if related else []
    try:
        policy = compile_policy(definition_data, load_parameters(parameters), catalogue=_catalogue(aliases))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(Diagnostic(str(definition), 0, 0, str(exc))) from None
    out = policy.evaluate(resource_data, related=related_data, context=EvalContext(api_version=api_version))
    if fmt == "json":
        typer.echo(json.dumps(out.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_outcome(policy, resource_data, out)
    flagged = out.compliant is False or out.denied
    raise typer.Exit(ExitCode.FINDINGS if flagged else ExitCode.OK)


def _print_outcome(policy, resource: dict, out) -> None:
    console = Console(highlight=False, soft_wrap=True)
    rid = resource.get("id") or f"{resource.get('type')}/{resource.get('name')}"
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
    console.print(f"policy    {escape(policy.name)}  (effect {out.effect})")
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


def test(
    pack: Path = typer.Argument(Path("."), help="Pack folder (contains policygen.yaml)."),
    env: str | None = typer.Option(None, "--env", "-e", help="Environment (default: the first declared)."),
    aliases: list[Path] | None = ALIASES_OPT,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="One line per test."),
    keyword: str | None = typer.Option(None, "-k", help="Only tests whose definition or name contains this."),
) -> None:
    """Run the policy unit tests declared next to the definition intents (pytest-style output)."""
    from policygen.evaluate.testing import run_tests
    from policygen.render import compile_pack

    build = compile_pack(pack, env=env)
    cases = [c for c in build.tests if not keyword or keyword.lower() in f"{c.definition}::{c.name}".lower()]
    run = run_tests(build.definitions, cases, catalogue=_catalogue(aliases))
    console = Console(highlight=False, soft_wrap=True)
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
    if run.untested and not keyword:
        names = ", ".join(run.untested)
        console.print(f"[yellow]warning:[/] definitions without both a compliant and a non-compliant case: {names}")
    passed = len(run.results) - len(run.failed)
    parts = []
    if run.failed:
        parts.append(f"[red]{len(run.failed)} failed[/]")
    parts.append(f"[green]{passed} passed[/]")
    style = "red" if run.failed else "green"
    console.rule(f"{', '.join(parts)} in {run.seconds:.2f}s", style=style)
    raise typer.Exit(ExitCode.FINDINGS if run.failed else ExitCode.OK)


def _test_id(case) -> str:
    return f"{case.source.file}::{case.definition}::{case.name}"


def impact(
    targets: list[Path] | None = typer.Argument(
        None, help="Pack folders and/or definition JSON files / folders of them (default: the pack in .)."
    ),
    resources: Path = typer.Option(
        ...,
        "--resources",
        "-r",
        help='Inventory: JSON array, `az resource list` output or Azure Resource Graph export ({"data": [...]}).',
    ),
    parameters: Path | None = PARAMS_OPT,
    assignment: str | None = typer.Option(
        None, "--assignment", "-a", help="Pack only: use this assignment's parameter values and initiative."
    ),
    env: str | None = typer.Option(None, "--env", "-e", help="Pack environment (default: the first declared)."),
    aliases: list[Path] | None = ALIASES_OPT,
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    show_all: bool = typer.Option(False, "--all", help="List every evaluated pair, not only flagged ones."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when resources are flagged."),
    why: bool = typer.Option(False, "--why", help="Explain each flagged resource (slower: re-runs it traced)."),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: on for 10,000+ resources on a terminal)."
    ),
) -> None:
    """Report, per policy, the resources of an inventory that would be non-compliant or denied.

    Exits 1 when anything is flagged (non-compliant, denied, or evaluation failed), 0 otherwise.
    """
    from policygen.evaluate import evaluate_inventory, load_inventory
    from policygen.evaluate.sources import is_pack, load_parameters, policies_from_build, policies_from_files

    if fmt not in ("table", "json", "csv"):
        raise InputError(f"--format must be table, json or csv, not {fmt!r}")
    targets = targets or [Path(".")]
    overrides = load_parameters(parameters)
    catalogue = _catalogue(aliases)
    missing = [Diagnostic(str(t), 0, 0, "no such file or folder") for t in targets if not t.exists()]
    if missing:
        raise InputError(missing)
    packs = [t for t in targets if is_pack(t)]
    files = [t for t in targets if not is_pack(t)]
    if assignment and not packs:
        raise InputError("--assignment needs a pack folder")
    policies, skipped = [], []
    for pack in packs:
        from policygen.render import compile_pack

        found, skip = policies_from_build(compile_pack(pack, env=env), overrides, catalogue, assignment)
        policies.extend(found)
        skipped.extend(skip)
    if files:
        found, skip = policies_from_files(files, overrides, catalogue)
        policies.extend(found)
        skipped.extend(skip)
    inventory = load_inventory(resources)
    gc.freeze()  # the parsed inventory is acyclic: keep the cyclic GC from re-scanning it while evaluating
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for s in skipped:
        err.print(f"[yellow]skipped[/] {escape(s)}")
    bare = sum(1 for r in inventory if "properties" not in r)
    if bare:
        err.print(
            f"[yellow]warning:[/] {bare} of {len(inventory)} resources carry no properties (`az resource list` "
            "omits them): conditions on aliases see missing values. Export with Azure Resource Graph "
            '(`az graph query -q "Resources"`) or `az resource show` for faithful results.'
        )
    show_bar = progress if progress is not None else (len(inventory) >= 10_000 and sys.stderr.isatty())
    rows: list = []
    kept: dict[str, int] = {}
    limit = None if fmt != "table" else TABLE_ROWS + 1  # the table lists a few per policy, counts the rest

    def collect(row) -> None:
        _count(row)
        if show_all or row.flagged:
            n = kept.get(row.policy, 0)
            if limit is None or n < limit:
                rows.append(row)
                kept[row.policy] = n + 1

    gc.disable()  # rows and scopes are acyclic too; a CLI run ends right after
    try:
        if show_bar:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            with Progress(
                TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
            ) as bar:
                task = bar.add_task("resources", total=len(inventory))
                for row in evaluate_inventory(
                    policies, inventory, progress=lambda n: bar.advance(task, n), explain=why
                ):
                    collect(row)
        else:
            for row in evaluate_inventory(policies, inventory, explain=why):
                collect(row)
    finally:
        gc.enable()
    summary = _summary(policies)
    flagged = sum(c[4] for c in _COUNTS.values())
    _COUNTS.clear()
    if fmt == "json":
        typer.echo(
            json.dumps(
                {"resources": len(inventory), "policies": summary, "results": [r.to_json() for r in rows]},
                indent=2,
                ensure_ascii=False,
            )
        )
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        header = ["policy", "effect", "resourceId", "resourceType", "matched", "compliant", "denied", "error"]
        w.writerow(header + (["reason"] if why else []))
        for r in rows:
            w.writerow(
                [
                    r.policy,
                    r.effect,
                    r.resource_id,
                    r.resource_type,
                    r.matched,
                    "" if r.compliant is None else r.compliant,
                    r.denied,
                    r.error or "",
                ]
                + ([r.reason or ""] if why else [])
            )
        typer.echo(buf.getvalue(), nl=False)
    else:
        _print_table(summary, rows, len(inventory))
    raise typer.Exit(ExitCode.FINDINGS if flagged and not exit_zero else ExitCode.OK)


_COUNTS: dict[str, list[int]] = {}
TABLE_ROWS = 20  # flagged resources listed per policy in the table view


def _count(row) -> None:
    c = _COUNTS.setdefault(row.policy, [0, 0, 0, 0, 0])
    c[0] += 1
    c[1] += row.compliant is False
    c[2] += row.denied
    c[3] += row.error is not None
    c[4] += row.flagged


def _summary(policies) -> list[dict[str, Any]]:
    out = []
    for name, pol in policies:
        evaluated, noncompliant, denied, errors, flagged = _COUNTS.get(name, [0, 0, 0, 0, 0])
        out.append(
            {
                "policy": name,
                "displayName": pol.display_name,
                "effect": pol.effect,
                "evaluated": evaluated,
                "nonCompliant": noncompliant,
                "denied": denied,
                "errors": errors,
                "flagged": flagged,
            }
        )
    return out


def _print_table(summary: list[dict[str, Any]], rows, n_resources: int) -> None:
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
    table = Table(title=f"Impact on {n_resources} resources", title_justify="left")
    for col, just in (
        ("policy", "left"),
        ("effect", "left"),
        ("evaluated", "right"),
        ("non-compliant", "right"),
        ("denied", "right"),
        ("errors", "right"),
    ):
        table.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for s in summary:
        if not s["evaluated"]:
            continue
        style = "red" if s["nonCompliant"] or s["denied"] else None
        table.add_row(
            s["displayName"] if len(s["displayName"]) <= 48 else s["displayName"][:47] + "…",
            s["effect"],
            str(s["evaluated"]),
            str(s["nonCompliant"]),
            str(s["denied"]),
            str(s["errors"]),
            style=style,
        )
    console.print(table)
    not_applicable = [s["policy"] for s in summary if not s["evaluated"]]
    if not_applicable:
        console.print(f"[dim]{len(not_applicable)} policies matched no resource type in the inventory[/]")
    by_policy: dict[str, list] = {}
    for r in rows:
        by_policy.setdefault(r.policy, []).append(r)
    names = {s["policy"]: s["displayName"] for s in summary}
    for name, items in by_policy.items():
        title = names.get(name, name)
        console.print(f"[bold]{escape(title)}[/]" + (f" ({escape(name)})" if title != name else ""))
        for r in items[:TABLE_ROWS]:
            what = (
                "error: " + r.error
                if r.error
                else ("denied" if r.denied else "non-compliant" if r.compliant is False else "compliant")
            )
            console.print(f"  {escape(r.resource_id)}  [red]{escape(what)}[/]")
            if r.reason:
                console.print(f"    [dim]why: {escape(r.reason)}[/]")
        total = next((x["flagged"] for x in summary if x["policy"] == name), len(items))
        if total > TABLE_ROWS:
            console.print(f"  … and {total - TABLE_ROWS} more (use --format json or csv for all)")
