"""PAR-07 (parameters.metadata)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get
from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.par.common import PARAMS, iter_params


class ParameterMetadata(Rule):
    """Each parameter has metadata.displayName and metadata.description (portal UX, linters).

    The portal's assignment form shows these texts; linters flag their absence.

    **Anti-pattern**

    ```json
    {"effect": {"type": "String"}}
    ```

    **Better**

    ```json
    {"effect": {"type": "String", "metadata": {"displayName": "Effect", "description": "Audit, Deny or Disabled"}}}
    ```

    Code: PAR-07 (warning)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
    """

    code = "PAR-07"
    name = "parameters.metadata"
    severity = Severity.WARNING
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        for name, spec, ptr, lk in iter_params(doc):
            meta = spec.get(lk.get("metadata", ""))
            if not isinstance(meta, dict):
                yield ptr, f"parameter {name!r} has no metadata (displayName, description)"
                continue
            missing = [k for k in ("displayName", "description") if not ci_get(meta, k)]
            if missing:
                yield ptr, f"parameter {name!r} metadata lacks {' and '.join(missing)}"
