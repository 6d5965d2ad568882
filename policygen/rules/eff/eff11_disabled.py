"""EFF-11 (effects.disabled)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import effect_url
from policygen.rules.model import Doc


class DisabledDetails(Rule):
    """A literal disabled effect ignores its details.

    Details of a disabled policy are never read; they are dead text.

    **Anti-pattern**

    ```json
    {"effect": "disabled", "details": {"type": "Microsoft.Insights/diagnosticSettings"}}
    ```

    **Better**

    ```json
    {"effect": "disabled"}
    ```

    Code: EFF-11 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-disabled
    """

    code = "EFF-11"
    name = "effects.disabled"
    severity = Severity.INFO
    source = effect_url("disabled")
    effects = frozenset({"disabled"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.effects == {"disabled"} and not doc.effect_param and doc.details is not None:
            yield doc.details_ptr, "effect is literally 'disabled': details are never used"
