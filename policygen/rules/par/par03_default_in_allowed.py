"""PAR-03 (parameters.default_in_allowed)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.par.common import PARAMS, in_allowed, params_with


class DefaultInAllowed(Rule):
    """defaultValue is one of allowedValues (service error PolicyParameterAllowedAndDefaultValuesMismatch).

    The service error is PolicyParameterAllowedAndDefaultValuesMismatch (case-sensitive match).

    **Anti-pattern**

    ```json
    {"effect": {"type": "String", "allowedValues": ["Audit", "Deny"], "defaultValue": "Modify"}}
    ```

    **Better**

    ```json
    {"effect": {"type": "String", "allowedValues": ["Audit", "Deny"], "defaultValue": "Audit"}}
    ```

    Code: PAR-03 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
    """

    code = "PAR-03"
    name = "parameters.default_in_allowed"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for name, spec, ptr, lk in params_with(doc, "allowedvalues"):
            ak = lk["allowedvalues"]
            dk = lk.get("defaultvalue")
            allowed = spec[ak]
            if allowed is None or allowed == []:
                continue  # built-ins carry `null` / `[]` meaning "no restriction"
            if not isinstance(allowed, list):
                yield ptr + "/" + ak, f"allowedValues of {name!r} must be an array"
                continue
            if dk is None:
                continue
            dv = spec[dk]
            if not in_allowed(dv, allowed):
                yield (
                    ptr + "/" + dk,
                    (
                        f"defaultValue {dv!r} of {name!r} is not one of allowedValues {allowed!r} "
                        "(compared case-sensitively)"
                    ),
                )
