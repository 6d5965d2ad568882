"""The `policygen` command line: options -> task or stage API -> view -> exit code.

`run(argv)` is the one entry point (the console script and the tests use it). Each area registers its
commands from `policygen/commands/<area>.py` (`register(app)`), so areas can be worked on independently
and `--help` stays fast (stage modules are imported inside command bodies).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policygen.errors import ExitCode, PolicygenError

if TYPE_CHECKING:
    import typer

COMMAND_MODULES = ("build", "validate", "evaluate", "check", "emulator", "deploy", "export", "adopt")

# What an option's value looks like in --help, by its annotation (typer would print Python type names).
METAVARS = {str: "TEXT", int: "INTEGER", float: "NUMBER", Path: "PATH"}

_APP: typer.Typer | None = None


def get_app() -> typer.Typer:
    """The typer app with every area's commands, built on first use: `policygen validate` in its plain
    forms never needs it (policygen.commands.validate_quick), and typer plus every command module
    cost several times a small validation run."""
    global _APP
    if _APP is None:
        _APP = _build_app()
    return _APP


def __getattr__(name: str) -> Any:
    """`from policygen.cli import app` builds the app then."""
    if name == "app":
        return get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build_app() -> typer.Typer:
    import importlib

    import typer

    from policygen import __version__
    from policygen.views.console import echo

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
        # Plain click help: paragraphs are re-wrapped to the terminal (rich mode keeps docstring line breaks,
        # cutting sentences), flags show no `<bool>`, and choices print on one line.
        rich_markup_mode=None,
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

    for name in COMMAND_MODULES:
        importlib.import_module(f"policygen.commands.{name}").register(app)
    _readable_metavars(app)
    return app


def _readable_metavars(typer_app: typer.Typer) -> None:
    """Give every option without a metavar the click-style one for its type, and every command its whole
    first docstring line as the short help, in every command and group."""
    import inspect
    import typing

    from typer.models import OptionInfo

    for command in typer_app.registered_commands:  # the whole first line in command lists, never cut at 45
        doc = inspect.getdoc(command.callback) or ""
        if command.short_help is None and doc:
            command.short_help = doc.splitlines()[0]
    commands = [c.callback for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _readable_metavars(group.typer_instance)
            text = group.help if isinstance(group.help, str) else group.typer_instance.info.help
            if isinstance(text, str) and not isinstance(group.short_help, str):
                group.short_help = inspect.cleandoc(text).splitlines()[0]
    for callback in filter(None, commands):
        hints = typing.get_type_hints(callback)
        for name, param in inspect.signature(callback).parameters.items():
            info = param.default
            if not isinstance(info, OptionInfo) or info.metavar is not None:
                continue
            hint = hints.get(name)
            args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
            inner = typing.get_args(args[0])[0] if typing.get_origin(args[0]) is list else args[0]
            if inner in METAVARS:
                info.metavar = METAVARS[inner]


def run(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code: typer's usage errors give 2, our errors are printed
    by views.errors (never a traceback) and give their own code."""
    from policygen.commands import impact_quick, validate_quick

    args = sys.argv[1:] if argv is None else argv
    quick = validate_quick.quick_run(args)
    if quick is None:
        quick = impact_quick.quick_run(args)
    if quick is not None:
        return quick
    import typer

    from policygen.views.errors import report_error, report_interrupted

    app = get_app()
    # click's base class of usage errors, as vendored by typer (which only exports BadParameter, Abort and Exit).
    click_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    try:
        code = app(args=argv, standalone_mode=False)
        return code if isinstance(code, int) else int(ExitCode.OK)
    except click_error as exc:  # usage errors: typer's conversion errors say "Value error, ..."
        exc.message = str(exc.message).replace("Value error, ", "")
        exc.show()
        return int(exc.exit_code)
    except typer.Abort:
        return report_interrupted()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        report_error(PolicygenError(str(exc.code)))
        return int(ExitCode.FINDINGS)
    except PolicygenError as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        return report_interrupted()
    except OSError as exc:
        return _unwritable(exc)
    return int(ExitCode.OK)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    A command builds one large, long-lived object graph (an estate's 9,500 objects with their YAML
    positions) and little cyclic garbage; CPython's collector, run every 700 allocations, spent a third
    of compiling such an estate re-scanning it (#17). Collections are rarer for the one process."""
    import gc

    gc.set_threshold(50_000, 20, 20)
    try:
        if argv is None:  # the installed command: a plain `validate` (or `impact` on one core) ends without teardown
            from policygen.commands.validate_quick import run_and_leave

            run_and_leave(sys.argv[1:])
            from policygen.commands import impact_quick

            impact_quick.run_and_leave(sys.argv[1:])
        code = run(argv)
    except OSError as exc:  # click ends a closed pipe quietly (exit 1); any other failed write lands here
        code = _unwritable(exc)
    sys.exit(code)


def _unwritable(exc: OSError) -> int:
    """A write that failed (a full disk, a closed stream): say so in one line, exit 1, no traceback.
    A closed pipe (the reader is gone, e.g. `| head`) ends quietly, as click ends it."""
    import errno

    from click.utils import PacifyFlushWrapper

    what = f"{exc.filename}: " if exc.filename else "cannot write output: "
    try:
        if sys.stderr is not None and exc.errno != errno.EPIPE:
            sys.stderr.write(f"error: {what}{exc.strerror or exc}\n")
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
    # what is still buffered cannot be written either: keep Python's final flush from reporting it again
    if sys.stdout is not None:
        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
    return int(ExitCode.FINDINGS)


__all__ = ["ExitCode", "get_app", "main", "run"]  # `app` too, built on first use (__getattr__)
