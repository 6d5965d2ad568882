"""EFF-07 (effects.deny_action_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, in_details, is_one_of
from policygen.rules.model import Doc


class DenyActionDetails(Rule):
    """denyAction: details.actionNames is ['delete']; cascadeBehaviors.resourceGroup is allow or deny.

    denyAction blocks only delete requests.

    **Anti-pattern**

    ```json
    {"effect": "denyAction", "details": {"actionNames": ["write"]}}
    ```

    **Better**

    ```json
    {"effect": "denyAction", "details": {"actionNames": ["delete"], "cascadeBehaviors": {"resourceGroup": "deny"}}}
    ```

    Code: EFF-07 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-deny-action
    """

    code = "EFF-07"
    name = "effects.deny_action_details"
    severity = Severity.ERROR
    source = effect_url("deny-action")
    effects = frozenset({"denyaction"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "denyaction" not in doc.effects:
            return
        ak, names = details_key(doc, "actionNames")
        if not isinstance(names, list) or not names:
            yield (
                in_details(doc, ak) if ak else (doc.details_ptr or doc.then_ptr),
                "denyAction needs details.actionNames",
            )
        else:
            for i, n in enumerate(names):
                if not is_one_of(n, ("delete",)):
                    yield in_details(doc, ak, i), f"action {n!r} is not supported (only 'delete')"
        ck, cascade = details_key(doc, "cascadeBehaviors")
        if ck is not None:
            rg = ci_get(cascade, "resourceGroup") if isinstance(cascade, dict) else None
            if not isinstance(cascade, dict) or (rg is not None and not is_one_of(rg, ("allow", "deny"))):
                yield in_details(doc, ck), f"cascadeBehaviors.resourceGroup must be allow or deny, not {rg!r}"
