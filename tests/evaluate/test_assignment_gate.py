"""`impact --assignment` honours the assignment's resource selectors, overrides and exemptions.

Encodes https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure (resource
selectors: any selector list selects, every selector in it holds; overrides: policyEffect per member and
per region) and https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure (an
unexpired exemption at or above the resource exempts it; an expired one does not).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from policygen.cli import run
from policygen.evaluate.assignment_gate import exempting, override_for, selected
from tests.render.helpers import write_pack
from tests.render.test_exemptions import DEFS

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
VAULT = {"type": "Microsoft.KeyVault/vaults", "location": "westeurope",
         "properties": {"publicNetworkAccess": "Enabled"}}


def vault(name: str, location: str, rg: str = "rg-a") -> dict:
    return {**VAULT, "name": name, "location": location,
            "id": f"{SUB}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}"}


REGIONS = st.sampled_from(["westeurope", "northeurope", "eastus", "West Europe"])


@given(REGIONS, st.lists(REGIONS, min_size=1, max_size=3))
def test_in_and_not_in_are_complements(location: str, values: list[str]) -> None:
    r = {"location": location}
    inside = selected([{"kind": "resourceLocation", "in": values}], r, None)
    outside = selected([{"kind": "resourceLocation", "notIn": values}], r, None)
    assert inside != outside


def test_first_matching_override_wins_and_reference_ids_narrow_it() -> None:
    overrides = [{"kind": "policyEffect", "value": "Deny", "selectors": [
        {"kind": "policyDefinitionReferenceId", "in": ["kv-public"]}, {"kind": "resourceLocation", "in": ["westeurope"]}]},
        {"kind": "policyEffect", "value": "Disabled"}]
    assert override_for(overrides, {"location": "westeurope"}, "kv-public") == "Deny"
    assert override_for(overrides, {"location": "eastus"}, "kv-public") == "Disabled"
    assert override_for(overrides, {"location": "westeurope"}, "st-public") == "Disabled"
    assert override_for([], {"location": "westeurope"}, "kv-public") is None


def test_exemptions_cover_their_scope_and_members_until_they_expire() -> None:
    r = vault("kv1", "westeurope")
    ex = [(f"{SUB}/resourceGroups/rg-a", {"policyDefinitionReferenceIds": ["kv-public"],
                                         "expiresOn": "2999-01-01T00:00:00Z"})]
    assert exempting(ex, r, "kv-public") is not None
    assert exempting(ex, r, "st-public") is None
    assert exempting(ex, vault("kv2", "westeurope", rg="rg-b"), "kv-public") is None
    lapsed = [(ex[0][0], {**ex[0][1], "expiresOn": "2001-01-01T00:00:00Z"})]
    assert exempting(lapsed, r, "kv-public") is None


ASSIGN = """
displayName: Base on the subscription
initiative: base
scope: sub
resourceSelectors:
  - name: europe
    selectors: [{kind: resourceLocation, in: [westeurope, northeurope]}]
rollout:
  effect: Deny
  members: [kv-public]
  stages:
    - {name: canary, locations: [westeurope]}
    - {name: all}
  stage: canary
"""
EXEMPT = """
displayName: rg-b waived
assignment: sub-base
scope: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-b
category: Waiver
expiresOn: 2999-01-01
policyDefinitionReferenceIds: [kv-public]
"""


def test_impact_of_an_assignment_with_rollout_selectors_and_an_exemption(tmp_path: Path, capsys) -> None:
    pack = write_pack(tmp_path / "pack", {**DEFS, "assignments/sub-base.yaml": ASSIGN,
                                          "exemptions/rg-b.yaml": EXEMPT})
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps([vault("kv-weu", "westeurope"), vault("kv-neu", "northeurope"),
                                     vault("kv-us", "eastus"), vault("kv-exempt", "westeurope", rg="rg-b")]))
    capsys.readouterr()
    code = run(["impact", str(pack), "--resources", str(inventory), "--assignment", "sub-base", "--format", "json",
                "--all"])
    assert code in (0, 1)
    out = json.loads(capsys.readouterr().out)
    rows = {(r["policy"], r["resourceId"].rsplit("/", 1)[-1]): r for r in out["results"]
            if "kv-public" in r["policy"]}
    # westeurope: the rollout's Deny; northeurope: the member's own Audit; eastus: not selected; rg-b: exempt
    assert set(rows) == {("sub-base/kv-public@Deny", "kv-weu"), ("sub-base/kv-public", "kv-neu")}
    assert rows[("sub-base/kv-public@Deny", "kv-weu")]["denied"] is True
    assert rows[("sub-base/kv-public", "kv-neu")]["effect"] == "audit"
