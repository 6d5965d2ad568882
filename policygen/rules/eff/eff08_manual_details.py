"""EFF-08 (effects.manual_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, in_details, is_one_of
from policygen.rules.model import Doc


class ManualDetails(Rule):
    """manual: details.defaultState is Unknown, Compliant or NonCompliant.

    Other states are rejected.

    **Anti-pattern**

    ```json
    {"effect": "manual", "details": {"defaultState": "Non-compliant"}}
    ```

    **Better**

    ```json
    {"effect": "manual", "details": {"defaultState": "NonCompliant"}}
    ```

    Code: EFF-08 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-manual
    """

    code = "EFF-08"
    name = "effects.manual_details"
    severity = Severity.ERROR
    source = effect_url("manual")
    effects = frozenset({"manual"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "manual" not in doc.effects:
            return
        sk, state = details_key(doc, "defaultState")
        if sk is not None and not is_one_of(state, ("Unknown", "Compliant", "NonCompliant")):
            yield in_details(doc, sk), f"defaultState {state!r} is not Unknown, Compliant or NonCompliant"
