"""ASG-02 (assignments.definition_reference)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.asg.common import ASG, ASSIGN, DEF_VERSION
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc


class DefinitionReference(Rule):
    """policyDefinitionId is one definition or initiative ID; definitionVersion looks like `1.*.*`.

    The definition is referenced by its full resource ID; definitionVersion pins a major version.

    **Anti-pattern**

    ```json
    {"properties": {"policyDefinitionId": "storage-baseline", "definitionVersion": "1.0.0"}}
    ```

    **Better**

    ```json
    {"properties": {
      "policyDefinitionId":
        "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/policySetDefinitions/base",
      "definitionVersion": "1.*.*"}}
    ```

    Code: ASG-02 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
    """

    code = "ASG-02"
    name = "assignments.definition_reference"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "policyDefinitionId")
        pid = doc.props.get(k) if k else None
        if not isinstance(pid, str) or "/providers/microsoft.authorization/policy" not in pid.lower():
            yield (
                doc.ptr(k or "policyDefinitionId"),
                f"policyDefinitionId must be a definition or initiative ID, not {pid!r}",
            )
        vk = ci_key(doc.props, "definitionVersion")
        if vk is not None and not (isinstance(doc.props[vk], str) and DEF_VERSION.match(doc.props[vk])):
            yield doc.ptr(vk), f"definitionVersion {doc.props[vk]!r} must look like '1.*.*' or '1.2.*'"
