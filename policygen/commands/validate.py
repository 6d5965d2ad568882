"""CLI commands for the validate area: `policygen validate` and `policygen aliases sync`."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from policygen.errors import ExitCode
from policygen.views.console import echo

if TYPE_CHECKING:
    from policygen.artefacts import Build
    from policygen.errors import Diagnostic


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


def validate(
    paths: list[Path] = typer.Argument(
        None, help="Pack folders, intent YAML, or policy JSON files/folders (default: the current folder)."
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
    aliases: list[Path] = typer.Option(
        None,
        "--aliases",
        help="More aliases: CSV `alias,defaultPath` or `az provider list --expand` JSON (repeatable).",
    ),
    escaped: bool = typer.Option(
        None, "--escaped/--not-escaped", help="Treat JSON as ARM-template-escaped ('[[') or not (default: detect)."
    ),
    output: Path = typer.Option(None, "--output", "-o", help="Write the report to a file instead of stdout."),
    list_rules: bool = typer.Option(False, "--list-rules", help="Print the rule catalogue and exit."),
) -> None:
    """Validate Azure Policy definitions, initiatives and assignments offline (exit 1 on errors)."""
    from policygen.arm.aliases import load_catalogue
    from policygen.errors import InputError
    from policygen.rules.engine import validate_files
    from policygen.rules.inputs import find_inputs

    if list_rules:
        from policygen.views.rules_catalogue import render_text

        echo(render_text(), nl=False)
        raise typer.Exit(int(ExitCode.OK))
    from policygen.errors import PolicygenError
    from policygen.views.errors import report_error

    try:
        catalogue = load_catalogue(aliases or [])
        inputs = find_inputs(paths or [Path(".")])
        builds, problems = compile_packs(inputs.packs)
        result = validate_files(inputs, catalogue=catalogue, escaped=escaped, builds=builds)
        result.diagnostics.extend(problems)
    except PolicygenError as exc:
        raise typer.Exit(report_error(exc)) from None
    if fmt is Format.json:
        from policygen.views.findings_json import render

        text = render(result.findings)
    elif fmt is Format.sarif:
        from policygen.views.findings_sarif import render

        text = render(result.findings)
    else:
        from policygen.views.findings_text import render

        text = render(result.findings, objects=result.objects)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        echo(text, nl=False)
    if result.diagnostics:
        raise typer.Exit(report_error(InputError(result.diagnostics)))
    errors = any(f.severity.value == "error" for f in result.findings)
    raise typer.Exit(int(ExitCode.FINDINGS if errors else ExitCode.OK))


def compile_packs(roots: list[Path]) -> tuple[dict[Path, Build | None], list[Diagnostic]]:
    """Compile each pack once for the validator (None and its diagnostics when it does not compile)."""
    from policygen.errors import InputError
    from policygen.render import compile_pack

    builds: dict[Path, Build | None] = {}
    problems: list[Diagnostic] = []
    for root in roots:
        try:
            builds[root] = compile_pack(root)
        except InputError as exc:
            builds[root] = None
            problems.extend(exc.diagnostics)
    return builds, problems


aliases_app = typer.Typer(
    help="Alias catalogue: sync the live catalogue from Azure for offline runs.", no_args_is_help=True
)


@aliases_app.command("sync")
def aliases_sync(
    endpoint: str = typer.Option(
        None,
        "--endpoint",
        envvar="POLICYGEN_ENDPOINT",
        help="ARM base URL (a local emulator); default: Azure public cloud.",
    ),
    subscription: str = typer.Option(
        None, "--subscription", envvar="AZURE_SUBSCRIPTION_ID", help="Subscription to list providers in."
    ),
    cache_dir: Path = typer.Option(
        None, "--cache-dir", help="Where to write aliases.json (default: $POLICYGEN_CACHE_DIR or ~/.cache/policygen)."
    ),
) -> None:
    """Download every provider's aliases (providers?$expand=resourceTypes/aliases) into the offline cache."""
    from policygen.arm.aliases import default_cache_dir
    from policygen.azure.alias_sync import sync_aliases
    from policygen.errors import PolicygenError
    from policygen.views.errors import report_error

    target = (cache_dir or default_cache_dir()) / "aliases.json"
    try:
        n_providers, n_aliases = sync_aliases(
            target, endpoint=endpoint or os.environ.get("POLICYGEN_ENDPOINT"), subscription_id=subscription
        )
    except PolicygenError as exc:
        raise typer.Exit(report_error(exc)) from None
    echo(f"wrote {n_aliases} aliases from {n_providers} providers to {target}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("validate")(validate)
    app.add_typer(aliases_app, name="aliases")
