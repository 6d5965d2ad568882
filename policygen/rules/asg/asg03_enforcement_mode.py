"""ASG-03 (assignments.enforcement_mode)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.asg.common import ASG, ASSIGN
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc


class EnforcementMode(Rule):
    """enforcementMode is Default, DoNotEnforce or Enroll.

    Other values are rejected.

    **Anti-pattern**

    ```json
    {"properties": {"enforcementMode": "AuditOnly"}}
    ```

    **Better**

    ```json
    {"properties": {"enforcementMode": "DoNotEnforce"}}
    ```

    Code: ASG-03 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
    """

    code = "ASG-03"
    name = "assignments.enforcement_mode"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "enforcementMode")
        if k is not None and str(doc.props[k]).lower() not in ("default", "donotenforce", "enroll"):
            yield doc.ptr(k), f"enforcementMode {doc.props[k]!r} is not Default, DoNotEnforce or Enroll"
