"""Errors of the evaluator: compile-time (the definition cannot be run) versus evaluation-time failures.

Azure treats a failed evaluation (template-function error, ordering type mismatch, limit overrun) as
an implicit deny, so `EvaluationFailure` is not a `PolicygenError`: it is caught by the engine and
turned into an error outcome, never shown as a CLI error.
"""

from __future__ import annotations

from policygen.errors import PolicygenError


class UnsupportedError(PolicygenError):
    """The definition uses a construct the evaluator cannot run (or that Azure would reject)."""


class EvaluationFailure(Exception):
    """Evaluation failed at run time; Azure reports this as an implicit deny."""
