"""SET-01 (initiatives.members)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.nodes import esc
from policygen.rules.set.common import SET


class Members(Rule):
    """policyDefinitions is a non-empty array of {policyDefinitionId, unique policyDefinitionReferenceId, ...}.

    Each member needs a definition ID and a reference ID unique within the initiative.

    **Anti-pattern**

    ```json
    {"policyDefinitions": [{"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/d1",
                            "parameters": {"effect": "Audit"}}]}
    ```

    **Better**

    ```json
    {"policyDefinitions": [{"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/d1",
                            "policyDefinitionReferenceId": "storagePublic",
                            "parameters": {"effect": {"value": "Audit"}}}]}
    ```

    Code: SET-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/initiative-definition-structure
    """

    code = "SET-01"
    name = "initiatives.members"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = SET

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "policyDefinitions")
        items = doc.props.get(k) if k else None
        if not isinstance(items, list) or not items:
            yield doc.ptr(k or "policyDefinitions"), "policyDefinitions must be a non-empty array"
            return
        seen: dict[str, int] = {}
        base = f"{doc.base}/{esc(k)}/"
        for i, m in enumerate(items):
            ptr = base + str(i)
            if not isinstance(m, dict):
                yield ptr, "a member is an object with policyDefinitionId"
                continue
            pid = ci_get(m, "policyDefinitionId")
            if not isinstance(pid, str) or not pid:
                yield ptr, "policyDefinitionId (string) is required"
            ref = ci_get(m, "policyDefinitionReferenceId")
            if ref is not None:
                if not isinstance(ref, str) or not ref:
                    yield ptr, "policyDefinitionReferenceId must be a non-empty string"
                elif ref.lower() in seen:
                    yield (
                        ptr + "/" + ci_key(m, "policyDefinitionReferenceId"),
                        (f"policyDefinitionReferenceId {ref!r} repeats member {seen[ref.lower()]}"),
                    )
                else:
                    seen[ref.lower()] = i
            elif doc.own:
                yield ptr, "set policyDefinitionReferenceId: overrides and messages refer to members by it"
            pk = ci_key(m, "parameters")
            if pk is not None:
                params = m[pk]
                if not isinstance(params, dict):
                    yield ptr + "/" + pk, "member parameters must be an object {name: {value: ...}}"
                else:
                    for name, v in params.items():
                        if type(v) is dict and "value" in v:
                            continue
                        if not isinstance(v, dict) or ci_key(v, "value") is None:
                            yield f"{ptr}/{pk}/{esc(name)}", f"member parameter {name!r} must be {{'value': ...}}"
            gk = "groupNames" if "groupNames" in m else ci_key(m, "groupNames")
            if gk is not None and not (isinstance(m[gk], list) and all(type(g) is str for g in m[gk])):
                yield ptr + "/" + gk, "groupNames must be an array of strings"
