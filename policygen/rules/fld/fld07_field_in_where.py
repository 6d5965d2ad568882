"""FLD-07 (fields.field_in_where)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import ALL_KINDS, Hit, Rule, Severity
from policygen.rules.fld.common import ARRAYS
from policygen.rules.model import Doc


class FieldFunctionInWhere(Rule):
    """Inside `where`, `field('<counted [*] alias>')` returns a one-element array: wrap it in first().

    Inside where, field() of the counted alias still returns an array of the current member.

    **Anti-pattern**

    ```json
    {"count": {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]",
               "where": {"value": "[field('Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]')]",
                         "exists": true}}}
    ```

    **Better**

    ```json
    {"count": {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]",
               "where": {"value": "[first(field('Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]'))]",
                         "exists": true}}}
    ```

    Code: FLD-07 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays
    """

    code = "FLD-07"
    name = "fields.field_in_where"
    severity = Severity.INFO
    kinds = ALL_KINDS - {"initiative", "assignment"}
    source = ARRAYS
    needs = ("exprs",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            if not e.counts or not e.info.fields:
                continue
            counted = {c.target.lower() for c in e.counts if c.kind == "field" and isinstance(c.target, str)}
            for f in e.info.fields:
                if f.lower() in counted and "first(" not in e.text.lower():
                    yield e.ptr, f"field({f!r}) inside its own count's where is a one-element array; use first()"
