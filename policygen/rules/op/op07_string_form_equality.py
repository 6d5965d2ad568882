"""OP-07 (operators.string_form_equality)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.op.common import LINTER


class StringFormEquality(Rule):
    """`equals` on numbers compares string forms: 5.0 never equals 5.

    `equals` compares string forms, so 5.0 and 5 differ.

    **Anti-pattern**

    ```json
    {"field": "Microsoft.Sql/servers/databases/sku.capacity", "equals": 5.0}
    ```

    **Better**

    ```json
    {"field": "Microsoft.Sql/servers/databases/sku.capacity", "equals": 5}
    ```

    Code: OP-07 (info)
    Source: https://github.com/Azure/azure-policy-linter
    See also: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "OP-07"
    name = "operators.string_form_equality"
    severity = Severity.INFO
    source = LINTER
    ops = frozenset({"equals", "notequals"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("equals", "notequals"):
            if isinstance(c.op_value, float):
                yield (
                    c.ptr + "/" + c.op_key,
                    (f"{c.op_key!r} {c.op_value!r}: values compare as strings, so 5.0 does not equal 5"),
                )
