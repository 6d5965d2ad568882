"""SET-02 (initiatives.member_parameters_defined)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.nodes import esc
from policygen.rules.set.common import member_params, members_with_targets, props_of


class MemberParametersDefined(Rule):
    """Values passed to a member name only parameters that member defines (UndefinedPolicyParameter).

    Azure rejects the initiative with UndefinedPolicyParameter.

    **Anti-pattern**

    ```jsonc
    {"policyDefinitionReferenceId": "storagePublic", "parameters": {"colour": {"value": "blue"}}}   // d1 has no colour
    ```

    **Better**

    ```json
    {"policyDefinitionReferenceId": "storagePublic", "parameters": {"effect": {"value": "Audit"}}}
    ```

    Code: SET-02 (error)
    Source: https://github.com/gettek/terraform-azurerm-policy-as-code/issues/47
    See also: https://learn.microsoft.com/azure/governance/policy/concepts/initiative-definition-structure
    """

    code = "SET-02"
    name = "initiatives.member_parameters_defined"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = "https://github.com/gettek/terraform-azurerm-policy-as-code/issues/47"
    needs = ("definitions",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for _i, m, ptr, target in members_with_targets(doc):
            declared = {k.lower() for k in (ci_get(props_of(target), "parameters") or {})}
            pk = ci_key(m, "parameters")
            for name in member_params(m):
                if name.lower() not in declared:
                    yield (
                        f"{ptr}/{pk}/{esc(name)}",
                        (f"member {ci_get(m, 'policyDefinitionReferenceId') or _i} has no parameter {name!r}"),
                    )
