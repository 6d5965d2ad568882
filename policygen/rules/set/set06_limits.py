"""SET-06 (initiatives.limits)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.set.common import members

LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"


class InitiativeLimits(Rule):
    """At most 1,000 members and 400 parameters per initiative."""

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
