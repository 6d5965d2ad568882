"""CLI command `check`: would the pack's assignments deny, modify or audit this deployment?

Exit codes: 0 nothing would be denied; 1 a resource would be denied; 2 unusable input (every problem, with
file:line:col).
"""

from __future__ import annotations

from pathlib import Path

import typer

from policygen.errors import ExitCode, InputError

FORMATS = ("text", "json", "sarif")


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    deployment: list[Path] = typer.Argument(
        ..., help="ARM templates, 'az deployment ... what-if'/'validate' output, 'terraform show -json' plans "
        "(azapi_resource), ARM resource JSON, or folders of them."
    ),
    scope: str = typer.Option(
        ..., "--scope", "-s", help="Where it deploys: /subscriptions/ID or /subscriptions/ID/resourceGroups/NAME "
        "(a management group, or /, for templates whose $schema deploys there)."
    ),
    env: str | None = typer.Option(
        None, "--env", "-e",
        help="Without --pack: the live environment to read the assignments from (an environment of "
        "./policygen.yaml, or a cloud: AzureCloud, AzureUSGovernment, AzureChinaCloud, local). With --pack: "
        "the pack environment (default: the first declared).",
    ),
    pack: Path | None = typer.Option(
        None, "--pack", help="Check offline against this pack's assignments instead of the live environment."
    ),
    parameters: Path | None = typer.Option(
        None, "--parameters", "-p", help="The template's parameters file (ARM parameters JSON, or name -> value)."
    ),
    location: str = typer.Option(
        "westeurope", "--location", "-l", help="The resource group's location (resourceGroup().location)."
    ),
    management_group: list[str] | None = typer.Option(
        None, "--management-group", "-m",
        help="Management groups above the subscription, top first (default: from the environment's seed).",
    ),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or sarif."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
) -> None:
    """Report what the assignments in force at --scope would do to each resource of a deployment.

    The assignments are read from the live environment (--env), or from a pack offline (--pack).

    Denied (with the assignment's non-compliance message), modified (the fields modify/append would change),
    deployIfNotExists that would follow, audited, exempt, or undecidable (the outcome reads reference() or
    list*()). Exits 1 when anything would be denied.
    """
    from policygen.tasks import check as task
    from policygen.views import check as view

    if fmt not in FORMATS:
        raise InputError(f"--format must be text, json or sarif, not {fmt!r}")
    from policygen.commands.deploy import azure_errors

    with azure_errors():  # a live read that fails is one line (exit 2), never a traceback
        result = task.run(deployment, pack=pack, env=env, scope=scope, parameters=parameters, location=location,
                          management_groups=management_group or [])
    view.render(result, fmt, output)
    raise typer.Exit(ExitCode.FINDINGS if result.denied else ExitCode.OK)
