"""DEF-04 (envelope.body_size)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from policygen.rules.base import ALL_KINDS, Hit, Rule, Severity
from policygen.rules.def_.common import LIMITS
from policygen.rules.model import Doc

MAX_BODY = 1_048_576


class BodySize(Rule):
    """The request body is at most 1,048,576 bytes (custom content).

    The request body of a custom definition, initiative or assignment is limited to 1 MiB.

    **Anti-pattern**

    ```json
    {"parameters": {"allowedImages": {"type": "Array", "allowedValues": ["<20,000 image ids>"]}}}
    ```

    **Better**

    ```json
    {"parameters": {"allowedPublishers": {"type": "Array", "allowedValues": ["Canonical", "MicrosoftWindowsServer"]}}}
    ```

    Code: DEF-04 (error)
    Source: https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits
    """

    code = "DEF-04"
    name = "envelope.body_size"
    severity = Severity.ERROR
    kinds = ALL_KINDS
    source = LIMITS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        size = doc.size
        if size is None or size > MAX_BODY:
            # File sizes include indentation; re-measure compactly before reporting.
            try:
                size = len(json.dumps(doc.obj, separators=(",", ":"), ensure_ascii=False).encode())
            except RecursionError:
                return  # nested beyond any limit: RULE-04 reports the depth
        if size > MAX_BODY:
            yield "", f"request body is {size:,} bytes; Azure allows at most {MAX_BODY:,}"
