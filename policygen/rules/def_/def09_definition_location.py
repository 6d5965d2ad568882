"""DEF-09 (envelope.definition_location)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.arm.scopes import ScopeError, parse_scope, scope_of_id
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
        home = scope_of_id(pid)
        if home in (None, "/"):
            return  # built-in (tenant-level) definitions are assignable anywhere
        try:
            home_scope, target = parse_scope(home), parse_scope(scope)
        except ScopeError:
            return
        # management-group membership is not in an id: only subscription and resource-group homes can be judged
        if home_scope.subscription and not home_scope.contains(target):
            yield (
                doc.ptr("policyDefinitionId"),
                (f"the definition lives at {home!r}, which does not contain the assignment scope {scope!r}"),
            )
