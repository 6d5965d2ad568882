"""Rule, Finding and Severity: the unit of the validator and what it reports.

A rule is a small class with a stable `code` (the checklist's: `PAR-03`), a dotted `name`, a
`severity`, the artefact kinds it applies to and a `check(doc)` that yields `(pointer, message)` pairs
(or `(pointer, message, severity)` when one rule reports at two levels, e.g. alias checks that are
errors for our own intents and warnings for third-party JSON). The first docstring line is the rule's
one-line description; the docs table and `--list-rules` are generated from these attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from policygen.rules.model import Doc


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: `pointer` is a JSON pointer into the validated object (REST form when known)."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    pointer: str = ""
    col: int | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "pointer": self.pointer,
            "message": self.message,
        }
        if self.col is not None:
            out["col"] = self.col
        return out

    def sort_key(self) -> tuple:
        return (self.file or "", self.line or 0, self.col or 0, self.pointer, self.code, self.message)


Hit = tuple[str, str] | tuple[str, str, Severity]

DEFINITION = "definition"
INITIATIVE = "initiative"
ASSIGNMENT = "assignment"
ALL_KINDS = frozenset({DEFINITION, INITIATIVE, ASSIGNMENT})


class Rule:
    """Base class; subclasses set the class attributes and implement `check`."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    kinds: ClassVar[frozenset[str]] = frozenset({DEFINITION})
    source: ClassVar[str] = ""
    # Gating, so a corpus run does not call rules that cannot fire: "custom" rules are skipped for
    # Microsoft built-ins, "own" rules run only on our intents; `effects` (lower-case) limits a
    # definition rule to definitions that may have one of those effects.
    applies: ClassVar[str] = "all"
    effects: ClassVar[frozenset[str] | None] = None
    # Doc attributes that must be non-empty for the rule to have anything to check (e.g. "params").
    needs: ClassVar[tuple[str, ...]] = ()
    # Lower-case operators: the rule looks only at conditions with one of them (skipped for other documents).
    ops: ClassVar[frozenset[str] | None] = None

    @classmethod
    def summary(cls) -> str:
        """The one-line description (first docstring line)."""
        return (cls.__doc__ or "").strip().splitlines()[0].strip()

    def check(self, doc: Doc) -> Iterable[Hit]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Summary:
    """What collection rules need to know about each object of a run (kept instead of whole objects)."""

    kind: str
    custom: bool
    scope: str | None
    file: str | None
    pointer_base: str = ""
    unchecked_aliases: int = 0  # aliases the catalogue does not have and FLD-02 only counts


class CollectionRule(Rule):
    """A rule over every object of one validation run (e.g. per-scope count limits)."""

    def check(self, doc: Doc) -> Iterable[Hit]:
        return ()

    def check_all(self, docs: list[Summary]) -> Iterable[tuple[Summary, str, str]]:  # pragma: no cover
        raise NotImplementedError
