"""FLD-04 (fields.field_count)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fld.common import ARRAYS, is_expr
from policygen.rules.model import Doc

NUMERIC_OPS = frozenset({"equals", "notequals", "less", "lessorequals", "greater", "greaterorequals", "in", "notin"})


class FieldCount(Rule):
    """Field count: `count.field` is a `[*]` alias and the count is compared with a number.

    A field count counts the members of an array alias and is compared with a number.

    **Anti-pattern**

    ```json
    {"count": {"field": "Microsoft.Storage/storageAccounts/networkAcls.defaultAction"}, "greater": 0}
    ```

    **Better**

    ```json
    {"count": {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]"}, "greater": 0}
    ```

    Code: FLD-04 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays
    """

    code = "FLD-04"
    name = "fields.field_count"
    severity = Severity.ERROR
    source = ARRAYS
    needs = ("counts",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for cnt in doc.counts:
            keys = cnt.keys
            extra = [k for low, k in keys.items() if low not in ("field", "value", "name", "where")]
            if extra:
                yield cnt.ptr, f"unexpected keys {extra} in count (field or value, name, where)"
            if "field" in keys and "value" in keys:
                yield cnt.ptr, "count takes either 'field' or 'value', not both"
            elif cnt.kind is None:
                yield cnt.ptr, "count needs 'field' (a [*] alias) or 'value' (an array)"
            cond = cnt.cond
            if cond is not None and cond.op is not None:
                if cond.op not in NUMERIC_OPS:
                    yield cond.ptr + "/" + cond.op_key, f"a count is a number; {cond.op_key!r} does not compare numbers"
                else:
                    v = cond.op_value
                    vals = v if isinstance(v, list) and cond.op in ("in", "notin") else [v]
                    for item in vals:
                        if not (is_expr(item) or (isinstance(item, int) and not isinstance(item, bool))):
                            yield cond.ptr + "/" + cond.op_key, f"a count is compared with an integer, not {item!r}"
                            break
            if cnt.kind != "field":
                continue
            t = cnt.target
            if isinstance(t, str) and not is_expr(t) and "[*]" not in t:
                yield cnt.ptr + "/" + keys["field"], f"count.field must be a [*] alias, not {t!r}"
            elif not isinstance(t, str):
                yield cnt.ptr + "/" + keys["field"], f"count.field must be a [*] alias string, not {t!r}"
