"""CLI commands of the evaluate area: `evaluate` (one definition × one resource), `test` (policy unit
tests of a pack) and `impact` (definitions × a resource inventory).

Exit codes: 0 nothing to report; 1 a resource is non-compliant or denied (`evaluate`, `impact`, unless
`--exit-zero`) or a policy test failed (`test`); 2 unusable input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from policygen.errors import Diagnostic, ExitCode, InputError

FORMAT_EVAL = typer.Option("text", "--format", "-f", help="text (explains why) or json.")
ALIASES_OPT = typer.Option(None, "--aliases", help="Extra alias catalogue (CSV or `az provider list` JSON).")
PARAMS_OPT = typer.Option(None, "--parameters", "-p", help='JSON/YAML object: name -> value or {"value": v}.')
CONTEXT_OPT = typer.Option(
    None,
    "--context",
    help="JSON/YAML: resourceGroup, subscription, policy, requestContext, utcNow (what Azure supplies).",
)


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
        None,
        "--api-version",
        help="requestContext().apiVersion and the alias paths of that API version "
        "(default: the resource's apiVersion, else latest).",
    ),
    fmt: str = FORMAT_EVAL,
    context: Path | None = CONTEXT_OPT,
) -> None:
    """Evaluate one policy definition against one resource and explain the outcome.

    Exits 1 when the resource is non-compliant or a request would be denied.
    """
    from policygen.evaluate import EvalContext, compile_policy, resources_from_json
    from policygen.evaluate.sources import load_parameters

    if fmt not in ("text", "json"):
        raise InputError(f"--format must be text or json, not {fmt!r}")
    from policygen.evaluate.refusals import file_refusals
    from policygen.evaluate.sources import arm_unescaped

    definition_data = arm_unescaped(_read_object(definition, "policy definition"))
    catalogue = _catalogue(aliases)
    refused = file_refusals(definition, catalogue)  # Azure would not have created it: exit 2, file:line
    if refused:
        raise InputError(refused)
    resource_data = _read_object(resource, "resource")
    if not isinstance(resource_data, dict):
        raise InputError(Diagnostic(str(resource), 0, 0, "the resource must be a JSON object"))
    related_data = resources_from_json(_read_object(related, "related resources"), str(related)) if related else []
    try:
        policy = compile_policy(definition_data, load_parameters(parameters), catalogue=catalogue)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(Diagnostic(str(definition), 0, 0, str(exc))) from None
    from dataclasses import replace

    from policygen.evaluate.context import load_context

    ctx = load_context(context) or EvalContext()
    if api_version:
        ctx = replace(ctx, api_version=api_version)
    out = policy.evaluate(resource_data, related=related_data, context=ctx)
    from policygen.views.evaluate import render_outcome, render_outcome_json

    if fmt == "json":
        render_outcome_json(out)
    else:
        render_outcome(policy, resource_data, out)
    flagged = out.compliant is False or out.denied
    raise typer.Exit(ExitCode.FINDINGS if flagged else ExitCode.OK)


def test(
    pack: Path = typer.Argument(Path("."), help="Pack folder (contains policygen.yaml)."),
    env: str | None = typer.Option(None, "--env", "-e", help="Environment (default: the first declared)."),
    aliases: list[Path] | None = ALIASES_OPT,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="One line per test."),
    keyword: str | None = typer.Option(None, "-k", help="Only tests whose definition or name contains this."),
    context: Path | None = CONTEXT_OPT,
) -> None:
    """Run the policy unit tests declared next to the definition intents (pytest-style output)."""
    from policygen.tasks.policy_tests import run_policy_tests
    from policygen.views.evaluate import render_test_run

    result = run_policy_tests(pack, env=env, aliases=aliases or [], keyword=keyword, context=context)
    render_test_run(result, verbose=verbose)
    raise typer.Exit(ExitCode.FINDINGS if result.failed else ExitCode.OK)


def impact(
    targets: list[Path] | None = typer.Argument(
        None, help="Pack folders and/or definition JSON files / folders of them (default: the pack in .)."
    ),
    resources: list[Path] = typer.Option(
        ...,
        "--resources",
        "-r",
        help="Inventory (repeatable; a folder reads its pages): JSON array (`az resource list`), NDJSON, or "
        'Azure Resource Graph / ARM list responses ({"data": [...], "$skipToken": ...}), streamed.',
    ),
    parameters: Path | None = PARAMS_OPT,
    assignment: str | None = typer.Option(
        None, "--assignment", "-a", help="Pack only: use this assignment's parameter values and initiative."
    ),
    env: str | None = typer.Option(None, "--env", "-e", help="Pack environment (default: the first declared)."),
    aliases: list[Path] | None = ALIASES_OPT,
    fmt: str = typer.Option("table", "--format", "-f", help="table, json (compact), ndjson or csv."),
    pretty: bool = typer.Option(False, "--pretty", help="Indented JSON (for humans)."),
    summary: Path | None = typer.Option(
        None, "--summary", help="Also write the per-policy and per-subscription summary here (JSON)."
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (default 0: one per available core)."),
    show_all: bool = typer.Option(False, "--all", help="List every evaluated pair, not only flagged ones."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when resources are flagged."),
    why: bool = typer.Option(False, "--why", help="Explain each flagged resource (slower: re-runs it traced)."),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: on for 10,000+ resources on a terminal)."
    ),
    context: Path | None = CONTEXT_OPT,
    api_version: str | None = typer.Option(
        None, "--api-version", help="requestContext().apiVersion and alias paths (default: each resource's apiVersion)."
    ),
) -> None:
    """Report, per policy, the resources of an inventory that would be non-compliant or denied.

    Exits 1 when anything is flagged (non-compliant, denied, or evaluation failed), 0 otherwise.
    """
    from policygen.commands.impact_quick import report

    code = report(targets, resources, parameters=parameters, assignment=assignment, env=env, aliases=aliases,
                  fmt=fmt, pretty=pretty, summary=summary, jobs=jobs, show_all=show_all, exit_zero=exit_zero,
                  why=why, progress=progress, context=context, api_version=api_version)
    raise typer.Exit(code)
