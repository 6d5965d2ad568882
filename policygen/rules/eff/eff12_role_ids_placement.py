"""EFF-12 (effects.role_ids_placement)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import _details_key, _dptr
from policygen.rules.model import Doc


class RoleIdsOnlyForRemediation(Rule):
    """roleDefinitionIds belong only to deployIfNotExists and modify."""

    code = "EFF-12"
    name = "effects.role_ids_placement"
    severity = Severity.ERROR
    source = "https://github.com/tyconsulting/AzPolicyTest"
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        rk, _ = _details_key(doc, "roleDefinitionIds")
        if rk is None or not doc.effects or doc.effects & {"deployifnotexists", "modify"}:
            return
        if doc.custom:  # Azure accepts it (built-ins carry it): an error only in our own output
            yield (
                _dptr(doc, rk),
                "roleDefinitionIds is used only by deployIfNotExists and modify",
                Severity.ERROR if doc.own else Severity.WARNING,
            )
