"""ASG-01 (assignments.name)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.arm.scopes import ScopeKind, is_scope, parse_scope
from policygen.rules.asg.common import ASG, ASSIGN, scope_of
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.def_.common import name_problems
from policygen.rules.model import Doc


class AssignmentName(Rule):
    """Assignment names are 1-64 characters (1-24 at management-group scope); display text within limits.

    Names are part of the assignment ID; management-group assignments allow only 24 characters.

    **Anti-pattern**

    ```jsonc
    {"name": "storage-baseline-production"}   // at a management group
    ```

    **Better**

    ```json
    {"name": "storage-baseline-prod"}
    ```

    Code: ASG-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
    """

    code = "ASG-01"
    name = "assignments.name"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        scope = scope_of(doc)
        at_mg = is_scope(scope) and parse_scope(scope).kind is ScopeKind.MANAGEMENT_GROUP
        if doc.name is not None:
            for p in name_problems(doc.name, 24 if at_mg else 64, "assignment name"):
                yield "/name", p + (" (management-group scope)" if at_mg and "characters" in p else "")
        for key, limit in (("displayName", 128), ("description", 512)):
            v = ci_get(doc.props, key)
            if isinstance(v, str) and len(v) > limit:
                yield doc.ptr(ci_key(doc.props, key)), f"{key} has {len(v)} characters; Azure allows at most {limit}"
