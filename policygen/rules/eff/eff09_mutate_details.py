"""EFF-09 (effects.mutate_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, in_details, is_one_of
from policygen.rules.model import Doc


class MutateDetails(Rule):
    """mutate: details.mutationInfo (PublicURL or Base64Encoded); the effect cannot be parameterised.

    mutate (AKS) takes its mutation from a URL or inline Base64 and is never parameterised.

    **Anti-pattern**

    ```json
    {"effect": "[parameters('effect')]", "details": {}}
    ```

    **Better**

    ```jsonc
    {"effect": "mutate", "details": {"mutationInfo": {"sourceType": "PublicURL", "url": "https://example/mutation.yaml"}}}
    ```

    Code: EFF-09 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-mutate
    """

    code = "EFF-09"
    name = "effects.mutate_details"
    severity = Severity.ERROR
    source = effect_url("mutate")
    effects = frozenset({"mutate"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "mutate" not in doc.effects:
            return
        if doc.effect_param and doc.custom:
            yield doc.effect_ptr, "mutate cannot be parameterised"
        mk, info = details_key(doc, "mutationInfo")
        if not isinstance(info, dict):
            yield in_details(doc, mk) if mk else (doc.details_ptr or doc.then_ptr), "mutate needs details.mutationInfo"
        elif not is_one_of(ci_get(info, "sourceType"), ("PublicURL", "Base64Encoded")):
            yield in_details(doc, mk), "mutationInfo.sourceType must be PublicURL or Base64Encoded"
