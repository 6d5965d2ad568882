"""MODE-04 (mode.effect_compatibility)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc

EFFECTS = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics"


class EffectFitsMode(Rule):
    """append/modify need a Resource Manager mode, mutate Kubernetes, addToNetworkGroup Microsoft.Network.Data.

    Each of these effects works only in the modes that carry what it changes.

    **Anti-pattern**

    ```json
    {"mode": "Microsoft.Kubernetes.Data", "policyRule": {"then": {"effect": "modify"}}}
    ```

    **Better**

    ```json
    {"mode": "Indexed", "policyRule": {"then": {"effect": "modify"}}}
    ```

    Code: MODE-04 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics
    """

    code = "MODE-04"
    name = "mode.effect_compatibility"
    severity = Severity.ERROR
    source = EFFECTS
    needs = ("effects",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        effects = doc.effects
        if not effects or doc.mode is None:
            return
        low = doc.mode_l
        ptr = doc.effect_ptr
        rm = doc.rm_mode
        for eff in sorted(effects):
            if eff in ("append", "modify") and not rm:
                yield ptr, f"effect {eff!r} works only in Resource Manager modes (All/Indexed), not {doc.mode!r}"
            elif eff == "mutate" and low != "microsoft.kubernetes.data":
                yield ptr, f"effect 'mutate' works only in mode Microsoft.Kubernetes.Data, not {doc.mode!r}"
            elif eff == "addtonetworkgroup" and low != "microsoft.network.data":
                yield ptr, f"effect 'addToNetworkGroup' works only in mode Microsoft.Network.Data, not {doc.mode!r}"
            elif low == "microsoft.kubernetes.data" and eff not in ("audit", "deny", "disabled", "mutate"):
                yield ptr, f"Kubernetes-mode definitions use audit, deny, disabled or mutate, not {eff!r}"
