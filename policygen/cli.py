"""The `policygen` command line: options -> task or stage API -> view -> exit code.

`run(argv)` is the one entry point (the console script and the tests use it). Each area registers its
commands from `policygen/commands/<area>.py` (`register(app)`), so areas can be worked on independently
and `--help` stays fast (stage modules are imported inside command bodies).
"""

from __future__ import annotations

import importlib
import sys

import typer

from policygen import __version__
from policygen.errors import ExitCode, PolicygenError
from policygen.views.console import echo
from policygen.views.errors import report_error, report_interrupted

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

def _version(value: bool) -> None:
    if value:
        echo(f"policygen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "--verbose", help="Show the Azure SDK's own log lines and error details."),
) -> None:
    """Root options."""
    from policygen.views.console import set_verbose

    set_verbose(verbose)


for _name in COMMAND_MODULES:
    importlib.import_module(f"policygen.commands.{_name}").register(app)


def run(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code: typer's usage errors give 2, our errors are printed
    by views.errors (never a traceback) and give their own code."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        report_error(PolicygenError(str(exc.code)))
        return int(ExitCode.FINDINGS)
    except PolicygenError as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        return report_interrupted()
    return int(ExitCode.OK)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    sys.exit(run(argv))


__all__ = ["app", "main", "run", "ExitCode"]
