"""RULE-05 (policy_rule.type_first)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc

LINTER = "https://github.com/Azure/azure-policy-linter"


class TypeConditionFirst(Rule):
    """Put the `type` condition first and match types with `equals`/`in`, not `like`/`contains`.

    Azure evaluates conditions in order and stops early; a precise type test first keeps rules cheap and
    unambiguous.

    **Anti-pattern**

    ```json
    {"allOf": [{"field": "tags['env']", "exists": false}, {"field": "type", "contains": "Microsoft.Storage"}]}
    ```

    **Better**

    ```json
    {"allOf": [{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
               {"field": "tags['env']", "exists": false}]}
    ```

    Code: RULE-05 (warning)
    Source: https://github.com/Azure/azure-policy-linter
    See also: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "RULE-05"
    name = "policy_rule.type_first"
    severity = Severity.WARNING
    source = LINTER
    applies = "own"

    LOOSE = frozenset(
        {
            "like",
            "notlike",
            "contains",
            "notcontains",
            "match",
            "matchinsensitively",
            "notmatch",
            "notmatchinsensitively",
        }
    )

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.own:
            return
        for c in doc.conds:
            if (
                c.region == "if"
                and c.operand == "field"
                and isinstance(c.operand_value, str)
                and c.operand_value.lower() == "type"
                and c.op in self.LOOSE
                and "*" not in str(c.op_value)
            ):
                yield c.ptr, f"type matched with {c.op_key!r}; use 'equals' or 'in' to avoid matching other types"
        node = doc.if_node
        if isinstance(node, dict):
            k = ci_key(node, "allOf")
            items = node.get(k) if k else None
            if isinstance(items, list) and items:
                idx = next(
                    (
                        i
                        for i, it in enumerate(items)
                        if isinstance(it, dict) and str(it.get(ci_key(it, "field") or "", "")).lower() == "type"
                    ),
                    None,
                )
                if idx is not None and idx > 0:
                    yield f"{doc.if_ptr}/{k}/{idx}", "put the 'type' condition first in allOf"
