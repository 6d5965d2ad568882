"""EFF-04 (effects.aine_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import effect_url, existence_checks
from policygen.rules.model import Doc


class AuditIfNotExistsDetails(Rule):
    """auditIfNotExists: details.type required; existenceScope, evaluationDelay and name well formed.

    Without details.type there is nothing to look for.

    **Anti-pattern**

    ```json
    {"effect": "auditIfNotExists", "details": {"name": "setByPolicy", "evaluationDelay": "PT7H"}}
    ```

    **Better**

    ```json
    {"effect": "auditIfNotExists",
     "details": {"type": "Microsoft.Insights/diagnosticSettings", "name": "setByPolicy",
                 "evaluationDelay": "AfterProvisioning"}}
    ```

    Code: EFF-04 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-audit-if-not-exists
    """

    code = "EFF-04"
    name = "effects.aine_details"
    severity = Severity.ERROR
    source = effect_url("audit-if-not-exists")
    effects = frozenset({"auditifnotexists"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "auditifnotexists" in doc.effects and "deployifnotexists" not in doc.effects:
            yield from existence_checks(doc)
