"""PAR-10 (parameters.change_control)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.par.common import PARAMS, iter_params


class ParameterChangeControl(Rule):
    """An update keeps existing parameters and their types; new parameters need a defaultValue.

    Existing assignments keep passing the old parameters; Azure rejects updates that break them.

    **Anti-pattern**

    ```jsonc
    // v1: {"effect": {"type": "String", "defaultValue": "Audit"}}
    {"effect": {"type": "Array", "defaultValue": ["Audit"]}, "retentionDays": {"type": "Integer"}}
    ```

    **Better**

    ```json
    {"effect": {"type": "String", "defaultValue": "Audit"}, "retentionDays": {"type": "Integer", "defaultValue": 30}}
    ```

    Code: PAR-10 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
    """

    code = "PAR-10"
    name = "parameters.change_control"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("definitions",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        """Compares with the deployed version when the caller passes it in `definitions` under the same name."""
        if not doc.name or not doc.definitions:
            return
        old = doc.definitions.get(doc.name) or doc.definitions.get(str(doc.name).lower())
        if not isinstance(old, dict):
            return
        oprops = old.get("properties") if isinstance(old.get("properties"), dict) else old
        same_kind = "policyRule" if doc.kind == "definition" else "policyDefinitions"
        if ci_key(oprops, same_kind) is None:
            return  # a member definition that shares the initiative's name is not its deployed version
        oparams = ci_get(oprops, "parameters") or {}
        if not isinstance(oparams, dict):
            return
        old_l = {k.lower(): v for k, v in oparams.items() if isinstance(v, dict)}
        for key in old_l:
            if key not in doc.params_l:
                yield doc.params_ptr, f"parameter {key!r} of the deployed version cannot be removed"
        for name, spec, ptr, lk in iter_params(doc):
            prev = old_l.get(name.lower())
            if prev is None:
                if lk.get("defaultvalue") is None:
                    yield ptr, f"new parameter {name!r} needs a defaultValue: existing assignments do not set it"
                continue
            t_old, t_new = ci_get(prev, "type"), spec.get(lk.get("type", ""))
            if isinstance(t_old, str) and isinstance(t_new, str) and t_old.lower() != t_new.lower():
                yield ptr, f"parameter {name!r} changes type from {t_old} to {t_new}; types are fixed once saved"
