"""Planning: the diff (create/update/replace/delete/no-op), replace cascades, ownership strategies, the plan
file and staleness, against the emulator through the real SDK clients (diff rules also on plain data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policygen.azure.apply import build_graph, execute
from policygen.azure.diff import compare, project, replace_reasons
from policygen.azure.plan import FORMAT_VERSION, Plan, PlanError, StalePlanError, ensure_not_stale
from policygen.azure.workflow import refresh
from tests.azure.deploy_support import (
    MINI_PACK,
    PROD,
    REPO,
    ROOT,
    TAGGED_WITHOUT_PARAMETER,
    Session,
    emulator,
    write_pack,
)

EXTRA = """
    intent: custom
    name: extra
    displayName: Not in any initiative
    settings:
      if: {field: type, equals: Microsoft.KeyVault/vaults}
"""

# --------------------------------------------------------------------------- diff rules on plain data


def test_projection_ignores_server_fields_and_case() -> None:
    desired = {"location": "westeurope", "identity": {"type": "SystemAssigned"},
               "properties": {"policyDefinitionId": "/providers/X/policySetDefinitions/A", "notScopes": [],
                              "metadata": {"pacOwnerId": "o"}, "parameters": {}}}
    served = {"id": "/x", "name": "a", "location": "West Europe",
              "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
              "properties": {"policyDefinitionId": "/providers/x/policysetdefinitions/a", "scope": "/s",
                             "instanceId": "i", "metadata": {"pacOwnerId": "o", "createdOn": "now", "createdBy": "me"},
                             "enforcementMode": None}}
    assert project("assignment", served) == project("assignment", desired)
    assert compare("assignment", served, desired) == []


def test_field_diffs_name_the_changed_paths() -> None:
    before = {"properties": {"displayName": "A", "parameters": {"p": {"type": "String"}}}}
    after = {"properties": {"displayName": "B", "parameters": {"p": {"type": "String"}, "q": {"type": "Integer",
                                                                                           "defaultValue": 1}}}}
    diffs = {d.path: (d.before, d.after) for d in compare("definition", before, after)}
    assert diffs == {"properties.displayName": ("A", "B"),
                     "properties.parameters.q": ("(absent)", {"type": "Integer", "defaultValue": 1})}
    assert replace_reasons("definition", before, after) == []


@pytest.mark.parametrize(("before", "after", "token"), [
    ({"p": {"type": "String"}}, {}, "parameter_removed"),
    ({"p": {"type": "String"}}, {"p": {"type": "Array"}}, "parameter_type_changed"),
    ({}, {"q": {"type": "String"}}, "parameter_added_without_default"),
])
def test_incompatible_parameter_changes_force_replace(before: dict, after: dict, token: str) -> None:
    reasons = replace_reasons("definition", {"properties": {"parameters": before}}, {"properties": {"parameters": after}})
    assert [t for t, _ in reasons] == [token]


def test_identity_location_change_forces_replace() -> None:
    a = {"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {}}
    b = {"location": "northeurope", "identity": {"type": "SystemAssigned"}, "properties": {}}
    assert [t for t, _ in replace_reasons("assignment", a, b)] == ["identity_location_changed"]
    assert replace_reasons("assignment", a, {**a, "location": "West Europe"}) == []


# --------------------------------------------------------------------------- against the emulator


def test_fresh_plan_of_the_mlops_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch):
        s = Session(REPO)
        plan = s.plan()
    counts = plan.summary()
    objects = len(s.build.definitions) + len(s.build.initiatives) + len(s.build.assignments) + \
        len(s.build.exemptions)
    roles = [c for c in plan.changes if c.kind == "role_assignment"]
    assert counts["add"] == objects + len(roles) and counts["change"] == counts["destroy"] == 0
    assert all(c.actions == ["create"] for c in plan.changes)
    # new identities: the principal is only known after apply, and the name is derived then
    assert roles and all(c.after["properties"]["principalId"] is None for c in roles)
    assert all(c.after["properties"]["principalType"] == "ServicePrincipal" for c in roles)
    assert plan.remediations and all(t.effect in ("deployifnotexists", "modify") for t in plan.remediations)
    # list calls per scope and kind, never a GET per object
    assert plan.prior["list_calls"] <= 10


def test_update_replace_cascade_and_owned_delete(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path, {**MINI_PACK, "definitions/extra.yaml": EXTRA})
    with emulator(monkeypatch):
        s = Session(pack)
        assert execute(s.plan(), s.arm).ok
        assert not s.plan().has_changes
        principal_before = s.arm.list_assignments(PROD)[0]["identity"]["principalId"]

        # update in place: a display name
        (pack / "initiatives/base.yaml").write_text(
            (pack / "initiatives/base.yaml").read_text().replace("Mini baseline", "Mini baseline v2"))
        # replace: a parameter removed from a definition -> initiative -> assignment -> its role assignment
        (pack / "definitions/tagged.yaml").write_text(TAGGED_WITHOUT_PARAMETER.replace("\n    ", "\n").lstrip())
        s.recompile()
        plan = s.plan()
        by = plan.by_address()
        assert by["definition.tagged"].actions == ["delete", "create"]
        assert by["definition.tagged"].action_reason == "replace_because_parameter_removed"
        assert by["initiative.base"].actions == ["delete", "create"]
        assert "tagged" in by["initiative.base"].reason
        assert by["assignment.mini-base"].actions == ["delete", "create"]
        assert by["definition.ws-private"].actions == ["no-op"]
        role = by["role_assignment.mini-base.Contributor"]
        assert role.actions == ["delete", "create"] and role.before["properties"]["principalId"] == principal_before
        assert plan.summary()["replace"] == 4

        result = execute(plan, s.arm)
        assert result.ok, [r.error for r in result.results if not r.ok]
        assert not s.plan().has_changes
        assigned = s.arm.list_assignments(PROD)
        assert len(assigned) == 1 and assigned[0]["identity"]["principalId"] != principal_before
        granted = s.arm.list_role_assignments(PROD)
        assert [r["properties"]["principalId"] for r in granted] == [assigned[0]["identity"]["principalId"]]

        # an in-place update (a display name) and an owned delete (a definition that left the pack)
        (pack / "definitions/ws-private.yaml").write_text(
            (pack / "definitions/ws-private.yaml").read_text().replace("disable public", "must disable public"))
        (pack / "definitions/extra.yaml").unlink()
        s.recompile()
        plan = s.plan()
        by = plan.by_address()
        assert by["definition.ws-private"].actions == ["update"]
        assert [d.path for d in by["definition.ws-private"].diff] == ["properties.displayName"]
        assert by["definition.extra"].actions == ["delete"] and by["definition.extra"].owner == "thisPaC"
        assert plan.summary() == {"add": 0, "change": 1, "destroy": 1, "replace": 0, "no_op": 4, "remediate": 0}
        assert execute(plan, s.arm).ok
        assert {d["name"] for d in s.arm.list_definitions("definition", ROOT)} == {"tagged", "ws-private"}
        assert not s.plan().has_changes


def test_removing_a_member_replaces_initiative_and_orders_the_delete(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    pack = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch) as url:
        s = Session(pack)
        assert execute(s.plan(), s.arm).ok
        (pack / "initiatives/base.yaml").write_text(
            (pack / "initiatives/base.yaml").read_text().replace("  - {definition: tagged}\n", ""))
        (pack / "definitions/tagged.yaml").unlink()
        s.recompile()
        plan = s.plan()
        by = plan.by_address()
        # the initiative loses its effect-tagged parameter: Azure cannot update that in place
        assert by["initiative.base"].actions == ["delete", "create"]
        assert by["definition.tagged"].actions == ["delete"]
        ops = build_graph(plan)
        assert "delete:initiative.base" in ops["delete:definition.tagged"].deps
        assert "delete:assignment.mini-base" in ops["delete:initiative.base"].deps
        since = len(url.requests)
        assert execute(plan, s.arm).ok
        order = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in url.requests[since:] if r["method"] != "GET"]
        assert order.index(("DELETE", "mini-base")) < order.index(("DELETE", "base")) < order.index(("DELETE", "tagged"))
        assert order.index(("DELETE", "base")) < order.index(("PUT", "base")) < order.index(("PUT", "mini-base"))
        assert not s.plan().has_changes


def test_unowned_objects_are_left_alone_under_owned_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch):
        s = Session(pack)
        rule = {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"}, "then": {"effect": "audit"}}
        s.arm.put_definition("definition", ROOT, "hand-made", {"properties": {"displayName": "by hand", "mode": "All",
                                                                              "policyRule": rule}})
        s.arm.put_definition("definition", ROOT, "other-pack", {"properties": {
            "displayName": "another pack's", "mode": "All", "policyRule": rule, "metadata": {"pacOwnerId": "someone"}}})
        plan = s.plan()
        left = {u.id.rsplit("/", 1)[-1]: u.owner for u in plan.unmanaged}
        assert left == {"hand-made": "unknownOwner", "other-pack": "otherPaC"}
        assert not [c for c in plan.changes if c.actions == ["delete"]]
        assert execute(plan, s.arm).ok
        names = {d["name"] for d in s.arm.list_definitions("definition", ROOT)}
        assert {"hand-made", "other-pack", "tagged", "ws-private"} <= names

        # strategy full: unowned custom objects go too, another owner's never
        (pack / "policygen.yaml").write_text((pack / "policygen.yaml").read_text().replace("ownedOnly", "full"))
        s.recompile()
        s.target = type(s.target)(**{**s.target.__dict__, "strategy": "full"})
        plan = s.plan()
        deletes = [c.name for c in plan.changes if c.actions == ["delete"]]
        assert deletes == ["hand-made"]
        assert [u.id.rsplit("/", 1)[-1] for u in plan.unmanaged] == ["other-pack"]


def test_another_owners_object_with_our_name_is_a_conflict(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch):
        s = Session(pack)
        rule = {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"}, "then": {"effect": "audit"}}
        s.arm.put_definition("definition", ROOT, "tagged", {"properties": {
            "displayName": "x", "mode": "All", "policyRule": rule, "metadata": {"pacOwnerId": "someone"}}})
        with pytest.raises(PlanError, match="belongs to another owner"):
            s.plan()


def test_identity_location_change_replaces_the_assignment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch):
        s = Session(pack)
        assert execute(s.plan(), s.arm).ok
        (pack / "policygen.yaml").write_text((pack / "policygen.yaml").read_text().replace(
            "identityLocation: westeurope", "identityLocation: northeurope"))
        s.recompile()
        plan = s.plan()
        change = plan.by_address()["assignment.mini-base"]
        assert change.actions == ["delete", "create"]
        assert change.action_reason == "replace_because_identity_location_changed"
        assert [t.reason for t in plan.remediations] == ["assignment replaced"]
        assert execute(plan, s.arm).ok
        assert s.arm.list_assignments(PROD)[0]["location"] == "northeurope"
        assert not s.plan().has_changes


def test_saved_plan_round_trip_and_staleness(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack", MINI_PACK)
    with emulator(monkeypatch):
        s = Session(pack)
        plan = s.plan()
        path = tmp_path / "plan.json"
        plan.write(path)
        data = json.loads(path.read_text())
        assert data["format_version"] == FORMAT_VERSION
        assert data["summary"] == plan.summary()
        first = data["resource_changes"][0]
        assert {"address", "actions", "before", "after", "before_etag"} <= set(first)
        loaded = Plan.read(path)
        assert [c.address for c in loaded.changes] == [c.address for c in plan.changes]
        ensure_not_stale(loaded, refresh(loaded, s.arm))

        # someone creates one of the planned objects in the meantime: the plan no longer describes Azure
        s.arm.put_definition("definition", ROOT, "tagged", {"properties": {"displayName": "x", "mode": "All",
                             "policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "audit"}}}})
        with pytest.raises(StalePlanError, match="definition.tagged"):
            ensure_not_stale(loaded, refresh(loaded, s.arm))

    data["format_version"] = "2.0"
    path.write_text(json.dumps(data))
    with pytest.raises(PlanError, match="unsupported plan format_version"):
        Plan.read(path)


def test_a_definition_still_used_by_someone_else_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path, {**MINI_PACK, "definitions/extra.yaml": EXTRA})
    with emulator(monkeypatch):
        s = Session(pack)
        assert execute(s.plan(), s.arm).ok
        extra = s.build.definition_id("definition", "extra")
        s.arm.put_assignment(PROD, "by-hand", {"properties": {"policyDefinitionId": extra, "displayName": "x"}})
        (pack / "definitions/extra.yaml").unlink()
        s.recompile()
        plan = s.plan()
        assert "definition.extra" not in plan.by_address()
        assert any("definition.extra is no longer in the pack" in w for w in plan.warnings)
        assert execute(plan, s.arm).ok
