"""EFF-12 (effects.role_ids_placement)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.effects import REMEDIATING
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, in_details
from policygen.rules.model import Doc


class RoleIdsOnlyForRemediation(Rule):
    """roleDefinitionIds belong only to deployIfNotExists and modify.

    Only the remediating effects use roles; elsewhere they grant nothing and mislead readers.

    **Anti-pattern**

    ```json
    {"effect": "audit", "details": {
      "roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"]}}
    ```

    **Better**

    ```json
    {"effect": "audit"}
    ```

    Code: EFF-12 (error)
    Source: https://github.com/tyconsulting/AzPolicyTest
    See also: https://learn.microsoft.com/azure/governance/policy/concepts/effect-deploy-if-not-exists
    """

    code = "EFF-12"
    name = "effects.role_ids_placement"
    severity = Severity.ERROR
    source = "https://github.com/tyconsulting/AzPolicyTest"
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        rk, _ = details_key(doc, "roleDefinitionIds")
        if rk is None or not doc.effects or doc.effects & REMEDIATING:
            return
        if doc.custom:  # Azure accepts it (built-ins carry it): an error only in our own output
            yield (
                in_details(doc, rk),
                "roleDefinitionIds is used only by deployIfNotExists and modify",
                Severity.ERROR if doc.own else Severity.WARNING,
            )
