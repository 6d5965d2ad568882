"""SET-04 (initiatives.parameter_references)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.model import Doc
from policygen.rules.nodes import esc
from policygen.rules.set.common import SET, member_expressions


class InitiativeParameterRefs(Rule):
    """Member values reference declared initiative parameters, and every initiative parameter is used.

    Undeclared references fail; unused initiative parameters are rejected too.

    **Anti-pattern**

    ```json
    {"parameters": {"spare": {"type": "String"}},
     "policyDefinitions": [{"parameters": {"effect": {"value": "[parameters('mode')]"}}}]}
    ```

    **Better**

    ```json
    {"parameters": {"effect": {"type": "String"}},
     "policyDefinitions": [{"parameters": {"effect": {"value": "[parameters('effect')]"}}}]}
    ```

    Code: SET-04 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/initiative-definition-structure
    """

    code = "SET-04"
    name = "initiatives.parameter_references"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = SET

    def check(self, doc: Doc) -> Iterable[Hit]:
        used: set[str] = set()
        for ptr, s, _name in member_expressions(doc):
            for ref in analyse(s).params:
                used.add(ref)
                if ref not in doc.params_l:
                    yield ptr.split("/value")[0], f"parameters({ref!r}) is not an initiative parameter"
        if not doc.custom:
            return  # built-in initiatives keep unused (deprecated) parameters; the service exempts them
        for name in doc.params:
            if name.lower() not in used:
                sev = Severity.ERROR if doc.own else Severity.WARNING
                yield doc.params_ptr + "/" + esc(name), f"initiative parameter {name!r} is not used by any member", sev
