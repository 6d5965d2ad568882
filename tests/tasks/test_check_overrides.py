"""Effect overrides: the first `policyEffect` override whose selectors hold changes the member's effect and
nothing else — the rule and the `details` are the definition's as written
(https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure#overrides; selectors of
kind policyDefinitionReferenceId and resourceLocation). A definition that audits by default and is
overridden to Modify in westeurope therefore modifies with its own `details.operations` there, audits
elsewhere, and leaves the other initiative member alone. Checked through `policygen check` and through the
emulator's resource PUT (azure-mgmt-resource) after `policygen apply`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from policygen.azure.clients import build_clients
from policygen.azure.target import ENDPOINT_ENV
from policygen.cli import run
from policygen.emulator import running_emulator
from tests.azure.deploy_support import cli
from tests.emulator.conftest import RG1, RG2, SUB, tenant_seed

OVERRIDE_PACK = {
    "policygen.yaml": f"""\
name: override-test
ownerId: policygen-override-test
definitionScope: /providers/Microsoft.Management/managementGroups/contoso
environments:
  local:
    cloud: local
    tenantId: 00000000-0000-0000-0000-000000000000
    definitionScope: /providers/Microsoft.Management/managementGroups/contoso
    scopes:
      apps: /subscriptions/{SUB}
""",
    "definitions/st-public.yaml": """\
intent: disable-public-network-access
resourceTypes: [Microsoft.Storage/storageAccounts, Microsoft.KeyVault/vaults]
displayName: "{resourceType} public network access"
description: Audited by default; an assignment override makes it Modify region by region.
effect: {default: Audit, allowed: [Audit, Modify, Disabled]}
""",
    "initiatives/private.yaml": """\
name: private
displayName: Private by default
members:
  - {definition: st-public}          # both fan-outs: st-public-st and st-public-kv
""",
    "assignments/apps-private.yaml": """\
name: apps-private
displayName: Private by default (apps)
description: Storage accounts in westeurope are switched to private on create; elsewhere audited.
initiative: private
scope: apps
identity: {type: SystemAssigned}
overrides:
  - kind: policyEffect
    value: Modify
    selectors:
      - {kind: policyDefinitionReferenceId, in: [st-public-st]}
      - {kind: resourceLocation, in: [westeurope]}
""",
}


def _storage(name: str, location: str) -> dict[str, Any]:
    return {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": name,
            "location": location, "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
            "properties": {"publicNetworkAccess": "Enabled"}}


def _vault(name: str, location: str) -> dict[str, Any]:
    return {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": name, "location": location,
            "properties": {"publicNetworkAccess": "Enabled", "tenantId": "00000000-0000-0000-0000-000000000000",
                           "sku": {"family": "A", "name": "standard"}}}


@pytest.fixture
def pack(make_tree) -> Path:
    return make_tree(OVERRIDE_PACK)


def _outcomes(capsys: pytest.CaptureFixture[str], template: Path, scope: str, *source: str) -> dict[str, dict]:
    capsys.readouterr()
    run(["check", str(template), "--scope", scope, *source, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    return {f"{r['name']}:{f['member']}": f for r in report["resources"] for f in r["findings"]}


def test_override_changes_the_effect_and_keeps_the_definitions_details(pack: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    west = tmp_path / "west.json"
    west.write_text(json.dumps([_storage("stwest", "westeurope"), _vault("kvwest", "westeurope")]))
    north = tmp_path / "north.json"
    north.write_text(json.dumps([_storage("stnorth", "northeurope")]))
    offline = ("--pack", str(pack), "--env", "local", "--management-group", "contoso")
    found = _outcomes(capsys, west, RG1, *offline)
    st = found["stwest:apps-private/st-public-st"]
    assert st["outcome"] == "modified" and st["effect"] == "modify"
    assert st["changes"] == [{"path": "/properties/publicNetworkAccess", "before": "Enabled", "after": "Disabled"}]
    # the reference-id selector keeps the vault member on its own effect
    kv = found["kvwest:apps-private/st-public-kv"]
    assert kv["outcome"] == "audited" and kv["effect"] == "audit"
    found = _outcomes(capsys, north, RG2, *offline)
    assert found["stnorth:apps-private/st-public-st"]["effect"] == "audit"


def test_emulator_put_applies_the_override_like_check(pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    with running_emulator(seed=tenant_seed()) as url:
        monkeypatch.setenv(ENDPOINT_ENV, url)
        result = cli(["apply", str(pack), "--env", "local", "--yes"])
        assert result.exit_code == 0, result.output
        monkeypatch.chdir(tmp_path)
        accounts = build_clients(SUB, endpoint=url, retry_total=0)
        try:
            for rg, name, location in ((RG1, "stwest", "westeurope"), (RG2, "stnorth", "northeurope")):
                template = tmp_path / f"{name}.json"
                template.write_text(json.dumps(_storage(name, location)))
                live = _outcomes(capsys, template, rg, "--env", "local")[f"{name}:apps-private/st-public-st"]
                body = {k: v for k, v in _storage(name, location).items() if k not in ("type", "apiVersion", "name")}
                created = accounts.resources.resources.begin_create_or_update_by_id(
                    f"{rg}/providers/Microsoft.Storage/storageAccounts/{name}", api_version="2023-05-01",
                    parameters=body).result()
                stored = created.properties["publicNetworkAccess"]
                if live["outcome"] == "modified":
                    assert live["changes"][0]["after"] == stored == "Disabled"
                else:
                    assert live["outcome"] == "audited" and stored == "Enabled"
                assert (live["outcome"] == "modified") == (location == "westeurope")
        finally:
            accounts.close()


def test_impact_of_the_assignment_gives_the_same_effects_as_check(pack: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`impact --assignment` over the same resources as an inventory: the effect each runs with is check's."""
    accounts = [(RG1, "stwest", "westeurope"), (RG2, "stnorth", "northeurope")]
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps([
        {**{k: v for k, v in _storage(name, loc).items() if k != "apiVersion"},
         "id": f"{rg}/providers/Microsoft.Storage/storageAccounts/{name}"} for rg, name, loc in accounts]))
    capsys.readouterr()
    run(["impact", str(pack), "--assignment", "apps-private", "--resources", str(inventory), "--env", "local",
         "--format", "json"])
    rows = json.loads(capsys.readouterr().out)["results"]
    impact = {r["resourceId"].rsplit("/", 1)[-1]: r["effect"] for r in rows if r["compliant"] is False}
    checked = {}
    for rg, name, location in accounts:
        template = tmp_path / f"{name}.json"
        template.write_text(json.dumps(_storage(name, location)))
        found = _outcomes(capsys, template, rg, "--pack", str(pack), "--env", "local", "--management-group",
                          "contoso")
        checked[name] = found[f"{name}:apps-private/st-public-st"]["effect"]
    assert impact == checked == {"stwest": "modify", "stnorth": "audit"}


def test_a_pinned_definition_version_is_checked_as_the_put_runs_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`definitionVersion: 1.*.*` runs the newest 1.x version after 2.0.0 exists (assignment structure, "Policy
    definition ID and version"): check --env reads that version, and the emulator's PUT denies by it too."""
    def deny_in(location: str, version: str) -> dict:
        rule = {"allOf": [{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                          {"field": "location", "equals": location}]}
        return {"properties": {"mode": "Indexed", "version": version, "displayName": "regions",
                               "policyRule": {"if": rule, "then": {"effect": "deny"}}}}

    with running_emulator(seed=tenant_seed()) as url:
        monkeypatch.setenv(ENDPOINT_ENV, url)
        monkeypatch.chdir(tmp_path)
        clients = build_clients(SUB, endpoint=url, retry_total=0)
        try:
            ops = clients.policy.policy_definitions
            ops.create_or_update("regions", deny_in("eastus", "1.0.0"))
            definition = ops.create_or_update("regions", deny_in("westeurope", "2.0.0"))
            clients.policy.policy_assignments.create(f"/subscriptions/{SUB}", "pinned", {"properties": {
                "policyDefinitionId": definition.id, "definitionVersion": "1.*.*"}})
            for location, denied in (("westeurope", False), ("eastus", True)):
                name = f"st{location}"
                template = tmp_path / f"{name}.json"
                template.write_text(json.dumps(_storage(name, location)))
                found = _outcomes(capsys, template, RG1, "--env", "local")
                assert (found.get(f"{name}:pinned", {}).get("outcome") == "denied") is denied
                body = {k: v for k, v in _storage(name, location).items() if k not in ("type", "apiVersion", "name")}
                rid = f"{RG1}/providers/Microsoft.Storage/storageAccounts/{name}"

                def put(rid: str = rid, body: dict = body) -> None:
                    clients.resources.resources.begin_create_or_update_by_id(
                        rid, api_version="2023-05-01", parameters=body).result()

                if denied:
                    with pytest.raises(HttpResponseError, match="RequestDisallowedByPolicy"):
                        put()
                else:
                    put()
        finally:
            clients.close()
