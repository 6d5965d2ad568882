"""FN-05 (functions.deployment_regions)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc, walk_strings

DINE = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-deploy-if-not-exists"


class DeploymentRegions(Rule):
    """Inside a DINE deployment, field() and policy parameters work only via deployment.properties.parameters.

    ARM evaluates the embedded template at deployment; pass Policy values in as deployment parameters.

    **Anti-pattern**

    ```json
    {"template": {"resources": [{"name": "[field('name')]"}]}}
    ```

    **Better**

    ```json
    {"parameters": {"name": {"value": "[field('name')]"}},
     "template": {"parameters": {"name": {"type": "string"}}, "resources": [{"name": "[parameters('name')]"}]}}
    ```

    Code: FN-05 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-deploy-if-not-exists
    """

    code = "FN-05"
    name = "functions.deployment_regions"
    severity = Severity.INFO
    source = DINE
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom or not isinstance(doc.details, dict):
            return
        dep = ci_get(doc.details, "deployment")
        props = ci_get(dep, "properties") if isinstance(dep, dict) else None
        tk = ci_key(props, "template") if isinstance(props, dict) else None
        if tk is None:
            return
        base = f"{doc.details_ptr}/{ci_key(doc.details, 'deployment')}/{ci_key(dep, 'properties')}/{tk}"
        for ptr, s in walk_strings(props[tk], base):
            if is_expression(s) and "field(" in s.lower():
                yield ptr, "field() inside the embedded template is evaluated by ARM; pass it as a deployment parameter"
