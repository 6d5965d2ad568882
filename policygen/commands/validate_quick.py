"""`policygen validate` without typer: the command CI jobs and pre-commit hooks run over and over.

Typer builds a pydantic adapter per option on every invocation and the CLI registers every area's
commands, which together cost several times a small validation run. `quick_run` parses the common
forms of `validate` (paths, --format, --aliases, --escaped/--not-escaped, --output, --jobs) itself and runs
the same `report` the typer command runs; anything else (--help, --list-rules, a global option, an
unknown or malformed option) returns None and goes through typer, which owns usage and help.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from policygen.commands import quick
from policygen.commands.quick import whole


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


_VALUED = {
    "--format": ("fmt", Format),
    "-f": ("fmt", Format),
    "--aliases": ("aliases", list),
    "--output": ("output", Path),
    "-o": ("output", Path),
    "--jobs": ("jobs", whole),
    "-j": ("jobs", whole),
}
_FLAGS = {"--escaped": ("escaped", True), "--not-escaped": ("escaped", False)}
_DEFAULTS = {"fmt": Format.text, "aliases": [], "escaped": None, "output": None, "jobs": 0}


def parse(args: Sequence[str]) -> dict | None:
    """Options of `validate ARGS...` as the typer command would receive them, or None when typer
    must handle them (anything but the plain forms)."""
    read = quick.parse(args, _VALUED, _FLAGS, _DEFAULTS)
    if read is None:
        return None
    opts, paths = read
    opts["paths"] = paths
    return opts


def quick_run(argv: Sequence[str]) -> int | None:
    """Exit code of `validate ...` run here, or None when argv is not one of the forms handled here."""
    if not argv or argv[0] != "validate":
        return None
    opts = parse(argv[1:])
    if opts is None:
        return None
    from policygen.errors import PolicygenError
    from policygen.views.console import set_verbose

    set_verbose(False)  # what the root callback does when --verbose is absent
    try:
        return report(**opts)
    except PolicygenError as exc:
        from policygen.views.errors import report_error

        return report_error(exc)
    except KeyboardInterrupt:
        from policygen.views.errors import report_interrupted

        return report_interrupted()


def run_and_leave(argv: Sequence[str]) -> None:
    """For the console script: run a plain `validate` and end the process at once with its exit code;
    return (having done nothing) when argv is not one of the forms handled here. Python's teardown would
    free every rule memo and alias index the run built, a tenth of the CPU of a corpus run; the run
    leaves no file open, no thread, and its workers are joined before the report."""
    code = quick_run(argv)
    if code is not None:
        quick.leave(code)


def report(
    paths: Sequence[Path],
    fmt: Format,
    aliases: Sequence[Path],
    escaped: bool | None,
    output: Path | None,
    jobs: int = 0,
) -> int:
    """Validate, write the report in `fmt` to stdout or `output`, and return the exit code."""
    from policygen.errors import ExitCode, PolicygenError
    from policygen.tasks.validate import run_validate
    from policygen.views.encoding import JSON_ESCAPE, VISIBLE, echo_json, echo_visible
    from policygen.views.errors import report_error

    try:
        outcome = run_validate(list(paths) or [Path(".")], aliases=list(aliases), escaped=escaped, jobs=jobs)
    except PolicygenError as exc:
        return report_error(exc)
    if fmt is Format.json:
        from policygen.views.findings_json import render

        text = render(outcome.findings)
    elif fmt is Format.sarif:
        from policygen.views.findings_sarif import render

        text = render(outcome.findings)
    else:
        from policygen.views.findings_text import render

        text = render(outcome.findings, objects=outcome.objects)
    # what the output's encoding cannot carry is escaped, JSON as JSON (see views/encoding.py)
    errors = VISIBLE if fmt is Format.text else JSON_ESCAPE
    if output:
        output.write_text(text, encoding="utf-8", errors=errors)
    else:
        (echo_visible if fmt is Format.text else echo_json)(text, nl=False)
    if outcome.unusable:
        return int(ExitCode.UNUSABLE)
    return int(ExitCode.FINDINGS if outcome.has_errors else ExitCode.OK)
