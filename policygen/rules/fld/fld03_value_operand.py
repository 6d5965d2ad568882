"""FLD-03 (fields.value_operand)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.arm.expressions import ARM_FUNCTIONS
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fld.common import RULE
from policygen.rules.model import Doc

UNBRACKETED_CALL = re.compile(r"^\s*([A-Za-z]+)\s*\(.*\)\s*$", re.S)


class ValueOperand(Rule):
    """`value` and operator values are literals or `[...]` expressions (a bare `parameters('x')` is a string).

    Without brackets an expression is a plain string; null is not a value Azure accepts.

    **Anti-pattern**

    ```json
    {"field": "location", "notEquals": "parameters('location')"}
    ```

    **Better**

    ```json
    {"field": "location", "notEquals": "[parameters('location')]"}
    ```

    Code: FLD-03 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "FLD-03"
    name = "fields.value_operand"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds:
            candidates = []
            if c.operand == "value":
                if c.operand_value is None:
                    yield c.ptr + "/" + c.operand_key, "'value' is null; use a literal or an expression"
                candidates.append((c.operand_key, c.operand_value))
            if c.op is not None:
                candidates.append((c.op_key, c.op_value))
            for key, v in candidates:
                if type(v) is str and ")" in v and not v.startswith("["):
                    m = UNBRACKETED_CALL.match(v)
                    if m and m.group(1).lower() in ARM_FUNCTIONS:
                        yield (
                            c.ptr + "/" + key,
                            (f"{v!r} is compared as a literal string; wrap the expression in [ ]"),
                            Severity.WARNING,
                        )
