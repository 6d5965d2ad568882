"""OP-03 (operators.exists_boolean)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.op.common import RULE, is_expr


class ExistsBoolean(Rule):
    """`exists` takes true/false (booleans or the strings "true"/"false", any case).

    Other values are rejected.

    **Anti-pattern**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "exists": "yes"}
    ```

    **Better**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "exists": true}
    ```

    Code: OP-03 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "OP-03"
    name = "operators.exists_boolean"
    severity = Severity.ERROR
    source = RULE
    ops = frozenset({"exists"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("exists"):
            v = c.op_value
            if isinstance(v, bool) or is_expr(v) or (isinstance(v, str) and v.lower() in ("true", "false")):
                continue
            yield c.ptr + "/" + c.op_key, f"'exists' takes true or false, not {v!r}"
