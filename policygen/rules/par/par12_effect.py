"""PAR-12 (parameters.effect)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc

EFFECTS = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics"


FAMILIES = ({"audit", "deny", "modify", "append"}, {"auditifnotexists", "deployifnotexists"}, {"manual"})


class EffectParameter(Rule):
    """A parameterised effect has allowedValues, a safe default and no mixed effect families.

    Without allowedValues any string is accepted at assignment time; a default of deny or deployIfNotExists
    enforces as soon as an assignment omits it; audit-family and DINE-family effects need different details.

    **Anti-pattern**

    ```json
    {"effect": {"type": "String", "allowedValues": ["Audit", "DeployIfNotExists", "Disabled"], "defaultValue": "Deny"}}
    ```

    **Better**

    ```json
    {"effect": {"type": "String", "allowedValues": ["Audit", "Deny", "Disabled"], "defaultValue": "Audit"}}
    ```

    Code: PAR-12 (warning)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics
    """

    code = "PAR-12"
    name = "parameters.effect"
    severity = Severity.WARNING
    source = EFFECTS
    needs = ("effect_param",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        name = doc.effect_param
        spec = doc.param_spec(name) if name else None
        if spec is None:
            return
        ptr = doc.params_ptr + "/" + doc.params_l[name]
        allowed = ci_get(spec, "allowedValues")
        if not isinstance(allowed, list):
            yield ptr, f"effect parameter {name!r} has no allowedValues"
            return
        values = {v.lower() for v in allowed if isinstance(v, str)} - {"disabled"}
        if values & FAMILIES[1] and values & FAMILIES[0] or (values & FAMILIES[2] and values - FAMILIES[2]):
            yield ptr, f"effect parameter {name!r} mixes effects that need different details: {sorted(values)}"
        if doc.own and doc.effect_default not in (None, "audit", "auditifnotexists", "disabled"):
            # Intents choose enforcement on purpose, so this part is informational.
            yield (
                ptr,
                (
                    f"effect parameter {name!r} defaults to enforcing {doc.effect_default!r}; assignments "
                    "that omit it enforce immediately"
                ),
                Severity.INFO,
            )
