"""`policygen impact` without typer: what a run costs before evaluating is paid on every run and in every
shard of a large tenant (#17).

Typer builds a pydantic adapter per option on every invocation and the CLI registers every area's commands:
~0.25 s of CPU before a resource is read. `quick_run` parses the plain forms of `impact` (targets and every
option spelled `--name value`, `--name=value` or `-x value`) itself and runs `report`, the body the typer
command runs too; anything else (--help, a global option, an unknown, malformed or missing option, a value
that is empty or starts with `-`, `-j2`) returns None and goes through typer, which owns usage and help.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policygen.commands import quick
from policygen.commands.quick import whole

FORMATS = ("table", "json", "ndjson", "csv")

# option -> (keyword of `report`, how its value is read); `list` options are repeatable.
_VALUED: dict[str, tuple[str, Any]] = {
    "--resources": ("resources", list),
    "-r": ("resources", list),
    "--parameters": ("parameters", Path),
    "-p": ("parameters", Path),
    "--assignment": ("assignment", str),
    "-a": ("assignment", str),
    "--env": ("env", str),
    "-e": ("env", str),
    "--aliases": ("aliases", list),
    "--format": ("fmt", str),
    "-f": ("fmt", str),
    "--summary": ("summary", Path),
    "--jobs": ("jobs", whole),
    "-j": ("jobs", whole),
    "--context": ("context", Path),
    "--api-version": ("api_version", str),
}
_FLAGS = {
    "--pretty": ("pretty", True),
    "--all": ("show_all", True),
    "--exit-zero": ("exit_zero", True),
    "--why": ("why", True),
    "--progress": ("progress", True),
    "--no-progress": ("progress", False),
}
DEFAULTS: dict[str, Any] = {
    "targets": None, "resources": [], "parameters": None, "assignment": None, "env": None, "aliases": None,
    "fmt": "table", "pretty": False, "summary": None, "jobs": 0, "show_all": False, "exit_zero": False,
    "why": False, "progress": None, "context": None, "api_version": None,
}


def parse(args: Sequence[str]) -> dict[str, Any] | None:
    """Keywords of `report` for `impact ARGS...` as the typer command would receive them, or None when
    typer must handle them (anything but the plain forms; `--resources` is required)."""
    read = quick.parse(args, _VALUED, _FLAGS, DEFAULTS)
    if read is None or not read[0]["resources"]:
        return None  # typer reports a missing --resources
    opts, targets = read
    opts["targets"] = targets or None
    return opts


_kept: list[Any] | None = None  # with run_and_leave: what a run built, left for the end of the process


def run_and_leave(argv: Sequence[str]) -> None:
    """For the console script: run a plain `impact` and end the process at once with its exit code;
    return (having done nothing) when argv is not one of the forms handled here.

    Freeing the parsed inventory object by object is Python's last act otherwise: 0.18 s of CPU for
    100,000 lean resources, for a process about to end. Only a run on one core leaves this way (no worker
    process, no thread, no file left open: the summary is written and closed, the inventory read whole);
    the standard streams are flushed first, and one that cannot be flushed (a closed pipe) takes Python's
    usual way out, as does every other run and one that is profiled or traced."""
    global _kept
    _kept = []
    code = quick_run(argv)
    if code is None:
        _kept = None
        return
    quick.leave(code, unless=lambda: not _kept)  # only a one-core run keeps what it built


def quick_run(argv: Sequence[str]) -> int | None:
    """Exit code of `impact ...` run here, or None when argv is not one of the forms handled here.

    Failures end as they do under typer (typer/core.py `_main` and `policygen.cli.run`): our errors are
    reported with their exit code, Ctrl-C exits 130 silently, end of input prints a newline and
    "interrupted", a closed stdout exits 1 quietly."""
    if not argv or argv[0] != "impact":
        return None
    opts = parse(argv[1:])
    if opts is None:
        return None
    import errno

    from policygen.errors import PolicygenError
    from policygen.views.console import set_verbose

    set_verbose(False)  # what the root callback does when --verbose is absent
    try:
        return report(**opts)
    except PolicygenError as exc:
        from policygen.views.errors import report_error

        return report_error(exc)
    except KeyboardInterrupt:
        return 130
    except EOFError:
        from policygen.views.errors import report_interrupted

        print(file=sys.stderr)
        return report_interrupted()
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
        sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
        return 1


def report(
    targets: list[Path] | None,
    resources: list[Path],
    parameters: Path | None = None,
    assignment: str | None = None,
    env: str | None = None,
    aliases: list[Path] | None = None,
    fmt: str = "table",
    pretty: bool = False,
    summary: Path | None = None,
    jobs: int = 0,
    show_all: bool = False,
    exit_zero: bool = False,
    why: bool = False,
    progress: bool | None = None,
    context: Path | None = None,
    api_version: str | None = None,
) -> int:
    """Evaluate, stream or render the report, and return the exit code (the `impact` command's body)."""
    from policygen.errors import ExitCode, InputError
    from policygen.evaluate.parallel import available_cores
    from policygen.tasks import impact as task
    from policygen.views import impact as view
    from policygen.views.impact_stream import StreamWriter

    if fmt not in FORMATS:
        raise InputError(f"--format must be table, json, ndjson or csv, not {fmt!r}")
    if jobs < 0:
        raise InputError("--jobs must be 0 (one per core) or more")
    jobs = jobs or available_cores()
    from policygen.evaluate.context import load_context

    eval_context = load_context(context)
    if api_version:
        from dataclasses import replace

        from policygen.evaluate import EvalContext

        eval_context = replace(eval_context or EvalContext(), api_version=api_version)
    # without a progress bar (which needs the count first), the workers read the inventory as they evaluate
    # it, and the warnings and the document's head (the count) come when they have counted it
    defer = jobs > 1 and (progress is False or (progress is None and not sys.stderr.isatty()))
    inputs = task.prepare(targets or [Path(".")], resources, parameters=parameters, assignment=assignment,
                          env=env, aliases=aliases or [], jobs=jobs, defer=defer)
    writer = StreamWriter(fmt, pretty=pretty, why=why, summary=summary) if fmt != "table" else None
    direct = None
    if writer is not None:
        writer.open()
        if jobs > 1:  # workers write their batches to stdout themselves, in turn
            from policygen.views.impact_direct import DirectOutput

            direct = DirectOutput.for_writer(writer)

    def begin() -> None:
        view.render_warnings(inputs)
        if writer is not None:
            writer.start(len(inputs.inventory))

    if not getattr(inputs.inventory, "pending", False):
        begin()
    with view.progress_bar(len(inputs.inventory), progress) as advance:
        result = task.run(inputs, keep_all=show_all, per_policy=task.TABLE_ROWS + 1, explain=why, progress=advance,
                          jobs=jobs, encode=writer.encode if writer else None,
                          emit=writer.emit if writer else None, context=eval_context, direct=direct,
                          begin=begin if getattr(inputs.inventory, "pending", False) else None)
    if writer is not None:
        writer.finish(result)
    else:
        view.render(result, fmt, why=why)
        if summary is not None:
            StreamWriter("json", summary=summary).finish_summary(result)
    if _kept is not None and jobs == 1:
        _kept.append((inputs, result))
    return int(ExitCode.FINDINGS if result.flagged and not exit_zero else ExitCode.OK)
