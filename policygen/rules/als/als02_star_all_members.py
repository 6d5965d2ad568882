"""ALS-02 (aliases.star_all_members)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.als.common import ARRAYS
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc

POSITIVE = frozenset({"equals", "like", "match", "matchinsensitively", "contains", "in", "containskey"})


class StarAllMembers(Rule):
    """A field condition on a `[*]` alias must hold for all members and is true for an empty array: use count.

    A condition on a [*] alias holds only if every member matches, and is true for an empty array.

    **Anti-pattern**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].action", "equals": "Allow"}
    ```

    **Better**

    ```json
    {"count": {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]",
               "where": {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].action",
                         "equals": "Allow"}},
     "greater": 0}
    ```

    Code: ALS-02 (warning)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays
    """

    code = "ALS-02"
    name = "aliases.star_all_members"
    severity = Severity.WARNING
    source = ARRAYS
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.own:
            return  # intent is unknowable for third-party JSON; built-ins use all-member semantics on purpose
        for c in doc.conds:
            if c.counts or c.operand != "field" or c.op not in POSITIVE:
                continue
            f = c.operand_value
            if isinstance(f, str) and "[*]" in f:
                yield (
                    c.ptr,
                    (
                        f"{f!r} {c.op_key} holds only if every member matches and is true for an empty "
                        "array; use count for any/none"
                    ),
                )
