"""OP-06 (operators.ordering_types)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.op.common import RULE, is_expr

ORDERING = frozenset({"less", "lessorequals", "greater", "greaterorequals"})


class OrderingTypes(Rule):
    """less/greater operators compare numbers with numbers and strings/dates with strings.

    Mixed types make the comparison fail at evaluation time.

    **Anti-pattern**

    ```json
    {"value": "[length(field('name'))]", "greater": "2"}
    ```

    **Better**

    ```json
    {"value": "[length(field('name'))]", "greater": 2}
    ```

    Code: OP-06 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "OP-06"
    name = "operators.ordering_types"
    severity = Severity.ERROR
    source = RULE
    ops = ORDERING

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with(*ORDERING):
            v = c.op_value
            ptr = c.ptr + "/" + c.op_key
            if isinstance(v, (bool, list, dict)) or v is None:
                yield ptr, f"{c.op_key!r} compares numbers or strings, not {v!r}"
                continue
            if c.operand == "count" and isinstance(v, str) and not is_expr(v):
                yield ptr, f"a count is a number; {c.op_key!r} {v!r} compares it with a string"
                continue
            left = c.operand_value
            if c.operand == "value" and not is_expr(left) and not is_expr(v):
                lnum = isinstance(left, (int, float)) and not isinstance(left, bool)
                rnum = isinstance(v, (int, float))
                if lnum != rnum or isinstance(left, (bool, list, dict)):
                    yield ptr, f"{c.op_key!r} compares {left!r} with {v!r}: types differ, evaluation fails"
