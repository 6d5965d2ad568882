"""The `policygen` command line: thin wrappers that map options onto stage APIs and exit codes.

Each area registers its commands from `policygen/commands/<area>.py` (`register(app)`), so areas can be
worked on independently and `--help` stays fast (stage modules are imported inside command bodies).
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from policygen import __version__
from policygen.errors import ExitCode, InputError, PolicygenError

COMMAND_MODULES = ("build", "validate", "evaluate", "emulator", "deploy", "export")

app = typer.Typer(
    name="policygen",
    help=(
        "Turn governance intent (YAML) into Azure Policy.\n\n"
        "Render intents into policy definitions, initiatives and assignments; validate and unit-test "
        "them offline; plan, apply and remediate them (against Azure or the bundled emulator); export "
        "them for EPAC, the ALZ library, ARM, Bicep and Terraform."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"policygen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Root options."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"policygen.commands.{_name}").register(app)


def report_error(exc: PolicygenError) -> int:
    """Print a domain error without a traceback and return its exit code."""
    if isinstance(exc, InputError):
        for diag in exc.diagnostics:
            err_console.print(str(diag), markup=False)
        n = len(exc.diagnostics)
        err_console.print(f"{n} problem{'s' if n != 1 else ''} found.", style="red", markup=False)
    else:
        err_console.print(f"error: {exc}", style="red", markup=False)
    return int(exc.exit_code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: typer's own usage errors exit 2; our errors never show a traceback."""
    try:
        app(args=argv, standalone_mode=True)
    except PolicygenError as exc:
        sys.exit(report_error(exc))
    except KeyboardInterrupt:
        err_console.print("interrupted", style="red")
        sys.exit(130)


__all__ = ["app", "main", "ExitCode"]
