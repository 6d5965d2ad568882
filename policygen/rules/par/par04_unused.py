"""PAR-04 (parameters.unused)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.model import Doc, walk_strings
from policygen.rules.par.common import iter_params


def _template_param_refs(doc: Doc) -> set[str]:
    det = doc.details
    dep = ci_get(det, "deployment") if isinstance(det, dict) else None
    props = ci_get(dep, "properties") if isinstance(dep, dict) else None
    template = ci_get(props, "template") if isinstance(props, dict) else None
    out: set[str] = set()
    if template is not None:
        for _ptr, s in walk_strings(template):
            if is_expression(s):
                out.update(analyse(s).params)
    return out


class UnusedParameter(Rule):
    """Every declared parameter is used in the policy rule (Azure rejects unused ones).

    Azure rejects definitions that declare parameters the rule never uses.

    **Anti-pattern**

    ```json
    {"parameters": {"effect": {"type": "String"}, "unused": {"type": "String"}},
     "policyRule": {"then": {"effect": "[parameters('effect')]"}}}
    ```

    **Better**

    ```json
    {"parameters": {"effect": {"type": "String"}},
     "policyRule": {"then": {"effect": "[parameters('effect')]"}}}
    ```

    Code: PAR-04 (error)
    Source: https://github.com/Azure/azure-monitor-baseline-alerts/issues/311
    See also: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
    """

    code = "PAR-04"
    name = "parameters.unused"
    severity = Severity.ERROR
    source = "https://github.com/Azure/azure-monitor-baseline-alerts/issues/311"
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.rule is None or not doc.custom:
            return  # built-ins keep deprecated, unused parameters (the service exempts them)
        refs = doc.param_refs
        unused = [(name, ptr) for name, _spec, ptr, _lk in iter_params(doc) if name.lower() not in refs]
        if unused:
            # A reference inside the embedded deployment template is ARM's, but whether the service counts
            # it is undocumented: accept it rather than risk rejecting a definition Azure takes.
            template_refs = _template_param_refs(doc)
            for name, ptr in unused:
                if name.lower() not in template_refs:
                    yield ptr, f"parameter {name!r} is declared but not used in the policy rule"
