"""PAR-05 (parameters.undefined)."""

from __future__ import annotations

import re
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
                texts = {e.ptr: e.text for e in doc.exprs}
                for p in ptrs:
                    spelt = _spelling(texts.get(p, ""), name)
                    yield p, f"parameters({spelt!r}) is not declared in properties.parameters"


def _spelling(text: str, low: str) -> str:
    """The name as the expression spells it (the reference index is lower-case: names are case-insensitive)."""
    for m in re.finditer(r"parameters\(\s*'((?:[^']|'')*)'\s*\)", text, re.IGNORECASE):
        if m.group(1).replace("''", "'").lower() == low:
            return m.group(1).replace("''", "'")
    return low
