"""EFF-01 (effects.value)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.effects import DOCUMENTED, KNOWN
from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.model import Doc

EFFECTS_URL = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics"


class EffectValue(Rule):
    """The effect is a known effect (case-insensitive) or a parameter whose allowed values all are.

    An unknown effect fails the PUT; a parameter may only allow known effects.

    **Anti-pattern**

    ```json
    {"then": {"effect": "block"}}
    ```

    **Better**

    ```json
    {"then": {"effect": "deny"}}
    ```

    Code: EFF-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics
    """

    code = "EFF-01"
    name = "effects.value"
    severity = Severity.ERROR
    source = EFFECTS_URL
    needs = ("effect_raw",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        raw = doc.effect_raw
        if raw is None:
            return
        valid = DOCUMENTED if doc.custom else KNOWN  # built-ins may use a few undocumented effects
        ptr = doc.effect_ptr
        if not isinstance(raw, str):
            yield ptr, f"effect must be a string, not {raw!r}"
            return
        if not raw.startswith("["):
            if raw.lower() not in valid:
                yield ptr, f"unknown effect {raw!r}"
            return
        info = analyse(raw)
        if info.error is not None:
            return  # FN-01 reports the syntax
        if info.bare_param is None:
            yield ptr, f"effect must be a literal or [parameters('name')], not {raw!r}"
            return
        spec = doc.param_spec(info.bare_param)
        if spec is None:
            return  # PAR-05
        pname = doc.params_l[info.bare_param]
        base = doc.params_ptr + "/" + pname
        ak = ci_key(spec, "allowedValues")
        if ak is not None and isinstance(spec[ak], list):
            for i, v in enumerate(spec[ak]):
                if not (isinstance(v, str) and v.lower() in valid):
                    yield f"{base}/{ak}/{i}", f"allowed value {v!r} of effect parameter {pname!r} is not an effect"
        dk = ci_key(spec, "defaultValue")
        if dk is not None:
            dv = spec[dk]
            if not (isinstance(dv, str) and dv.lower() in valid):
                yield f"{base}/{dk}", f"default {dv!r} of effect parameter {pname!r} is not an effect"
        t = ci_get(spec, "type")
        if isinstance(t, str) and t.lower() != "string":
            yield base, f"effect parameter {pname!r} must be a string, not {t}"
