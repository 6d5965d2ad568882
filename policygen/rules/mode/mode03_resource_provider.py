"""MODE-03 (mode.resource_provider)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.mode.common import BASICS
from policygen.rules.model import Doc

RP_MODES_CUSTOM = frozenset({"microsoft.network.data", "microsoft.kubernetes.data"})


RP_MODES_DOCUMENTED = RP_MODES_CUSTOM | {
    "microsoft.keyvault.data",
    "microsoft.managedhsm.data",
    "microsoft.datafactory.data",
    "microsoft.machinelearningservices.v2.data",
}


RP_MODES_BUILTIN_ONLY = frozenset(
    {
        "microsoft.containerservice.data",
        "microsoft.cognitiveservices.data",
        "microsoft.loadtestservice.data",
        "microsoft.machinelearningservices.data",
    }
)


class ResourceProviderMode(Rule):
    """Custom content may use only the Microsoft.Network.Data and Microsoft.Kubernetes.Data RP modes.

    The other resource-provider modes are in use only by built-in definitions.

    **Anti-pattern**

    ```json
    {"mode": "Microsoft.KeyVault.Data"}
    ```

    **Better**

    ```jsonc
    {"mode": "Indexed"}   // and Key Vault aliases such as Microsoft.KeyVault/vaults/enableRbacAuthorization
    ```

    Code: MODE-03 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

    code = "MODE-03"
    name = "mode.resource_provider"
    severity = Severity.ERROR
    source = BASICS

    def check(self, doc: Doc) -> Iterable[Hit]:
        low = doc.mode_l
        if low is None or low in ("all", "indexed") or not low.endswith(".data"):
            return
        ptr = doc.ptr(ci_key(doc.props, "mode"))
        if doc.custom:
            if low not in RP_MODES_CUSTOM:
                why = (
                    "supports built-in definitions only"
                    if low in RP_MODES_DOCUMENTED | RP_MODES_BUILTIN_ONLY
                    else "is not a documented resource-provider mode"
                )
                yield (
                    ptr,
                    f"mode {doc.mode!r} {why}; custom content may use Microsoft.Network.Data or "
                    "Microsoft.Kubernetes.Data",
                )
        elif low not in RP_MODES_DOCUMENTED | RP_MODES_BUILTIN_ONLY:
            yield ptr, f"mode {doc.mode!r} is not a known resource-provider mode"
