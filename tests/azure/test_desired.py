"""Desired state: ids, roles derived through the parameter chain (incl. assignPermissions scopes), the
members a remediation can act on, and assignment names Azure would reject caught at plan time."""

from __future__ import annotations

from pathlib import Path

from policygen.azure.desired import DesiredObject, derive, desired_state
from policygen.azure.target import resolve_target
from policygen.render import compile_pack
from tests.azure.deploy_support import MINI_PACK, PROD, cli, write_pack

CONTRIBUTOR = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
NETWORK = "/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7"
ZONE = "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-hub-dns/providers/" \
       "Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms"
BUILTIN = "/providers/Microsoft.Authorization/policyDefinitions/00000000-1111-2222-3333-444444444444"


def _desired(tmp_path: Path):
    build = compile_pack(write_pack(tmp_path, MINI_PACK), env="local")
    return desired_state(build, resolve_target(build, "local"))


def test_roles_follow_the_resolved_effect(tmp_path: Path) -> None:
    desired = _desired(tmp_path)
    assert derive(desired, lambda _id: None) == []
    [(akey, needs)] = desired.roles.items()
    assert [(n.scope, n.role_guid, n.because) for n in needs] == [
        (PROD, "b24988ac-6180-42a0-ab88-20f7382dd24c", ("ws-private",))]
    assert [(r.reference_id, r.effect) for r in desired.remediations[akey]] == [("ws-private", "modify")]

    # the assignment turns the modify member off: no role, nothing to remediate
    asg = desired.assignments[akey]
    asg.body["properties"]["parameters"] = {"effect-ws-private": {"value": "Disabled"}}
    derive(desired, lambda _id: None)
    assert desired.roles[akey] == [] and desired.remediations[akey] == []


def test_assign_permissions_parameters_add_role_scopes_for_builtin_members(tmp_path: Path) -> None:
    desired = _desired(tmp_path)
    akey, asg = next(iter(desired.assignments.items()))
    builtin = {"properties": {
        "parameters": {"zone": {"type": "String", "metadata": {"assignPermissions": True}},
                       "effect": {"type": "String", "defaultValue": "DeployIfNotExists"}},
        "policyRule": {"if": {}, "then": {"effect": "[parameters('effect')]",
                                          "details": {"roleDefinitionIds": [NETWORK]}}}}}
    init = next(iter(desired.initiatives.values()))
    init.body["properties"]["policyDefinitions"].append(
        {"policyDefinitionId": BUILTIN, "policyDefinitionReferenceId": "dns", "parameters": {"zone": {"value": ZONE}}})
    assert desired.builtin_references() == {BUILTIN}
    derive(desired, lambda i: builtin if i == BUILTIN else None)
    got = {(n.scope, n.role_guid) for n in desired.roles[akey]}
    assert got == {(PROD, "b24988ac-6180-42a0-ab88-20f7382dd24c"), (PROD, "4d97b98b-1d4f-4787-a291-c67834d212e7"),
                   (ZONE, "4d97b98b-1d4f-4787-a291-c67834d212e7")}
    # an unreadable built-in is a warning, not a guess
    assert isinstance(asg, DesiredObject)
    assert derive(desired, lambda _id: None) == []  # members it cannot read are skipped
    assert {(n.scope, n.role_guid) for n in desired.roles[akey]} == {(PROD, "b24988ac-6180-42a0-ab88-20f7382dd24c")}


def test_assignment_names_azure_rejects_fail_the_plan_with_positions(tmp_path: Path) -> None:
    long_name = "mini-baseline-for-production"  # 28 characters at management-group scope
    files = dict(MINI_PACK)
    files["assignments/base.yaml"] = MINI_PACK["assignments/base.yaml"].replace("name: mini-base", f"name: {long_name}")
    pack = write_pack(tmp_path, files)
    result = cli(["plan", str(pack), "--env", "local"])  # fails before any request: no emulator needed
    assert result.exit_code == 2
    assert "base.yaml:1:7: assignment name 'mini-baseline-for-production' is 28 characters" in result.output
