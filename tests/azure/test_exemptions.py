"""Exemptions through plan/apply/status against the emulator over HTTP, with the real policy client's pipeline.

Encodes https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure (an exempt
resource is reported `Exempt`, not evaluated for deny; expiresOn ends the exemption) and
https://learn.microsoft.com/rest/api/policy/policy-exemptions (PUT/GET/DELETE, `$filter=atExactScope()`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from policygen.azure.apply import execute
from policygen.azure.remote import RemoteObject
from policygen.azure.status import compliance
from tests.azure.deploy_support import DEV, MINI_PACK, PROD, SUB_PROD, Session, emulator, write_pack

RG = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-mlops"
DENY = """
    intent: custom
    name: no-eastus
    displayName: No storage in eastus
    effect: {default: Deny, allowed: [Audit, Deny, Disabled]}
    settings:
      if:
        allOf:
          - {field: type, equals: Microsoft.Storage/storageAccounts}
          - {field: location, equals: eastus}
"""
INITIATIVE = """
    name: base
    displayName: Mini baseline
    members:
      - {definition: tagged}
      - {definition: ws-private}
      - {definition: no-eastus}
"""


def exemption(expires: str = "2999-01-01", refs: str = "[tagged]", scope: str = RG) -> str:
    return f"""
        displayName: rg-mlops waived from the tag policy
        assignment: mini-base
        scope: {scope}
        category: Waiver
        expiresOn: {expires}
        policyDefinitionReferenceIds: {refs}
        metadata: {{approvedBy: platform-team, ticket: "https://contoso.example/CHG-1"}}
    """


def pack(tmp_path: Path, **extra: str) -> Path:
    files = {**MINI_PACK, "definitions/no-eastus.yaml": DENY, "initiatives/base.yaml": INITIATIVE}
    files.update({f"exemptions/{k}.yaml": v for k, v in extra.items()})
    return write_pack(tmp_path, files)


def by_address(plan) -> dict:
    return {c.address: c for c in plan.changes}


def test_create_converge_update_and_delete(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = pack(tmp_path, waiver=exemption())
    with emulator(monkeypatch):
        s = Session(root)
        plan = s.plan()
        change = by_address(plan)["exemption.waiver"]
        assert change.actions == ["create"] and change.scope == RG
        assert execute(plan, s.arm).ok
        deployed = s.arm.list_exemptions(RG)
        assert [e["name"] for e in deployed] == ["waiver"]
        assert deployed[0]["properties"]["metadata"]["pacOwnerId"] == "policygen-mini"
        assert not s.plan().has_changes  # what we wrote reads back equal (category case, expiresOn form)

        (root / "exemptions/waiver.yaml").write_text(exemption(expires="2999-06-30"), encoding="utf-8")
        s.recompile()
        change = by_address(s.plan())["exemption.waiver"]
        assert change.actions == ["update"]
        assert [d.path for d in change.diff] == ["properties.expiresOn"]
        assert execute(s.plan(), s.arm).ok

        (root / "exemptions/waiver.yaml").unlink()
        s.recompile()
        change = by_address(s.plan())["exemption.waiver"]
        assert change.actions == ["delete"] and change.reason == "no longer in the pack"
        assert execute(s.plan(), s.arm).ok
        assert s.arm.list_exemptions(RG) == []


def test_exempt_resources_show_in_status_and_an_exempted_deny_lets_the_request_through(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    body = {"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {}}
    root = pack(tmp_path / "a")
    with emulator(monkeypatch):
        s = Session(root)
        assert execute(s.plan(), s.arm).ok
        client = s.arm.clients.policy(SUB_PROD)

        def put_storage(name: str) -> int:
            url = f"{RG}/providers/Microsoft.Storage/storageAccounts/{name}?api-version=2023-05-01"
            return client.send_request(HttpRequest("PUT", url, json=body)).status_code

        assert put_storage("steastus1") == 403  # RequestDisallowedByPolicy
        # now exempt the resource group from the deny member only
        s2 = Session(pack(tmp_path / "b", deny=exemption(refs="[no-eastus]")))
        assert execute(s2.plan(), s2.arm).ok
        assert put_storage("steastus2") in (200, 201)
        asg = s2.arm.list_assignments(PROD)
        rows = compliance(s2.arm, [RemoteObject("assignment", a) for a in asg])
        row = next(r for r in rows if r.name == "mini-base")
        # a resource counts by its worst state (the tag policy still finds these non-compliant); per member:
        member = next(m for m in row.members if m.reference_id == "no-eastus")
        assert member.exempt_resources >= 1


def test_expired_exemptions_of_ours_are_deleted_and_expiring_ones_warned(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%d")
    root = pack(tmp_path, waiver=exemption(expires=soon))
    with emulator(monkeypatch):
        s = Session(root)
        plan = s.plan()
        assert any("exemption.waiver" in w and "expires" in w for w in plan.warnings)
        assert plan.lifecycle["expiring"][0]["exemption"] == "waiver"
        assert execute(plan, s.arm).ok
        asg_id = f"{PROD}/providers/Microsoft.Authorization/policyAssignments/mini-base"
        lapsed = {"properties": {"policyAssignmentId": asg_id, "exemptionCategory": "Waiver",
                                 "expiresOn": "2001-01-01T00:00:00Z", "metadata": {"pacOwnerId": "policygen-mini"}}}
        foreign = {"properties": {"policyAssignmentId": asg_id, "exemptionCategory": "Mitigated",
                                  "expiresOn": "2001-01-01T00:00:00Z", "metadata": {"pacOwnerId": "someone-else"}}}
        s.arm.put_exemption(RG, "old-waiver", lapsed)
        s.arm.put_exemption(RG, "their-waiver", foreign)
        changes = by_address(s.plan())
        assert changes["exemption.old-waiver"].actions == ["delete"]
        assert changes["exemption.old-waiver"].action_reason == "delete_because_expired"
        assert "exemption.their-waiver" not in changes  # another owner's: never deleted
        assert any(u.id.endswith("/their-waiver") for u in s.plan().unmanaged)


def test_exemptions_of_many_assignments_are_read_with_one_listing_per_assignment_scope(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Issue #17: reading an estate's exemptions costs a call per scope, not per assignment. The unfiltered
    list holds the exemptions below the scope too ($filter=atScope() is "everything in the unfiltered list
    except those applied to sub scopes": https://learn.microsoft.com/javascript/api/@azure/arm-policy/
    policyexemptionslistformanagementgroupoptionalparams), so one of ours made below a management group,
    then dropped from the pack, is still found and deleted, and another assignment's is left out."""
    more = {f"assignments/extra-{i}.yaml": f"""
        name: mini-extra-{i}
        displayName: Extra {i}
        initiative: base
        scope: {"prod" if i < 3 else "dev"}
    """ for i in range(5)}
    root = write_pack(pack(tmp_path, waiver=exemption()), more)
    with emulator(monkeypatch) as url:
        s = Session(root)
        first = s.plan()
        assert execute(first, s.arm).ok
        definition = next(c.id for c in first.changes if c.kind == "definition")
        other = f"{PROD}/providers/Microsoft.Authorization/policyAssignments/not-ours"
        s.arm.put_assignment(PROD, "not-ours", {"properties": {"policyDefinitionId": definition}})
        s.arm.put_exemption(RG, "theirs", {"properties": {"policyAssignmentId": other, "exemptionCategory": "Waiver"}})
        (root / "exemptions/waiver.yaml").unlink()
        s.recompile()
        since = len(url.requests)
        plan = s.plan()
        listings = [r["path"] for r in url.requests[since:] if r["path"].endswith("/policyExemptions")]
        assert sorted(listings) == sorted(f"{scope}/providers/Microsoft.Authorization/policyExemptions"
                                          for scope in (PROD, DEV))  # 7 assignments, 2 scopes
        changes = by_address(plan)
        assert changes["exemption.waiver"].actions == ["delete"]  # made at a resource group below prod
        assert not any(u.id.endswith("/theirs") for u in plan.unmanaged)  # not an exemption of ours


def test_azure_refuses_an_exemption_for_a_member_the_assignment_lacks(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An assignment id outside the pack is not checked offline; the service refuses what is wrong."""
    with emulator(monkeypatch):
        s = Session(pack(tmp_path))
        assert execute(s.plan(), s.arm).ok
        asg_id = f"{PROD}/providers/Microsoft.Authorization/policyAssignments/mini-base"
        with pytest.raises(HttpResponseError) as exc:
            s.arm.put_exemption(RG, "bad", {"properties": {"policyAssignmentId": asg_id,
                                                            "exemptionCategory": "Waiver",
                                                            "policyDefinitionReferenceIds": ["nope"]}})
        assert exc.value.status_code == 400


def test_plan_compares_versions_with_what_is_deployed_and_shows_the_cascade(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Removing a parameter forces a new definition (Azure refuses it in place), which cascades to the
    initiative and assignment; without a major bump the plan warns at the intent's version line."""
    from tests.azure.deploy_support import TAGGED_WITHOUT_PARAMETER

    root = pack(tmp_path)
    with emulator(monkeypatch):
        s = Session(root)
        assert execute(s.plan(), s.arm).ok
        (root / "definitions/tagged.yaml").write_text(TAGGED_WITHOUT_PARAMETER.replace("    ", "", 1)
                                                      .replace("\n    ", "\n"), encoding="utf-8")
        s.recompile()
        plan = s.plan()
        changes = by_address(plan)
        assert changes["definition.tagged"].is_replace
        assert changes["initiative.base"].is_replace and changes["assignment.mini-base"].is_replace
        assert any("definition tagged: version 1.0.0 (was 1.0.0) needs a major bump" in w and
                   "parameter 'tagName' removed" in w and "compared with what is deployed" in w
                   for w in plan.warnings), plan.warnings
        text = (root / "definitions/tagged.yaml").read_text(encoding="utf-8")
        (root / "definitions/tagged.yaml").write_text(text + "version: 2.0.0\n", encoding="utf-8")
        s.recompile()
        plan = s.plan()
        assert not any("needs a major bump" in w and "definition tagged" in w for w in plan.warnings)


def test_plan_of_the_shipped_pack_shows_the_rollout_stage_and_what_it_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    """policygen.yaml's local environment names an inventory: the stage in force (Deny of public workspaces in
    westeurope, Audit elsewhere) is evaluated on it; the sandbox exemption is planned with the assignment."""
    from tests.azure.deploy_support import REPO

    with emulator(monkeypatch):
        s = Session(REPO)
        plan = s.plan()
    (rollout,) = plan.lifecycle["rollouts"]
    assert rollout["assignment"] == "mlops-prod-baseline" and rollout["stage"] == "westeurope"
    assert rollout["members"] == ["mlw-public-network"] and rollout["locations"] == ["westeurope"]
    # three workspaces in the inventory are in westeurope; two of them allow public network access
    assert rollout["impact"] == {"evaluated": 3, "denied": 2}
    assert by_address(plan)["exemption.sandbox-private-link"].actions == ["create"]


def test_an_exemption_with_resource_selectors_exempts_only_what_they_select(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Exemption structure, "Resource selectors": an exempted deny applies only where a selector holds."""
    selectors = "\n        resourceSelectors: [{name: us, selectors: [{kind: resourceLocation, in: [eastus2]}]}]"
    root = pack(tmp_path, deny=exemption(refs="[no-eastus]") + selectors)
    with emulator(monkeypatch):
        s = Session(root)
        assert execute(s.plan(), s.arm).ok
        client = s.arm.clients.policy(SUB_PROD)
        body = {"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {}}
        url = f"{RG}/providers/Microsoft.Storage/storageAccounts/steastus9?api-version=2023-05-01"
        # the exemption selects eastus2 only: the eastus account is still denied
        assert client.send_request(HttpRequest("PUT", url, json=body)).status_code == 403


def test_a_pinned_assignment_runs_the_newest_version_its_pin_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Assignment structure, "Policy definition ID and version": `1.*.*` keeps running 1.x after 2.0.0 ships;
    without a pin Azure fills in the latest major."""
    from tests.azure.deploy_support import DEV, ROOT

    def rule(location: str) -> dict:
        return {"allOf": [{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                          {"field": "location", "equals": location}]}

    def definition(version: str, location: str) -> dict:
        return {"properties": {"displayName": "storage location", "mode": "Indexed", "version": version,
                               "policyRule": {"if": rule(location), "then": {"effect": "audit"}}}}

    from tests.azure.deploy_support import REPO

    with emulator(monkeypatch):
        s = Session(REPO)
        s.arm.put_definition("definition", ROOT, "pin-test", definition("1.0.0", "eastus"))
        s.arm.put_definition("definition", ROOT, "pin-test", definition("2.0.0", "westeurope"))
        did = f"{ROOT}/providers/Microsoft.Authorization/policyDefinitions/pin-test"
        flagged = {}
        for name, pin in (("pinned", "1.*.*"), ("latest", None)):
            body = {"properties": {"policyDefinitionId": did, **({"definitionVersion": pin} if pin else {})}}
            aid = s.arm.put_assignment(DEV, name, body)["id"]
            states = s.arm.query_states(DEV, aid)
            flagged[name] = sorted(st["resourceId"].rsplit("/", 1)[-1] for st in states
                                   if str(st.get("complianceState")).lower() == "noncompliant")
    assert flagged["pinned"] == ["stmlopsdevus"]  # 1.0.0: eastus
    assert flagged["latest"] == ["stmlopsdev"]  # 2.0.0: westeurope
