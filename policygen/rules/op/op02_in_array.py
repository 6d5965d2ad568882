"""OP-02 (operators.in_array)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.op.common import RULE, is_expr


class InTakesArray(Rule):
    """`in` / `notIn` take an array (literal or array-valued expression).

    A string is not an array; the request is rejected.

    **Anti-pattern**

    ```json
    {"field": "location", "in": "westeurope"}
    ```

    **Better**

    ```json
    {"field": "location", "in": ["westeurope"]}
    ```

    Code: OP-02 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "OP-02"
    name = "operators.in_array"
    severity = Severity.ERROR
    source = RULE
    ops = frozenset({"in", "notin"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("in", "notin"):
            if not isinstance(c.op_value, list) and not is_expr(c.op_value):
                yield c.ptr + "/" + c.op_key, f"{c.op_key!r} takes an array, not {c.op_value!r}"
