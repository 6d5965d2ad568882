"""PAR-05 (parameters.undefined)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc


class UndefinedParameter(Rule):
    """Every `parameters('x')` in the policy rule names a declared parameter.

    An undeclared parameter fails the PUT (InvalidPolicyParameters).

    **Anti-pattern**

    ```json
    {"parameters": {"allowedLocations": {"type": "Array"}},
     "policyRule": {"if": {"field": "location", "notIn": "[parameters('wanted')]"}}}
    ```

    **Better**

    ```json
    {"parameters": {"allowedLocations": {"type": "Array"}},
     "policyRule": {"if": {"field": "location", "notIn": "[parameters('allowedLocations')]"}}}
    ```

    Code: PAR-05 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "PAR-05"
    name = "parameters.undefined"
    severity = Severity.ERROR
    source = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"

    def check(self, doc: Doc) -> Iterable[Hit]:
        declared = doc.params_l
        for name, ptrs in doc.param_refs.items():
            if name not in declared:
                for p in ptrs:
                    yield p, f"parameters({name!r}) is not declared in properties.parameters"
