"""FLD-06 (fields.current_scope)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fld.common import ARRAYS
from policygen.rules.model import Doc


class CurrentScope(Rule):
    """`current()` appears only inside `count.where` and names an enclosing count or its `[*]` alias.

    current() has a value only while a count iterates.

    **Anti-pattern**

    ```json
    {"field": "name", "like": "[current('pattern')]"}
    ```

    **Better**

    ```json
    {"count": {"value": "[parameters('patterns')]", "name": "pattern",
               "where": {"field": "name", "like": "[current('pattern')]"}}, "greater": 0}
    ```

    Code: FLD-06 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays
    """

    code = "FLD-06"
    name = "fields.current_scope"
    severity = Severity.ERROR
    source = ARRAYS
    needs = ("exprs",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            currents = e.info.currents
            if not currents:
                continue
            if not e.counts or e.region not in ("if", "existence"):
                yield e.ptr, "current() is only allowed inside a count's 'where'"
                continue
            names = {str(c.name or "default").lower() for c in e.counts if c.kind == "value"}
            aliases = [c.target.lower() for c in e.counts if c.kind == "field" and isinstance(c.target, str)]
            for arg in currents:
                if arg is None:
                    if len(e.counts) > 1:
                        yield e.ptr, "bare current() is ambiguous inside nested counts; name the count"
                    continue
                low = arg.lower()
                if low in names or any(low == a or low.startswith(a) for a in aliases):
                    continue
                yield e.ptr, f"current({arg!r}) names no enclosing count (names: {sorted(names)}, aliases: {aliases})"
