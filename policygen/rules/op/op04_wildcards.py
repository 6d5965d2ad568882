"""OP-04 (operators.wildcards)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.op.common import LINTER, is_expr


class WildcardUse(Rule):
    """`like` has at most one `*` (without one, use `equals`); `contains` treats `*` literally.

    `like` supports one wildcard ("The value shouldn't have more than one wildcard", policy-rule page): more
    than one is a warning for every definition; the other checks are style advice for our own intents.

    **Anti-pattern**

    ```json
    {"field": "name", "like": "*st*"}
    ```

    **Better**

    ```json
    {"field": "name", "contains": "st"}
    ```

    Code: OP-04 (warning)
    Source: https://github.com/Azure/azure-policy-linter
    See also: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "OP-04"
    name = "operators.wildcards"
    severity = Severity.WARNING
    source = LINTER
    ops = frozenset({"like", "notlike", "contains", "notcontains"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("like", "notlike", "contains", "notcontains"):
            v = c.op_value
            if not isinstance(v, str) or is_expr(v):
                continue
            if c.op in ("like", "notlike"):
                n = v.count("*")
                if n > 1:
                    yield c.ptr + "/" + c.op_key, f"{c.op_key!r} pattern {v!r} has {n} '*'; only one is supported"
                elif n == 0 and doc.own:
                    yield c.ptr + "/" + c.op_key, f"{c.op_key!r} without '*' behaves like equals: {v!r}"
            elif c.op in ("contains", "notcontains") and "*" in v and doc.own:
                yield c.ptr + "/" + c.op_key, f"'*' is not a wildcard for {c.op_key!r}: {v!r}"
