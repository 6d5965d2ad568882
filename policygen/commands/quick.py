"""Plain command lines without typer, for the commands run over and over (`validate`, `impact`; #17).

Typer builds a pydantic adapter per option on every invocation and the CLI registers every area's
commands: several times a small run's own work. A command's quick path reads only the plain forms of its
options with `parse` (from its own option tables) and runs the same body as its typer command; anything
else returns None and goes through typer, which owns usage, help and every message about bad options.
`leave` ends a finished run without Python's teardown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

# option -> (keyword of the command's body, how its value is read: a callable raising ValueError for a
# value typer should judge, or `list` for a repeatable path option)
Valued = Mapping[str, tuple[str, Any]]
Flags = Mapping[str, tuple[str, Any]]  # flag -> (keyword, value it sets)


def whole(value: str) -> int:
    """A count as typer reads one; anything else (signs, other digits, a huge number) is typer's to report."""
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise ValueError(value)
    return int(value)


def parse(
    args: Sequence[str], valued: Valued, flags: Flags, defaults: Mapping[str, Any]
) -> tuple[dict, list[Path]] | None:
    """(keywords, positional paths) of `args` read with the tables, or None when typer must handle them:
    an unknown option, `-x=value`, a missing or empty value, one starting with `-`, one the reader refuses."""
    opts = dict(defaults)
    positional: list[Path] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            positional.append(Path(arg))
            continue
        if arg in flags:
            dest, flag = flags[arg]
            opts[dest] = flag
            continue
        name, eq, value = arg.partition("=")
        spec = valued.get(name)
        if spec is None or (eq and not name.startswith("--")):
            return None
        if not eq:
            if i >= len(args):
                return None  # a missing value: typer's usage error
            value = args[i]
            i += 1
        if not value or value.startswith("-"):
            return None  # typer decides what such a value means
        dest, read = spec
        if read is list:
            opts[dest] = [*(opts[dest] or []), Path(value)]
            continue
        try:
            opts[dest] = read(value)
        except ValueError:
            return None
    return opts, positional


def leave(code: int, *, unless: Callable[[], bool] = lambda: False) -> None:
    """End the process with `code` now, without Python's teardown (a full collection and freeing every
    object the run built, for a process about to end). The standard streams are flushed first; one that
    cannot be flushed (a closed pipe), a worker still running, a profiler or coverage (they write their
    data at the end) or `unless()` take Python's usual way out instead."""
    import multiprocessing

    if unless() or multiprocessing.active_children() or sys.getprofile() or sys.gettrace():
        raise SystemExit(code)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: the descriptor was closed when Python started
                stream.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code)
