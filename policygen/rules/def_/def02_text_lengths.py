"""DEF-02 (envelope.text_lengths)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.def_.common import BASICS
from policygen.rules.model import Doc


class DisplayLengths(Rule):
    """displayName is at most 128 characters and description at most 512 (custom content).

    Longer texts are rejected by the service for custom definitions and initiatives.

    **Anti-pattern**

    ```json
    {"properties": {"displayName": "Storage accounts ... (150 characters)"}}
    ```

    **Better**

    ```json
    {"properties": {"displayName": "Storage accounts disable public network access",
                    "description": "Up to 512 characters; link to the runbook for details."}}
    ```

    Code: DEF-02 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

    code = "DEF-02"
    name = "envelope.text_lengths"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = BASICS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        for key, limit in (("displayName", 128), ("description", 512)):
            k = ci_key(doc.props, key)
            v = doc.props.get(k) if k else None
            if v is None:
                continue
            if not isinstance(v, str):
                yield doc.ptr(k), f"{key} must be a string"
            elif len(v) > limit:
                yield doc.ptr(k), f"{key} has {len(v)} characters; Azure allows at most {limit}"
