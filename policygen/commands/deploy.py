"""CLI for the deploy area: `plan`, `apply`, `remediate`, `status` and `demo`.

Thin: options -> `policygen.azure` stage APIs -> views -> exit code. Azure/emulator failures become an
`AzureError` (exit 2, one line, no traceback); `plan --detailed-exitcode` follows terraform (0 no changes,
2 changes, 1 error).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from policygen.errors import AzureError, ExitCode, InputError, PolicygenError
from policygen.views.console import echo, make_console

PACK_ARG = typer.Argument(Path("."), help="Pack folder (contains policygen.yaml).", show_default=True)
ENV_OPT = typer.Option(None, "--env", "-e", help="Environment from policygen.yaml (default: the first declared).")
CONCURRENCY_OPT = typer.Option(None, "--concurrency", "-c", min=1, max=256,
                               help="Parallel requests (default 32; 1 = sequential).")


class PlanFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("apply")(apply)
    app.command("remediate")(remediate)
    app.command("status")(status)
    app.command("demo")(demo)


@contextlib.contextmanager
def azure_errors(endpoint: str | None = None) -> Iterator[None]:
    """Turn SDK and transport exceptions into one-line AzureErrors."""
    from azure.core.exceptions import AzureError as SdkError
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

    try:
        yield
    except PolicygenError:
        raise
    except ServiceRequestError as exc:
        raise AzureError(f"cannot reach {endpoint or 'Azure'}: {str(exc).splitlines()[0]}") from None
    except ClientAuthenticationError as exc:
        raise AzureError(_no_credential(exc)) from None
    except HttpResponseError as exc:
        err = getattr(exc, "error", None)
        code = getattr(err, "code", None) or exc.status_code
        message = getattr(err, "message", None) or str(exc).splitlines()[0]
        raise AzureError(f"Azure answered {exc.status_code} {code}: {message}") from None
    except SdkError as exc:
        raise AzureError(f"Azure request failed: {str(exc).splitlines()[0]}") from None
    except Exception as exc:
        if type(exc).__name__ in ("CredentialUnavailableError",):
            raise AzureError(_no_credential(exc)) from None
        raise


def _no_credential(exc: Exception) -> str:
    """One line that says what to do; each credential's own answer only under --verbose."""
    from policygen.views.console import is_verbose

    text = ("no usable Azure credential: run `az login`, or set AZURE_TENANT_ID and AZURE_CLIENT_ID with "
            "AZURE_CLIENT_SECRET or a workload identity token (AZURE_FEDERATED_TOKEN_FILE), or use `--env local` "
            "for the bundled emulator")
    return f"{text}\n{exc}" if is_verbose() else f"{text} (--verbose shows each credential's answer)"


SKIP_VALIDATION_OPT = typer.Option(False, "--skip-validation",
                                   help="Plan even when the validator reports errors (Azure may then refuse).")


def _build_and_target(pack: Path, env: str | None, *, gate: bool = False) -> tuple[Any, Any]:
    """Compile once; with `gate`, refuse (exit 1) when the validator finds errors, before Azure is read."""
    from policygen.azure.target import resolve_target
    from policygen.render import compile_pack

    build = compile_pack(pack, env=env)
    if gate:
        refuse_invalid(build, "deploy")
    return build, resolve_target(build, env)


def refuse_invalid(build: Any, what: str) -> None:
    """The validator's errors, printed, then exit 1: Azure would refuse these objects (or worse, accept them)."""
    from policygen.tasks.validate import validation_errors
    from policygen.views.findings_text import render_refusal

    errors = validation_errors(build)
    if errors:
        echo(render_refusal(errors, what), nl=False, err=True)
        raise typer.Exit(ExitCode.FINDINGS)


# --------------------------------------------------------------------------- plan


def plan(
    pack: Path = PACK_ARG,
    env: str | None = ENV_OPT,
    out: Path | None = typer.Option(None, "--out", "-o", help="Save the plan (JSON); `apply --plan FILE` runs it."),
    fmt: PlanFormat = typer.Option(PlanFormat.text, "--format", "-f", help="text (terraform-like) or json."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="Exit 0 when nothing changes, 2 when changes are pending, 1 on error."),
    concurrency: int | None = CONCURRENCY_OPT,
    skip_validation: bool = SKIP_VALIDATION_OPT,
) -> None:
    """Show what apply would change in an environment (writes nothing).

    Creates, updates, replaces and deletes of definitions, initiatives, assignments and role assignments,
    and the remediation tasks apply will start. Reads Azure (or the emulator) with list calls.

    The saved plan holds every value in clear text and fingerprints of what it read: treat it as sensitive;
    apply refuses it once Azure has changed.
    """
    try:
        result = _plan(pack, env, out, fmt, concurrency, gate=not skip_validation)
    except PolicygenError as exc:
        if not detailed_exitcode:
            raise
        from policygen.views.errors import report_error

        report_error(exc)
        raise typer.Exit(1) from None
    if detailed_exitcode:
        raise typer.Exit(2 if result.has_changes else 0)
    raise typer.Exit(ExitCode.OK)


def _plan(pack: Path, env: str | None, out: Path | None, fmt: PlanFormat, concurrency: int | None, *,
          gate: bool = True) -> Any:
    import json
    import time

    from policygen.azure.apply import DEFAULT_CONCURRENCY
    from policygen.azure.workflow import connect, plan_build
    from policygen.views.deploy import render_plan

    build, target = _build_and_target(pack, env, gate=gate)
    conc = concurrency or DEFAULT_CONCURRENCY
    started = time.perf_counter()
    with azure_errors(target.endpoint):
        arm = connect(target, concurrency=conc)
        result = plan_build(build, target, arm, concurrency=conc).plan
    took = time.perf_counter() - started
    if out:
        result.write(out)
    if fmt is PlanFormat.json:
        echo(json.dumps(result.to_json(), indent=2))
    else:
        console = make_console()
        render_plan(result, console, read_seconds=took)
        if out:
            console.print(f"\nSaved the plan to {out}. Apply exactly this plan with: policygen apply --plan {out}",
                          markup=False)
    return result


# --------------------------------------------------------------------------- apply


def apply(
    pack: Path = PACK_ARG,
    env: str | None = ENV_OPT,
    plan_file: Path | None = typer.Option(None, "--plan", help="A plan saved by `plan --out`: applied without a "
                                          "prompt (the file is the approval), refused if Azure changed since."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply without asking (plain apply plans first)."),
    concurrency: int | None = CONCURRENCY_OPT,
    remediate: bool = typer.Option(True, "--remediate/--no-remediate",
                                   help="Start the remediation tasks the plan lists (assignments with remediation "
                                        "enabled)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only failures and the summary."),
    skip_validation: bool = SKIP_VALIDATION_OPT,
) -> None:
    """Make an environment match the pack (a saved plan, or plan and confirm).

    Definitions -> initiatives -> assignments -> role assignments -> remediation (deletes in reverse), in
    parallel where dependencies allow, retrying throttling, server errors and identity replication. Safe to
    re-run: a second apply writes nothing; an interrupted one converges.
    """
    from policygen.azure.apply import DEFAULT_CONCURRENCY, ApplyInterrupted, execute
    from policygen.views.deploy import ApplyProgress, render_apply_result

    console = make_console()
    conc = concurrency or DEFAULT_CONCURRENCY
    if plan_file is not None:
        the_plan, arm = _saved_plan(plan_file, env, conc, console)
    else:
        the_plan, arm = _plan_and_confirm(pack, env, conc, yes, console, gate=not skip_validation, quiet=quiet)
    if not the_plan.has_changes:
        console.print("No changes. Nothing to apply.")
        raise typer.Exit(ExitCode.OK)
    try:
        with azure_errors(the_plan.target.endpoint), ApplyProgress(console, verbose=not quiet) as progress:
            result = execute(the_plan, arm, concurrency=conc, remediate=remediate, reporter=progress)
    except ApplyInterrupted as stop:
        render_apply_result(stop.result, console)
        raise typer.Exit(130) from None
    render_apply_result(result, console)
    raise typer.Exit(ExitCode.OK if result.ok else ExitCode.FINDINGS)


def _saved_plan(plan_file: Path, env: str | None, conc: int, console: Any) -> tuple[Any, Any]:
    """The saved plan (the file is the approval), refused when Azure changed since it was made."""
    from policygen.azure.plan import Plan
    from policygen.azure.workflow import check_saved_plan, connect

    saved = Plan.read(plan_file)
    if env and env != saved.target.env:
        raise InputError(f"{plan_file}: the plan is for environment {saved.target.env!r}, not {env!r} "
                         "(planning options cannot be combined with a saved plan)")
    with azure_errors(saved.target.endpoint):
        arm = connect(saved.target, concurrency=conc)
        check_saved_plan(saved, arm, concurrency=conc)
    console.print(f"Applying saved plan {escape(str(plan_file))} to environment "
                  f"[bold]{escape(saved.target.env)}[/].")
    return saved, arm


def _plan_and_confirm(pack: Path, env: str | None, conc: int, yes: bool, console: Any, *,
                      gate: bool = True, quiet: bool = False) -> tuple[Any, Any]:
    """Plan, show it (only its summary line when quiet), and ask for 'yes' (unless --yes); exits when nothing
    changes or the user declines."""
    from policygen.azure.workflow import connect, plan_build
    from policygen.views.deploy import plan_summary_line, render_plan

    build, target = _build_and_target(pack, env, gate=gate)
    with azure_errors(target.endpoint):
        arm = connect(target, concurrency=conc)
        the_plan = plan_build(build, target, arm, concurrency=conc).plan
    if quiet:
        console.print(plan_summary_line(the_plan))
    else:
        render_plan(the_plan, console)
    if not the_plan.has_changes:
        raise typer.Exit(ExitCode.OK)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("apply needs approval: pass --yes, or save a plan with `plan --out FILE` and "
                             "run `apply --plan FILE`")
        console.print("\nDo you want to perform these actions? Only 'yes' will be accepted.")
        if input("  Enter a value: ").strip() != "yes":
            console.print("Apply cancelled.")
            raise typer.Exit(ExitCode.FINDINGS)
    return the_plan, arm


# --------------------------------------------------------------------------- remediate


def remediate(
    pack: Path = PACK_ARG,
    env: str | None = ENV_OPT,
    wait: bool = typer.Option(False, "--wait", "-w", help="Follow the tasks until they end; exit 1 if any failed."),
    assignment: str | None = typer.Option(None, "--assignment", "-a", help="Only this assignment (name)."),
    evaluate: bool = typer.Option(False, "--evaluate/--no-evaluate",
                                  help="Trigger an on-demand compliance scan of the subscriptions in scope first."),
    timeout: float = typer.Option(3600.0, "--timeout", help="With --wait: give up after this many seconds."),
) -> None:
    """Start remediation tasks for the pack's deployIfNotExists and modify policies.

    One task per initiative member of each deployed assignment, unless an equivalent task is still running.
    """
    from policygen.azure.remediate import run_remediation, tasks_for
    from policygen.azure.workflow import connect, remediation_setup
    from policygen.views.deploy import RemediationProgress, render_remediation

    build, target = _build_and_target(pack, env)
    console = make_console()
    with azure_errors(target.endpoint):
        arm = connect(target)
        setup = remediation_setup(build, target, arm, only=assignment)
        start, running, notes = tasks_for(setup.pairs, setup.remote.remediations, only=assignment)
        scopes = sorted({a.scope for a, needs in setup.pairs if needs}) if evaluate else []
        with RemediationProgress(console) if wait else contextlib.nullcontext() as progress:
            run = run_remediation(arm, start, running, evaluate_scopes=scopes, wait=wait,
                                  poll_s=0.2 if target.is_local else 10.0, timeout_s=timeout, on_update=progress,
                                  remote=setup.remote)
    run.skipped = setup.notes + notes + run.skipped
    render_remediation(run, console)
    raise typer.Exit(ExitCode.OK if run.ok else ExitCode.FINDINGS)


# --------------------------------------------------------------------------- status


def status(
    pack: Path = PACK_ARG,
    env: str | None = ENV_OPT,
    members: bool = typer.Option(False, "--members", "-m", help="Also list the non-compliant members per assignment."),
) -> None:
    """Compliance per assignment of this pack (from policy states)."""
    from policygen.azure.status import compliance
    from policygen.azure.workflow import connect, deployed_assignments
    from policygen.views.deploy import render_status

    build, target = _build_and_target(pack, env)
    with azure_errors(target.endpoint):
        arm = connect(target)
        rows = compliance(arm, deployed_assignments(build, target, arm))
    render_status(rows, make_console(), title=f"Compliance in {target.env}", members=members)
    raise typer.Exit(ExitCode.OK)


# --------------------------------------------------------------------------- demo


def demo(
    pack: Path = PACK_ARG,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Shorter output (no per-write lines)."),
) -> None:
    """The whole loop on your machine against a local emulator: nothing to configure.

    Starts the bundled emulator with the local seed, builds, validates and tests the pack, shows the plan,
    applies it, remediates, and prints compliance before and after. Exits non-zero if any step fails.
    """
    from policygen.tasks.demo import run_demo
    from policygen.views.demo import DemoView

    result = run_demo(pack, DemoView(make_console(), verbose=not quiet))
    raise typer.Exit(ExitCode.OK if result.ok else ExitCode.FINDINGS)
