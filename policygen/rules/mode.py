"""MODE: definition modes, custom vs built-in resource-provider modes, effect/mode compatibility."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc, ci_key

BASICS = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics"
EFFECTS = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics"

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


class ModeValue(Rule):
    """mode is present and is `all`, `indexed` or a resource-provider mode (case-insensitive)."""

    code = "MODE-01"
    name = "mode.value"
    severity = Severity.ERROR
    source = BASICS

    def check(self, doc: Doc) -> Iterable[Hit]:
        mode = doc.mode
        if mode is None:
            # Built-in "Static" regulatory stubs have no mode; Azure accepts a missing mode, so only our own
            # output (which must be unambiguous) fails on it.
            if doc.custom:
                yield (
                    doc.ptr("mode"),
                    "mode is missing: PowerShell defaults to 'All', the CLI to null; always set it",
                    Severity.ERROR if doc.own else Severity.WARNING,
                )
            return
        if not isinstance(mode, str):
            yield doc.ptr(ci_key(doc.props, "mode")), f"mode must be a string, not {mode!r}"
            return
        low = mode.lower()
        if low in ("all", "indexed") or low.endswith(".data"):
            return
        yield doc.ptr(ci_key(doc.props, "mode")), f"unknown mode {mode!r}: use 'All', 'Indexed' or a '*.Data' mode"


class ModeFitsTargets(Rule):
    """Use `indexed` for tag/location rules on resources and `all` when targeting resource groups or subscriptions."""

    code = "MODE-02"
    name = "mode.fits_targets"
    severity = Severity.WARNING
    source = BASICS
    applies = "own"

    CONTAINERS = ("microsoft.resources/subscriptions", "microsoft.resources/subscriptions/resourcegroups")

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.own or doc.mode_l not in ("all", "indexed"):
            return
        types = set()
        tag_or_location = False
        for c in doc.conds:
            if c.region != "if" or c.operand != "field" or not isinstance(c.operand_value, str):
                continue
            f = c.operand_value.lower()
            if f == "type" and c.op in ("equals", "in"):
                vals = c.op_value if isinstance(c.op_value, list) else [c.op_value]
                types.update(v.lower() for v in vals if isinstance(v, str))
            elif f == "location" or f.startswith("tags"):
                tag_or_location = True
        targets_containers = bool(types & set(self.CONTAINERS))
        mk = ci_key(doc.props, "mode")
        if doc.mode_l == "indexed" and targets_containers:
            yield doc.ptr(mk), "mode 'Indexed' never evaluates resource groups or subscriptions; use 'All'"
        elif doc.mode_l == "all" and tag_or_location and not targets_containers:
            yield (
                doc.ptr(mk),
                (
                    "tag/location rules in mode 'All' report resources that cannot carry tags as "
                    "non-compliant; use 'Indexed'"
                ),
            )


class ResourceProviderMode(Rule):
    """Custom content may use only the Microsoft.Network.Data and Microsoft.Kubernetes.Data RP modes."""

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


class EffectFitsMode(Rule):
    """append/modify need a Resource Manager mode, mutate Kubernetes, addToNetworkGroup Microsoft.Network.Data."""

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
