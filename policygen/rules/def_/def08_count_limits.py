"""DEF-08 (envelope.count_limits)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import DEFINITION, INITIATIVE, CollectionRule, Severity, Summary
from policygen.rules.def_.common import LIMITS


class CustomCountLimits(CollectionRule):
    """At most 500 custom definitions and 200 custom initiatives per scope.

    Counted over one validation run, per definition scope.

    **Anti-pattern**

    ```text
    500 custom definitions already at managementGroups/contoso, plus one more in this run
    ```

    **Better**

    ```text
    Move rarely used definitions to a child management group, or retire unused ones
    ```

    Code: DEF-08 (error)
    Source: https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits
    """

    code = "DEF-08"
    name = "envelope.count_limits"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = LIMITS

    LIMIT = {DEFINITION: 500, INITIATIVE: 200}

    def check_all(self, docs: list[Summary]) -> Iterable[tuple[Summary, str, str]]:
        for kind, limit in self.LIMIT.items():
            mine = [d for d in docs if d.kind == kind and d.custom]
            if len(mine) > limit:
                yield (
                    mine[limit],
                    "",
                    (f"{len(mine)} custom {kind}s in one run; Azure allows at most {limit} per scope"),
                )
