"""PAR-09 (parameters.assign_permissions)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.par.common import param_meta, params_with_meta


class AssignPermissions(Rule):
    """assignPermissions is a boolean on a string parameter holding a scope or resource ID.

    With assignPermissions the portal grants the assignment identity's roles on that scope too.

    **Anti-pattern**

    ```json
    {"enabled": {"type": "Boolean", "metadata": {"assignPermissions": "yes"}}}
    ```

    **Better**

    ```json
    {"workspaceId": {"type": "String", "metadata": {"strongType": "omsWorkspace", "assignPermissions": true}}}
    ```

    Code: PAR-09 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/remediate-resources
    """

    code = "PAR-09"
    name = "parameters.assign_permissions"
    severity = Severity.INFO
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = "https://learn.microsoft.com/azure/governance/policy/how-to/remediate-resources"
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        metas = param_meta(doc)
        for name, spec, ptr, lk in params_with_meta(doc, "assignpermissions"):
            _mk, meta, mlk = metas[name]
            ak = mlk["assignpermissions"]
            v = meta[ak]
            t = spec.get(lk.get("type", ""))
            if not isinstance(v, bool):
                yield f"{ptr}/metadata/{ak}", f"assignPermissions of {name!r} must be a boolean, not {v!r}"
            elif v and isinstance(t, str) and t.lower() != "string":
                yield (
                    f"{ptr}/metadata/{ak}",
                    (f"assignPermissions on {t} parameter {name!r}: role assignments need a scope ID string"),
                )
