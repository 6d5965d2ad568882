"""DEF-09 (envelope.definition_location)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.def_.common import BASICS
from policygen.rules.model import Doc


class DefinitionLocation(Rule):
    """An assignment's scope must be at or below the scope where its custom definition lives."""

    code = "DEF-09"
    name = "envelope.definition_location"
    severity = Severity.INFO
    kinds = frozenset({"assignment"})
    source = BASICS

    def check(self, doc: Doc) -> Iterable[Hit]:
        scope = doc.assignment_scope
        pid = ci_get(doc.props, "policyDefinitionId")
        if not scope or not isinstance(pid, str):
            return
        low = pid.lower()
        cut = low.find("/providers/microsoft.authorization/")
        if cut <= 0:
            return  # built-in (tenant-level) definitions are assignable anywhere
        home = low[:cut].rstrip("/")
        target = scope.lower().rstrip("/")
        if home.startswith("/subscriptions/") and not (target + "/").startswith(home + "/"):
            yield (
                doc.ptr("policyDefinitionId"),
                (f"the definition lives at {pid[:cut]!r}, which does not contain the assignment scope {scope!r}"),
            )
