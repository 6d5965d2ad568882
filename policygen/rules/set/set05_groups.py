"""SET-05 (initiatives.groups)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.set.common import SET, members


class Groups(Rule):
    """groupNames name entries of policyDefinitionGroups; each group has a name.

    A group a member names must be declared in policyDefinitionGroups.

    **Anti-pattern**

    ```json
    {"policyDefinitions": [{"groupNames": ["identity"]}], "policyDefinitionGroups": []}
    ```

    **Better**

    ```json
    {"policyDefinitions": [{"groupNames": ["identity"]}], "policyDefinitionGroups": [{"name": "identity"}]}
    ```

    Code: SET-05 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/initiative-definition-structure
    """

    code = "SET-05"
    name = "initiatives.groups"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = SET

    def check(self, doc: Doc) -> Iterable[Hit]:
        gk = ci_key(doc.props, "policyDefinitionGroups")
        groups = doc.props.get(gk) if gk else None
        names: set[str] = set()
        if groups is not None:
            if not isinstance(groups, list):
                yield doc.ptr(gk), "policyDefinitionGroups must be an array"
                groups = []
            for i, g in enumerate(groups):
                n = ci_get(g, "name") if isinstance(g, dict) else None
                if not isinstance(n, str) or not n:
                    yield doc.ptr(gk, i), "each policyDefinitionGroups entry needs a name"
                else:
                    names.add(n.lower())
        for _i, m, ptr in members(doc):
            nk = ci_key(m, "groupNames")
            gn = m.get(nk) if nk else None
            if not isinstance(gn, list):
                continue
            for j, g in enumerate(gn):
                if isinstance(g, str) and g.lower() not in names:
                    yield f"{ptr}/{nk}/{j}", f"group {g!r} is not in policyDefinitionGroups"
