"""FLD-01 (fields.name)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from policygen.arm.aliases import is_non_alias_field
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fld.common import RULE, is_expr, iter_field_refs
from policygen.rules.model import Doc

ALIAS = re.compile(r"^[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)+/[^\s]+$")


@lru_cache(maxsize=16384)
def field_problem(name: object) -> str | None:
    """Why a `field` value is not a field (None when it is one, or an expression)."""
    if not isinstance(name, str):
        return f"field must be a string, not {name!r}"
    if is_expr(name) or is_non_alias_field(name):
        return None
    if ALIAS.match(name):
        return None
    if name.lower().startswith("properties."):
        return f"field {name!r} is a property path; use the alias (paths differ per API version)"
    return f"field {name!r} is neither a built-in field (name, type, location, tags[...] ...) nor an alias"


class FieldName(Rule):
    """`field` is a built-in field (name, type, location, kind, id, tags[...], identity.*) or an alias.

    Anything else is neither a built-in field nor an alias, and never matches.

    **Anti-pattern**

    ```json
    {"field": "properties.publicNetworkAccess", "equals": "Enabled"}
    ```

    **Better**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "equals": "Enabled"}
    ```

    Code: FLD-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "FLD-01"
    name = "fields.name"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for ptr, name, where in iter_field_refs(doc):
            if where in ("field()", "current()"):
                continue
            problem = field_problem(name) if isinstance(name, str) else f"field must be a string, not {name!r}"
            if problem:
                yield ptr, problem
