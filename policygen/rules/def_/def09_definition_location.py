"""DEF-09 (envelope.definition_location)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.def_.common import BASICS
from policygen.rules.model import Doc


class DefinitionLocation(Rule):
    """An assignment's scope must be at or below the scope where its custom definition lives.

    A custom definition is usable only at or below the scope where it is stored.

    **Anti-pattern**

    ```jsonc
    // assigned at /subscriptions/s2
    {"properties": {"policyDefinitionId":
      "/subscriptions/s1/providers/Microsoft.Authorization/policyDefinitions/d1"}}
    ```

    **Better**

    ```jsonc
    // assigned at /subscriptions/s2, below managementGroups/contoso
    {"properties": {"policyDefinitionId":
      "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization/policyDefinitions/d1"}}
    ```

    Code: DEF-09 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

    code = "DEF-09"
    name = "envelope.definition_location"
    severity = Severity.INFO
    kinds = frozenset({"assignment"})
    source = BASICS

    def check(self, doc: Doc) -> Iterable[Hit]:
        scope = doc.assignment_scope
        pid = ci_get(doc.props, "policyDefinitionId")
        if not scope or not isinstance(pid, str):
            return
        low = pid.lower()
        cut = low.find("/providers/microsoft.authorization/")
        if cut <= 0:
            return  # built-in (tenant-level) definitions are assignable anywhere
        home = low[:cut].rstrip("/")
        target = scope.lower().rstrip("/")
        if home.startswith("/subscriptions/") and not (target + "/").startswith(home + "/"):
            yield (
                doc.ptr("policyDefinitionId"),
                (f"the definition lives at {pid[:cut]!r}, which does not contain the assignment scope {scope!r}"),
            )
