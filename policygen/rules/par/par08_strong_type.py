"""PAR-08 (parameters.strong_type)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.par.common import PARAMS, param_meta, params_with_meta

STRONG_TYPES = frozenset(
    {"location", "resourcetypes", "storageskus", "vmskus", "existingresourcegroups", "omsworkspace"}
)  # omsWorkspace: legacy value used by 215 built-ins


RESOURCE_TYPE = re.compile(r"^[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*/[A-Za-z0-9]+(?:/[A-Za-z0-9]+)*$")


class StrongType(Rule):
    """metadata.strongType is a resource type or location/resourceTypes/storageSkus/vmSKUs/existingResourceGroups.

    The portal uses strongType to offer a picker; an unknown value is rejected.

    **Anti-pattern**

    ```json
    {"subnet": {"type": "String", "metadata": {"strongType": "a subnet please"}}}
    ```

    **Better**

    ```json
    {"subnet": {"type": "String", "metadata": {"strongType": "Microsoft.Network/virtualNetworks/subnets"}}}
    ```

    Code: PAR-08 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
    """

    code = "PAR-08"
    name = "parameters.strong_type"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        metas = param_meta(doc)
        for name, _spec, ptr, _lk in params_with_meta(doc, "strongtype"):
            mk, meta, mlk = metas[name]
            sk = mlk["strongtype"]
            st = meta[sk]
            if isinstance(st, str) and (st.lower() in STRONG_TYPES or RESOURCE_TYPE.match(st)):
                continue
            yield f"{ptr}/{mk}/{sk}", f"strongType {st!r} of {name!r} is neither a resource type nor a known picker"
