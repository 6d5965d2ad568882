"""policygen.arm.effects: the one list of effects.

https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics lists: addToNetworkGroup, append,
audit, auditIfNotExists, deny, denyAction, deployIfNotExists, disabled, manual, modify, mutate.
"""

from __future__ import annotations

import pytest

from policygen.arm import effects as E

DOCUMENTED = ["addToNetworkGroup", "append", "audit", "auditIfNotExists", "deny", "denyAction",
              "deployIfNotExists", "disabled", "manual", "modify", "mutate"]


def test_documented_effects_are_exactly_the_custom_ones() -> None:
    assert {n.lower() for n in DOCUMENTED} == E.DOCUMENTED
    assert E.KNOWN == E.DOCUMENTED | E.BUILTIN_ONLY
    assert {"enforcesetting", "enforceregopolicy", "auditaction"} == E.BUILTIN_ONLY


@pytest.mark.parametrize(("given", "canonical"), [
    ("deployifnotexists", "DeployIfNotExists"), ("AUDIT", "Audit"), ("denyaction", "DenyAction"),
    ("Mutate", "Mutate"), ("addtonetworkgroup", "addToNetworkGroup"), ("nosuch", None),
])
def test_canonical_casing(given: str, canonical: str | None) -> None:
    assert E.canonical(given) == canonical


def test_classes() -> None:
    assert {"auditifnotexists", "deployifnotexists"} == E.EXISTENCE
    assert {"deployifnotexists", "modify"} == E.REMEDIATING  # remediation tasks: DINE and modify only
    assert {"append", "modify", "mutate"} == E.MODIFYING
    assert {"deny", "denyaction"} == E.BLOCKING
    # effect-mutate / effect-add-to-network-group: Resource Provider modes only
    assert E.effect("mutate").mode == "Microsoft.Kubernetes.Data"
    assert E.effect("addToNetworkGroup").mode == "Microsoft.Network.Data"
    assert E.names(E.GENERAL) == ("Audit", "Deny", "Disabled", "Modify", "Append", "AuditIfNotExists",
                                  "DeployIfNotExists", "DenyAction", "Manual")
    assert E.effect(None) is None and E.effect(3) is None
