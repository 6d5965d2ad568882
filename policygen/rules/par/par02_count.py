"""PAR-02 (parameters.count)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc

LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"


class ParameterCount(Rule):
    """A policy definition declares at most 20 parameters (custom content).

    Custom definitions may declare at most 20 parameters.

    **Anti-pattern**

    ```json
    {"parameters": {"p1": {"type": "String"}, "...": {}, "p21": {"type": "String"}}}
    ```

    **Better**

    ```json
    {"parameters": {"settings": {"type": "Object", "defaultValue": {"p1": "a", "p21": "z"}}}}
    ```

    Code: PAR-02 (error)
    Source: https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits
    """

    code = "PAR-02"
    name = "parameters.count"
    severity = Severity.ERROR
    source = LIMITS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.custom and len(doc.params) > 20:
            yield doc.params_ptr, f"{len(doc.params)} parameters; Azure allows at most 20 per definition"
