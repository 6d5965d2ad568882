"""EFF-03 (effects.append_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import effect_url
from policygen.rules.model import Doc


class AppendDetails(Rule):
    """append: details is a non-empty array of {field, value}.

    append takes an array of field/value pairs.

    **Anti-pattern**

    ```json
    {"effect": "append",
     "details": {"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "value": true}}
    ```

    **Better**

    ```json
    {"effect": "append",
     "details": [{"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "value": true}]}
    ```

    Code: EFF-03 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-append
    """

    code = "EFF-03"
    name = "effects.append_details"
    severity = Severity.ERROR
    source = effect_url("append")
    effects = frozenset({"append"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "append" not in doc.effects:
            return
        det = doc.details
        if not isinstance(det, list) or not det:
            yield doc.details_ptr or doc.then_ptr, "append needs details: a non-empty array of {field, value}"
            return
        for i, item in enumerate(det):
            if not isinstance(item, dict) or ci_key(item, "field") is None or ci_key(item, "value") is None:
                yield f"{doc.details_ptr}/{i}", "each append detail needs 'field' and 'value'"
