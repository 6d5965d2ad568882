"""SET-06 (initiatives.limits)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.set.common import members

LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"


class InitiativeLimits(Rule):
    """At most 1,000 members and 400 parameters per initiative.

    Beyond the limits the PUT fails.

    **Anti-pattern**

    ```text
    An initiative with 1,001 policyDefinitions entries
    ```

    **Better**

    ```text
    Two initiatives of at most 1,000 members each, assigned together
    ```

    Code: SET-06 (error)
    Source: https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits
    """

    code = "SET-06"
    name = "initiatives.limits"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = LIMITS

    def check(self, doc: Doc) -> Iterable[Hit]:
        n = len(members(doc))
        if n > 1000:
            yield doc.ptr("policyDefinitions"), f"{n} members; Azure allows at most 1,000"
        if len(doc.params) > 400:
            yield doc.params_ptr, f"{len(doc.params)} parameters; Azure allows at most 400"
