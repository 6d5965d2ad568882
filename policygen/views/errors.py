"""How a domain error reaches the user: its diagnostics, one per line, and the exit code it maps to."""

from __future__ import annotations

from policygen.errors import InputError, PolicygenError
from policygen.views.console import make_console


def report_error(exc: PolicygenError) -> int:
    """Print a domain error without a traceback and return its exit code."""
    console = make_console(stderr=True)
    if isinstance(exc, InputError):
        for diag in exc.diagnostics:
            console.print(str(diag), markup=False)
        n = len(exc.diagnostics)
        console.print(f"{n} problem{'s' if n != 1 else ''} found.", style="red", markup=False)
    else:
        console.print(f"error: {exc}", style="red", markup=False)
    return int(exc.exit_code)


def report_interrupted() -> int:
    make_console(stderr=True).print("interrupted", style="red")
    return 130
