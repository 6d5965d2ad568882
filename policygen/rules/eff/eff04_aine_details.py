"""EFF-04 (effects.aine_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import _existence_checks, _url
from policygen.rules.model import Doc


class AuditIfNotExistsDetails(Rule):
    """auditIfNotExists: details.type required; existenceScope, evaluationDelay and name well formed."""

    code = "EFF-04"
    name = "effects.aine_details"
    severity = Severity.ERROR
    source = _url("audit-if-not-exists")
    effects = frozenset({"auditifnotexists"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "auditifnotexists" in doc.effects and "deployifnotexists" not in doc.effects:
            yield from _existence_checks(doc)
