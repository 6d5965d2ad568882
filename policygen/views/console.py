"""The one place terminal output is set up: every view prints through `make_console` or `echo`.

On a terminal rich follows the window; anywhere else (pipes, files, CI logs, test runners) the width is
fixed and long lines are never wrapped, whatever COLUMNS says, so output can be grepped and compared.
Emoji codes are off and views escape user strings, so a name like `[bold]` or `:x:` prints as itself.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # rich is imported on first use: commands that only echo (validate) never load it
    from rich.console import Console

PLAIN_WIDTH = 80  # width of rules and tables when the output is not a terminal


def make_console(*, stderr: bool = False, plain_width: int = PLAIN_WIDTH) -> Console:
    """A console for stdout (or stderr) that never wraps lines and ignores COLUMNS off a terminal."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
    if not console.is_terminal:
        console.width = plain_width
    return console


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Raw text (JSON, CSV, reports) exactly as given: no markup, no wrapping."""
    click.echo(text, err=err, nl=nl)


_verbose = False


def set_verbose(on: bool) -> None:
    """`--verbose`: let the Azure SDK log (azure-identity repeats a 13-line block per credential attempt, so
    it is silenced otherwise) and let errors carry their details."""
    global _verbose
    _verbose = on
    logging.getLogger("azure").setLevel(logging.WARNING if on else logging.CRITICAL)


def is_verbose() -> bool:
    return _verbose


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 initiative`, `2 initiatives` (`plural` for irregular nouns: `1 policy`, `2 policies`)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
