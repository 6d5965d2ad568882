"""FN-02 (functions.policy_only)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fn.common import RULE
from policygen.rules.model import Doc


class PolicyOnlyFunctions(Rule):
    """requestContext().identity is enforcement-only (no compliance data); utcNow() is not for defaults.

    requestContext().identity is empty during compliance scans; utcNow() in a defaultValue is fixed at
    assignment time.

    **Anti-pattern**

    ```json
    {"if": {"value": "[requestContext().identity.idtyp]", "equals": "app"}, "then": {"effect": "audit"}}
    ```

    **Better**

    ```json
    {"if": {"value": "[requestContext().identity.idtyp]", "equals": "app"}, "then": {"effect": "deny"}}
    ```

    Code: FN-02 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "FN-02"
    name = "functions.policy_only"
    severity = Severity.INFO
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            if e.info.uses_identity and doc.effects - {"deny", "denyaction", "disabled", "modify", "append"}:
                yield e.ptr, "requestContext().identity is evaluated only on requests; compliance scans see null"
        for name, spec in doc.params.items():
            dv = ci_get(spec, "defaultValue") if isinstance(spec, dict) else None
            if isinstance(dv, str) and "utcnow(" in dv.lower():
                yield doc.params_ptr + "/" + name, "utcNow() in a parameter defaultValue is not evaluated by Policy"
