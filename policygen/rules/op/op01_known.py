"""OP-01 (operators.known)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.conditions import OPERATORS
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.nodes import OPERANDS
from policygen.rules.op.common import RULE


class KnownOperator(Rule):
    """The operator is one of Azure Policy's 19 condition operators (case-insensitive).

    An unknown operator makes the PUT fail.

    **Anti-pattern**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "notEqual": "Disabled"}
    ```

    **Better**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "notEquals": "Disabled"}
    ```

    Code: OP-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "OP-01"
    name = "operators.known"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.irregular:
            for low, k in c.keys.items():
                if low in OPERATORS or low in OPERANDS or low == "source":
                    continue
                hint = next((OPERATORS[o] for o in OPERATORS if o.startswith(low[:4])), None)
                more = f" (did you mean {hint!r}?)" if hint else ""
                yield c.ptr + "/" + k, f"unknown operator {k!r}{more}"
