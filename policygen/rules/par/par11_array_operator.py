"""PAR-11 (parameters.array_operator)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.expressions import is_expression
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.model import Doc
from policygen.rules.par.common import iter_params

ARRAYS = "https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays"


class ArrayParameterOperator(Rule):
    """An array parameter used directly as an operand works only with `in` / `notIn`.

    Any other operator compares the whole array with the field's single value and never matches.

    **Anti-pattern**

    ```jsonc
    {"field": "location", "equals": "[parameters('allowedLocations')]"}   // an Array parameter
    ```

    **Better**

    ```json
    {"field": "location", "in": "[parameters('allowedLocations')]"}
    ```

    Code: PAR-11 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays
    """

    code = "PAR-11"
    name = "parameters.array_operator"
    severity = Severity.ERROR
    source = ARRAYS
    needs = ("params",)

    OK = frozenset({"in", "notin"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        arrays = {
            n.lower() for n, spec, _, lk in iter_params(doc) if str(spec.get(lk.get("type", ""))).lower() == "array"
        }
        if not arrays:
            return
        for c in doc.conds:
            if c.op is None or c.op in self.OK or c.operand == "count":
                continue
            v = c.op_value
            if not (isinstance(v, str) and v.startswith("[")):
                continue
            name = analyse(v).bare_param if is_expression(v) else None
            if name in arrays:
                yield (
                    c.ptr + "/" + c.op_key,
                    (
                        f"array parameter {doc.params_l.get(name, name)!r} used with {c.op_key!r}; "
                        "only 'in'/'notIn' take an array"
                    ),
                )
