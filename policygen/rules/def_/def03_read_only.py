"""DEF-03 (envelope.read_only)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.def_.common import BASICS
from policygen.rules.model import Doc


class ReadOnlyProperties(Rule):
    """policyType is set by the service (omit it or send `Custom`); id and type are read-only.

    The service sets policyType and the resource id and type; sending BuiltIn or Static for custom content
    fails.

    **Anti-pattern**

    ```json
    {"id": "/subscriptions/s1/providers/Microsoft.Authorization/policyDefinitions/d1",
     "properties": {"policyType": "BuiltIn", "mode": "All"}}
    ```

    **Better**

    ```json
    {"name": "d1", "properties": {"mode": "All"}}
    ```

    Code: DEF-03 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

    code = "DEF-03"
    name = "envelope.read_only"
    severity = Severity.INFO
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = BASICS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        k = ci_key(doc.props, "policyType")
        if k is not None and str(doc.props[k]).lower() not in ("custom", "notspecified"):
            yield doc.ptr(k), f"policyType {doc.props[k]!r} is read-only; custom content is always 'Custom'"
