"""Errors and diagnostics shared by every stage.

Bad input is reported as `file:line:col: message`, all problems of a run together, so stages collect
`Diagnostic`s and raise one `InputError` carrying all of them instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, defined once (terraform's -detailed-exitcode is the only exception)."""

    OK = 0
    FINDINGS = 1  # the job ran and found something: error findings, failed tests, failed remediation
    UNUSABLE = 2  # unusable input, usage error, Azure or emulator unreachable


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in an input file; `line`/`col` are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    col: int = 0
    message: str = ""

    def __str__(self) -> str:
        if not self.file:
            return self.message
        if self.line:
            return f"{self.file}:{self.line}:{self.col or 1}: {self.message}"
        return f"{self.file}: {self.message}"


class PolicygenError(Exception):
    """Base class for errors the CLI turns into a message and an exit code (never a traceback)."""

    exit_code: ExitCode = ExitCode.UNUSABLE


class InputError(PolicygenError):
    """Unusable input; carries every diagnostic found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(file="", message=diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = sorted(set(diagnostics))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


@dataclass
class DiagnosticSink:
    """Collects diagnostics across a whole run; `raise_if_any` ends the run with all of them."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, file: str, line: int, col: int, message: str) -> None:
        self.items.append(Diagnostic(file, line, col, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


class AzureError(PolicygenError):
    """Azure (or the emulator) could not be reached or refused a request we cannot recover from."""
