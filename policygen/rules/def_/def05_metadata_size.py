"""DEF-05 (envelope.metadata_size)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import ALL_KINDS, Hit, Rule, Severity
from policygen.rules.def_.common import BASICS
from policygen.rules.model import Doc


class MetadataValueSize(Rule):
    """Each metadata property value is at most 1,024 characters (custom content).

    Each metadata value of custom content is limited to 1,024 characters.

    **Anti-pattern**

    ```json
    {"metadata": {"notes": "<2,000 characters of guidance>"}}
    ```

    **Better**

    ```jsonc
    {"metadata": {"notes": "See https://contoso.example/policy/storage"}}
    ```

    Code: DEF-05 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

    code = "DEF-05"
    name = "envelope.metadata_size"
    severity = Severity.ERROR
    kinds = ALL_KINDS
    source = BASICS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        mk = ci_key(doc.props, "metadata")
        meta = doc.props.get(mk) if mk else None
        if not isinstance(meta, dict):
            return
        for k, v in meta.items():
            n = len(v) if isinstance(v, str) else len(json.dumps(v, separators=(",", ":")))
            if n > 1024:
                yield doc.ptr(mk, k), f"metadata value {k!r} has {n} characters; Azure allows at most 1,024"
