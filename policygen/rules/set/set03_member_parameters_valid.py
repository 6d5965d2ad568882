"""SET-03 (initiatives.member_parameters_valid)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.model import Doc
from policygen.rules.nodes import esc
from policygen.rules.par.common import in_allowed, value_matches_type
from policygen.rules.set.common import member_params, members_with_targets, props_of


class MemberParametersSatisfied(Rule):
    """Required member parameters are supplied and passed values fit the member's type and allowedValues.

    A missing required value or a value outside the member's allowedValues fails the PUT.

    **Anti-pattern**

    ```jsonc
    {"parameters": {"effect": {"value": "Modify"}}}   // the member allows Audit, Deny, Disabled
    ```

    **Better**

    ```json
    {"parameters": {"effect": {"value": "Audit"}}}
    ```

    Code: SET-03 (error)
    Source: https://github.com/Azure/Azure-Landing-Zones/issues/1601
    See also: https://learn.microsoft.com/azure/governance/policy/concepts/initiative-definition-structure
    """

    code = "SET-03"
    name = "initiatives.member_parameters_valid"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = "https://github.com/Azure/Azure-Landing-Zones/issues/1601"
    needs = ("definitions",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for _i, m, ptr, target in members_with_targets(doc):
            tparams = ci_get(props_of(target), "parameters") or {}
            passed = {k.lower(): (k, v) for k, v in member_params(m).items()}
            pk = ci_key(m, "parameters") or "parameters"
            for pname, spec in tparams.items():
                if not isinstance(spec, dict):
                    continue
                got = passed.get(pname.lower())
                if got is None:
                    if ci_key(spec, "defaultValue") is None:
                        yield ptr, f"member parameter {pname!r} has no default and is not supplied"
                    continue
                key, wrapper = got
                value = ci_get(wrapper, "value") if isinstance(wrapper, dict) else None
                yield from self._value(doc, f"{ptr}/{pk}/{esc(key)}", pname, spec, value)

    @staticmethod
    def _value(doc: Doc, ptr: str, pname: str, spec: dict, value: Any) -> Iterable[Hit]:
        allowed = ci_get(spec, "allowedValues")
        ptype = ci_get(spec, "type")
        ptype = ptype.lower() if isinstance(ptype, str) else None
        if isinstance(value, str) and is_expression(value):
            info = analyse(value)
            if info.bare_param is None:
                return
            outer = doc.param_spec(info.bare_param)
            if outer is None or not isinstance(allowed, list):
                return
            dv = ci_get(outer, "defaultValue")
            if (
                ci_key(outer, "defaultValue") is not None
                and not (isinstance(dv, str) and is_expression(dv))
                and not in_allowed(dv, allowed)
            ):
                yield ptr, f"initiative default {dv!r} for {pname!r} is not in the member's allowedValues {allowed}"
            oallowed = ci_get(outer, "allowedValues")
            if isinstance(oallowed, list):
                extra = [v for v in oallowed if not in_allowed(v, allowed)]
                if extra:
                    yield ptr, f"initiative allows {extra} for {pname!r}, which the member does not allow"
            return
        if not value_matches_type(value, ptype):
            yield ptr, f"value {value!r} does not fit the member's {ptype} parameter {pname!r}"
        elif isinstance(allowed, list) and not in_allowed(value, allowed):
            yield ptr, f"value {value!r} for {pname!r} is not in the member's allowedValues {allowed}"
