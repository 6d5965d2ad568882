"""FN-03 (functions.modify_condition)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc

MODIFY = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify"


class ModifyConditionFunctions(Rule):
    """Modify `operations[].condition` may not use field(), resourceGroup() or subscription().

    The condition is evaluated against the request, where these functions are not available.

    **Anti-pattern**

    ```json
    {"operation": "addOrReplace", "field": "tags['env']", "value": "prod",
     "condition": "[equals(field('location'), 'westeurope')]"}
    ```

    **Better**

    ```json
    {"operation": "addOrReplace", "field": "tags['env']", "value": "prod",
     "condition": "[greaterOrEquals(requestContext().apiVersion, '2019-04-01')]"}
    ```

    Code: FN-03 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify
    """

    code = "FN-03"
    name = "functions.modify_condition"
    severity = Severity.ERROR
    source = MODIFY
    effects = frozenset({"modify"})

    FORBIDDEN = frozenset({"field", "resourcegroup", "subscription"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            if e.region != "operation" or not e.ptr.lower().endswith("/condition"):
                continue
            bad = sorted({c.name for c, _ in e.info.calls if c.name.lower() in self.FORBIDDEN})
            if bad:
                yield e.ptr, f"modify operation conditions cannot use {', '.join(b + '()' for b in bad)}"
