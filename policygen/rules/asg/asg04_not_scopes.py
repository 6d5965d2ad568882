"""ASG-04 (assignments.not_scopes)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.asg.common import ASG
from policygen.rules.base import CollectionRule, Hit, Severity, Summary
from policygen.rules.model import Doc

LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"


class NotScopes(CollectionRule):
    """notScopes is an array of at most 400 scope IDs; at most 200 assignments per scope.

    notScopes is an array of scope IDs; Azure caps notScopes at 400 and assignments per scope at 200.

    **Anti-pattern**

    ```json
    {"properties": {"notScopes": "/subscriptions/s1/resourceGroups/sandbox"}}
    ```

    **Better**

    ```json
    {"properties": {"notScopes": ["/subscriptions/s1/resourceGroups/sandbox"]}}
    ```

    Code: ASG-04 (error)
    Source: https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits
    """

    code = "ASG-04"
    name = "assignments.not_scopes"
    severity = Severity.ERROR
    kinds = ASG
    source = LIMITS

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "notScopes")
        if k is None:
            return
        ns = doc.props[k]
        if not isinstance(ns, list) or not all(isinstance(s, str) for s in ns):
            yield doc.ptr(k), "notScopes must be an array of scope IDs"
        elif len(ns) > 400:
            yield doc.ptr(k), f"{len(ns)} notScopes; Azure allows at most 400"

    def check_all(self, docs: list[Summary]) -> Iterable[tuple[Summary, str, str]]:
        by_scope: dict[str, list[Summary]] = {}
        for d in docs:
            if d.kind == "assignment":
                by_scope.setdefault((d.scope or "").lower(), []).append(d)
        for scope, items in by_scope.items():
            if scope and len(items) > 200:
                yield items[200], "", f"{len(items)} assignments at {scope}; Azure allows at most 200 per scope"
