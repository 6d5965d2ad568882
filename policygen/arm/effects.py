"""Azure Policy effects: the one list of names and what each effect does.

Documented effects (https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics):
addToNetworkGroup, append, audit, auditIfNotExists, deny, denyAction, deployIfNotExists, disabled, manual,
modify, mutate. Effect names are case-insensitive; `canonical()` gives the spelling policygen writes.
Some built-ins use effects that custom definitions may not (enforceSetting, enforceRegoPolicy, auditAction).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Flag, auto

__all__ = [
    "BLOCKING",
    "BUILTIN_ONLY",
    "DOCUMENTED",
    "EFFECTS",
    "EXISTENCE",
    "GENERAL",
    "KNOWN",
    "MODIFYING",
    "REMEDIATING",
    "Effect",
    "EffectClass",
    "canonical",
    "effect",
    "names",
]


class EffectClass(Flag):
    """What an effect does to a matching resource."""

    NONE = 0
    EXISTENCE = auto()  # looks for a related resource (details.type / existenceCondition)
    MODIFYING = auto()  # changes the request (append, modify, mutate)
    BLOCKING = auto()  # can reject a request (deny, denyAction; append/modify conflicts act as deny)
    REMEDIATING = auto()  # remediation tasks fix existing resources; needs a managed identity and roles


@dataclass(frozen=True, slots=True)
class Effect:
    name: str  # canonical spelling
    classes: EffectClass
    mode: str | None = None  # the Resource Provider mode the effect is limited to
    builtin_only: bool = False  # used by built-ins, not accepted in custom definitions
    url: str = ""

    @property
    def key(self) -> str:
        return self.name.lower()


_C = EffectClass
_DOC = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-"

EFFECTS: tuple[Effect, ...] = (
    Effect("Audit", _C.NONE, url=_DOC + "audit"),
    Effect("Deny", _C.BLOCKING, url=_DOC + "deny"),
    Effect("Disabled", _C.NONE, url=_DOC + "disabled"),
    Effect("Modify", _C.MODIFYING | _C.REMEDIATING, url=_DOC + "modify"),
    Effect("Append", _C.MODIFYING, url=_DOC + "append"),
    Effect("AuditIfNotExists", _C.EXISTENCE, url=_DOC + "audit-if-not-exists"),
    Effect("DeployIfNotExists", _C.EXISTENCE | _C.REMEDIATING, url=_DOC + "deploy-if-not-exists"),
    Effect("DenyAction", _C.BLOCKING, url=_DOC + "deny-action"),
    Effect("Manual", _C.NONE, url=_DOC + "manual"),
    Effect("Mutate", _C.MODIFYING, mode="Microsoft.Kubernetes.Data", url=_DOC + "mutate"),
    Effect("addToNetworkGroup", _C.NONE, mode="Microsoft.Network.Data", url=_DOC + "add-to-network-group"),
    Effect("EnforceSetting", _C.NONE, builtin_only=True),
    Effect("EnforceRegoPolicy", _C.NONE, mode="Microsoft.Kubernetes.Data", builtin_only=True),
    Effect("AuditAction", _C.NONE, builtin_only=True),
)

_BY_KEY = {e.key: e for e in EFFECTS}


def effect(name: object) -> Effect | None:
    """The effect named `name` (any casing), or None."""
    return _BY_KEY.get(name.lower()) if isinstance(name, str) else None


def canonical(name: str) -> str | None:
    """`deployifnotexists` → `DeployIfNotExists`; None for an unknown name."""
    e = effect(name)
    return e.name if e else None


def names(keys: frozenset[str]) -> tuple[str, ...]:
    """Canonical names of a key set, in the order of `EFFECTS` (stable for messages)."""
    return tuple(e.name for e in EFFECTS if e.key in keys)


def _keys(pred) -> frozenset[str]:  # noqa: ANN001 - a tiny local filter
    return frozenset(e.key for e in EFFECTS if pred(e))


# Lower-case key sets (compare with `name.lower()`).
KNOWN = _keys(lambda e: True)  # everything Azure evaluates, built-in-only effects included
DOCUMENTED = _keys(lambda e: not e.builtin_only)  # what custom definitions may use
GENERAL = _keys(lambda e: not e.builtin_only and e.mode is None)  # Resource Manager modes
EXISTENCE = _keys(lambda e: _C.EXISTENCE in e.classes)
MODIFYING = _keys(lambda e: _C.MODIFYING in e.classes)
BLOCKING = _keys(lambda e: _C.BLOCKING in e.classes)
REMEDIATING = _keys(lambda e: _C.REMEDIATING in e.classes)
BUILTIN_ONLY = _keys(lambda e: e.builtin_only)
