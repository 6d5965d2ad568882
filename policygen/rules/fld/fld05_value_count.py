"""FLD-05 (fields.value_count)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fld.common import ARRAYS, is_expr
from policygen.rules.model import Doc

COUNT_NAME = re.compile(r"^[A-Za-z0-9]+$")


class ValueCount(Rule):
    """Value count: `count.value` is an array or array expression; `name` is alphanumeric, required when nested.

    A value count iterates an array; its name is how current() refers to it.

    **Anti-pattern**

    ```json
    {"count": {"value": "westeurope", "name": "my-loc"}, "equals": 0}
    ```

    **Better**

    ```json
    {"count": {"value": ["westeurope", "northeurope"], "name": "loc",
               "where": {"field": "location", "equals": "[current('loc')]"}}, "equals": 0}
    ```

    Code: FLD-05 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays
    """

    code = "FLD-05"
    name = "fields.value_count"
    severity = Severity.ERROR
    source = ARRAYS
    needs = ("counts",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for cnt in doc.counts:
            if cnt.kind != "value":
                continue
            keys = cnt.keys
            t = cnt.target
            if not isinstance(t, list) and not is_expr(t):
                yield cnt.ptr + "/" + keys["value"], f"count.value must be an array or an expression, not {t!r}"
            if cnt.name is not None:
                if not isinstance(cnt.name, str) or not COUNT_NAME.match(cnt.name):
                    yield cnt.ptr + "/" + keys["name"], f"count name {cnt.name!r} must be letters and digits"
            elif cnt.parents:
                yield cnt.ptr, "a nested value count needs a 'name' (current() must say which count it means)"
