"""PAR-01 (parameters.type)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from policygen.arm.lookup import ci_get
from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.par.common import PARAMS, iter_params, value_matches_type

TYPES = frozenset({"string", "array", "object", "boolean", "integer", "float", "datetime"})


def is_iso8601(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class ParameterType(Rule):
    """Parameter type is string, array, object, boolean, integer, float or dateTime; values fit it.

    The service rejects unknown types and values that do not fit the declared type.

    **Anti-pattern**

    ```json
    {"retentionDays": {"type": "Integer", "defaultValue": "30"}, "effect": {"type": "text"}}
    ```

    **Better**

    ```json
    {"retentionDays": {"type": "Integer", "defaultValue": 30}, "effect": {"type": "String"}}
    ```

    Code: PAR-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
    """

    code = "PAR-01"
    name = "parameters.type"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        raw = ci_get(doc.props, "parameters")
        if raw is not None and not isinstance(raw, dict):
            yield doc.params_ptr, "parameters must be an object of name → declaration"
            return
        for name, spec, ptr, lk in iter_params(doc):
            tk = lk.get("type")
            t = spec.get(tk) if tk else None
            if not isinstance(t, str) or t.lower() not in TYPES:
                yield (
                    (ptr + "/" + tk if tk else ptr),
                    (
                        f"parameter {name!r} has type {t!r}; use string, array, object, boolean, integer, float "
                        "or dateTime"
                    ),
                )
                continue
            low = t.lower()
            dk = lk.get("defaultvalue")
            if dk is not None:
                dv = spec[dk]
                if dv is not None and doc.custom and not value_matches_type(dv, low):
                    yield ptr + "/" + dk, f"defaultValue of {t} parameter {name!r} is {type(dv).__name__} {dv!r}"
                elif low == "datetime" and isinstance(dv, str) and not dv.startswith("[") and not is_iso8601(dv):
                    yield ptr + "/" + dk, f"defaultValue of dateTime parameter {name!r} is not ISO 8601: {dv!r}"
