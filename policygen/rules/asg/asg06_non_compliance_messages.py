"""ASG-06 (assignments.non_compliance_messages)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.asg.common import ASG, ASSIGN, target_of
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc


class NonComplianceMessages(Rule):
    """nonComplianceMessages are {message, policyDefinitionReferenceId?} with existing reference IDs.

    A message for an unknown member is rejected.

    **Anti-pattern**

    ```json
    {"nonComplianceMessages": [{"message": "Disable public access", "policyDefinitionReferenceId": "nope"}]}
    ```

    **Better**

    ```json
    {"nonComplianceMessages": [{"message": "Disable public access", "policyDefinitionReferenceId": "storagePublic"}]}
    ```

    Code: ASG-06 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
    """

    code = "ASG-06"
    name = "assignments.non_compliance_messages"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "nonComplianceMessages")
        if k is None:
            return
        msgs = doc.props[k]
        if not isinstance(msgs, list):
            yield doc.ptr(k), "nonComplianceMessages must be an array"
            return
        kind, props = target_of(doc)
        refs = None
        if kind == "initiative":
            refs = {
                str(ci_get(m, "policyDefinitionReferenceId")).lower()
                for m in ci_get(props, "policyDefinitions") or []
                if isinstance(m, dict)
            }
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or not isinstance(ci_get(m, "message"), str):
                yield doc.ptr(k, i), "each non-compliance message needs a 'message' string"
                continue
            ref = ci_get(m, "policyDefinitionReferenceId")
            if ref is None:
                continue
            if kind == "definition":
                yield doc.ptr(k, i), "policyDefinitionReferenceId applies only to initiative assignments"
            elif refs is not None and str(ref).lower() not in refs:
                yield doc.ptr(k, i), f"policyDefinitionReferenceId {ref!r} is not a member of the initiative"
