"""CLI commands for the validate area: `policygen validate` and `policygen aliases sync`."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from policygen.commands.validate_quick import Format, report
from policygen.errors import ExitCode
from policygen.views.console import echo

__all__ = ["Format", "register", "validate"]


def validate(
    paths: list[Path] = typer.Argument(
        None, help="Pack folders, intent YAML, or policy JSON files/folders (default: the current folder)."
    ),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
    aliases: list[Path] = typer.Option(
        None,
        "--aliases",
        help=(
            "More aliases, added to the packaged catalogue (a file wins per resource type and alias): CSV "
            "`alias,defaultPath`, `az provider list --expand` JSON or an `aliases sync` file (repeatable)."
        ),
    ),
    escaped: bool = typer.Option(
        None, "--escaped/--not-escaped", help="Treat JSON as ARM-template-escaped ('[[') or not (default: detect)."
    ),
    output: Path = typer.Option(None, "--output", "-o", help="Write the report to a file instead of stdout."),
    jobs: int = typer.Option(
        0,
        "--jobs",
        "-j",
        min=0,
        help="Worker processes for runs of 512+ JSON files (0: every available core; 1: one process).",
    ),
    list_rules: bool = typer.Option(False, "--list-rules", help="Print the rule catalogue and exit."),
) -> None:
    """Validate Azure Policy definitions, initiatives and assignments offline.

    Exit 1 on error findings; exit 2 when an input is unusable (YAML errors, nothing to validate), with
    those problems reported in every format.
    """
    if list_rules:
        from policygen.views.rules_catalogue import render_text

        echo(render_text(), nl=False)
        raise typer.Exit(int(ExitCode.OK))
    raise typer.Exit(report(paths or [], fmt, aliases or [], escaped, output, jobs))


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
