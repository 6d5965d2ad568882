"""SET-07 (initiatives.members_exist)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.set.common import find_definition, members


class MembersExistFirst(Rule):
    """Referenced custom definitions must exist before the initiative (deploy definitions first).

    Azure resolves member IDs when the initiative is created.

    **Anti-pattern**

    ```text
    Deploy the initiative, then the custom definition it references
    ```

    **Better**

    ```text
    Deploy definitions first, then initiatives, then assignments (`policygen apply` does)
    ```

    Code: SET-07 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/policy-as-code
    """

    code = "SET-07"
    name = "initiatives.members_exist"
    severity = Severity.INFO
    kinds = frozenset({INITIATIVE})
    source = "https://learn.microsoft.com/azure/governance/policy/concepts/policy-as-code"
    needs = ("definitions",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.definitions:
            return
        for _i, m, ptr in members(doc):
            pid = ci_get(m, "policyDefinitionId")
            if (
                isinstance(pid, str)
                and "/managementgroups/" in pid.lower()
                or isinstance(pid, str)
                and pid.lower().startswith("/subscriptions/")
            ) and find_definition(doc.definitions, pid) is None:
                yield ptr, f"custom definition {pid!r} is not among the known definitions; deploy it first"
