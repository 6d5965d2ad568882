"""One answer through three routes: `policygen check` (pack offline, or the live environment), the emulator's
checkPolicyRestrictions (azure-mgmt-policyinsights) and its resource PUT (azure-mgmt-resource), all over
real HTTP with the real SDK clients, after `policygen apply` put the shipped pack into the emulator.

Encoded behaviour: a deny refuses the PUT with 403 RequestDisallowedByPolicy and the assignment's
non-compliance message (https://learn.microsoft.com/azure/governance/policy/concepts/effect-deny,
https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure#non-compliance-messages);
modify runs before deny and changes the request, so a deny on the field it sets no longer triggers
(https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics#order-of-evaluation);
checkPolicyRestrictions' policyEvaluations say whether the content "will be denied as-is"
(https://learn.microsoft.com/rest/api/policyinsights/policy-restrictions/check-at-resource-group-scope).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.policyinsights.models import CheckRestrictionsRequest, CheckRestrictionsResourceDetails

from policygen.azure.clients import build_clients
from policygen.cli import run
from tests.azure.deploy_support import REPO, SUB_PROD, cli, emulator

RG = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-team"
DEV_SUB = "00000000-0000-0000-0000-000000000002"
WS_TYPE = "Microsoft.MachineLearningServices/workspaces"
API = "2024-04-01"


def _workspace(name: str, *, hardened: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"publicNetworkAccess": "Enabled"}
    if hardened:  # customer-managed key and an approved-outbound managed network: only the modify remains
        props.update(encryption={"status": "Enabled"}, managedNetwork={"isolationMode": "AllowOnlyApprovedOutbound"})
    return {"type": WS_TYPE, "apiVersion": API, "name": name, "location": "westeurope",
            "identity": {"type": "SystemAssigned"}, "properties": props}


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo tenant in an emulator, the shipped pack applied to it, and the application team's group."""
    with pytest.MonkeyPatch.context() as mp, emulator(mp) as url:
        result = cli(["apply", str(REPO), "--env", "local", "--yes"])
        assert result.exit_code == 0, result.output
        clients = build_clients(SUB_PROD, endpoint=url, retry_total=0)
        clients.resources.resource_groups.create_or_update("rg-team", {"location": "westeurope"})
        mp.chdir(tmp_path_factory.mktemp("app-repo"))  # an application team's repository: no pack here
        clients.url = url  # type: ignore[attr-defined]  # for the tests that inject faults
        yield clients
        clients.close()


def _check(capsys: pytest.CaptureFixture[str], path: Path, *source: str, scope: str = RG) -> dict:
    capsys.readouterr()
    code = run(["check", str(path), "--scope", scope, *source, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == (1 if report["denied"] else 0)
    return report


def _verdicts(report: dict) -> set[tuple[str, str]]:
    return {(f["member"], f["outcome"]) for r in report["resources"] for f in r["findings"]}


def _restrictions(clients: Any, body: dict) -> set[tuple[str, str]]:
    """(member, denied|audited) from policyEvaluations: the typed SDK call (whose model predates
    includeAuditEffect) lists what denies; the same client's pipeline with includeAuditEffect adds the audits."""
    content = {k: v for k, v in body.items() if k != "apiVersion"}
    request = CheckRestrictionsRequest(
        resource_details=CheckRestrictionsResourceDetails(resource_content=content, api_version=API))
    result = clients.insights.policy_restrictions.check_at_resource_group_scope("rg-team", request)
    denied = {_member(e.policy_info.policy_assignment_id, e.policy_info.policy_definition_reference_id)
              for e in result.content_evaluation_result.policy_evaluations if e.evaluation_result == "NonCompliant"}
    raw = HttpRequest("POST", f"{RG}/providers/Microsoft.PolicyInsights/checkPolicyRestrictions",
                      params={"api-version": "2022-03-01"},
                      json={"resourceDetails": {"resourceContent": content, "apiVersion": API},
                            "includeAuditEffect": True})
    reply = clients.policy.send_request(raw)  # the policy client's pipeline, as policygen.azure.exemptions uses
    reply.raise_for_status()
    listed = {(_member(e["policyInfo"]["policyAssignmentId"], e["policyInfo"]["policyDefinitionReferenceId"]),
               e["effectDetails"]["policyEffect"]) for e in reply.json()["contentEvaluationResult"]["policyEvaluations"]}
    assert {m for m, effect in listed if effect == "Deny"} == denied
    return {(m, "denied") for m in denied} | {(m, "audited") for m, effect in listed if effect != "Deny"}


def _member(assignment_id: str, reference_id: str | None) -> str:
    name = assignment_id.rsplit("/", 1)[-1]
    return f"{name}/{reference_id}" if reference_id else name


def _put(clients: Any, body: dict) -> Any:
    rid = f"{RG}/providers/{WS_TYPE}/{body['name']}"
    payload = {k: v for k, v in body.items() if k not in ("type", "apiVersion", "name")}
    return clients.resources.resources.begin_create_or_update_by_id(rid, api_version=API,
                                                                    parameters=payload).result()


def test_public_workspace_same_answer_through_check_restrictions_and_put(applied: Any, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    body = _workspace("mlw-public", hardened=False)
    template = tmp_path / "ws.json"
    template.write_text(json.dumps(body, indent=2))
    offline = _check(capsys, template, "--pack", str(REPO), "--env", "local")
    live = _check(capsys, template, "--env", "local")
    assert live["source"] == "environment local" and offline["source"] == "pack"
    assert _verdicts(live) == _verdicts(offline)
    assert live["scopes"] == offline["scopes"]
    denied = {m for m, o in _verdicts(live) if o == "denied"}
    assert denied == {"mlops-prod-baseline/mlw-cmk", "mlops-prod-baseline/mlw-managed-network"}
    # modify switches public access off before deny runs: the public-network deny does not trigger
    assert ("mlops-prod-remediation/mlw-public-network-modify", "modified") in _verdicts(live)
    assert not any(m == "mlops-prod-baseline/mlw-public-network" for m, _ in _verdicts(live))

    restricted = _restrictions(applied, body)
    assert {v for v in restricted if v[1] == "denied"} == {(m, "denied") for m in denied}
    audited = {(f["member"], "audited") for r in live["resources"] for f in r["findings"]
               if f["outcome"] == "audited" and f["effect"] in ("audit", "auditifnotexists")}
    assert {v for v in restricted if v[1] == "audited"} == audited

    with pytest.raises(HttpResponseError) as refused:
        _put(applied, body)
    assert refused.value.status_code == 403 and refused.value.error.code == "RequestDisallowedByPolicy"
    message = next(f["message"] for r in live["resources"] for f in r["findings"]
                   if f["member"] == "mlops-prod-baseline/mlw-cmk")
    assert f"Reasons: '{message}'" in refused.value.message


def test_hardened_workspace_is_modified_the_same_way_by_check_and_put(applied: Any, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    body = _workspace("mlw-hardened", hardened=True)
    template = tmp_path / "ws.json"
    template.write_text(json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                                               "deploymentTemplate.json#", "contentVersion": "1.0.0.0",
                                    "resources": [body]}, indent=2))
    live = _check(capsys, template, "--env", "local")
    assert _verdicts(live) == _verdicts(_check(capsys, template, "--pack", str(REPO), "--env", "local"))
    assert live["denied"] is False
    (modify,) = [f for r in live["resources"] for f in r["findings"] if f["outcome"] == "modified"]
    assert modify["changes"] == [{"path": "/properties/publicNetworkAccess", "before": "Enabled",
                                  "after": "Disabled"}]
    assert not {v for v in _restrictions(applied, body) if v[1] == "denied"}
    created = _put(applied, body)
    assert created.properties["publicNetworkAccess"] == "Disabled"


def test_dev_subscription_audits_and_exempts_alike(applied: Any, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "ws.json"
    template.write_text(json.dumps(_workspace("mlw-dev", hardened=False), indent=2))
    scope = f"/subscriptions/{DEV_SUB}/resourceGroups/rg-team"
    live = _check(capsys, template, "--env", "local", scope=scope)
    offline = _check(capsys, template, "--pack", str(REPO), "--env", "local", scope=scope)
    assert _verdicts(live) == _verdicts(offline)
    outcomes = {o for _, o in _verdicts(live)}
    assert "exempt" in outcomes and "denied" not in outcomes


def test_live_check_needs_a_known_environment(applied: Any, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "ws.json"
    template.write_text(json.dumps(_workspace("mlw", hardened=False)))
    assert run(["check", str(template), "--scope", RG, "--env", "nowhere"]) == 2
    assert "neither an environment of ./policygen.yaml nor a cloud" in capsys.readouterr().err
    assert run(["check", str(template), "--scope", RG]) == 2
    assert "--env NAME" in capsys.readouterr().err


def test_nested_deployment_into_another_subscription_meets_that_subscriptions_assignments(
        applied: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A nested deployment (https://learn.microsoft.com/azure/azure-resource-manager/templates/deploy-to-resource-group#deploy-to-multiple-resource-groups)
    places its workspace in the dev subscription: the live check reads dev's assignments for it (audit, the
    sandbox exemption), prod's for the outer one (deny), as the pack does."""
    nested = {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "to-dev",
              "subscriptionId": DEV_SUB, "resourceGroup": "rg-team",
              "properties": {"mode": "Incremental", "template": {
                  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                  "contentVersion": "1.0.0.0", "resources": [_workspace("mlw-dev", hardened=False)]}}}
    template = tmp_path / "two.json"
    template.write_text(json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "resources": [_workspace("mlw-prod", hardened=False), nested]}, indent=2))
    live = _check(capsys, template, "--env", "local")
    assert _verdicts(live) == _verdicts(_check(capsys, template, "--pack", str(REPO), "--env", "local"))
    by_name = {r["name"]: {f["outcome"] for f in r["findings"]} for r in live["resources"]}
    assert "denied" in by_name["mlw-prod"]
    assert "denied" not in by_name["mlw-dev"] and "exempt" in by_name["mlw-dev"]
    dev = next(r for r in live["resources"] if r["name"] == "mlw-dev")
    assert dev["id"].startswith(f"/subscriptions/{DEV_SUB}/resourceGroups/rg-team/")
    assert {f["assignment"] for f in dev["findings"]} == {"mlops-dev-baseline"}


def test_a_subscription_reader_gets_the_same_verdicts_without_the_management_group_hierarchy(
        applied: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Reader on the subscription only: the management-group entities answer 403, yet `atScope()` at the
    resource group lists what applies from every group above it
    (https://learn.microsoft.com/rest/api/policy/policy-assignments/list-for-resource-group), so the
    verdicts are those of the pack."""
    template = tmp_path / "ws.json"
    template.write_text(json.dumps(_workspace("mlw-reader", hardened=False), indent=2))
    offline = _check(capsys, template, "--pack", str(REPO), "--env", "local")
    applied.url.set_faults(inject=[{"path": "getEntities", "status": 403, "code": "AuthorizationFailed",
                                    "count": 1000}])
    try:
        live = _check(capsys, template, "--env", "local")
    finally:
        applied.url.clear_faults()
    assert _verdicts(live) == _verdicts(offline)
    assert "/providers/Microsoft.Management/managementGroups/mlops-prod" in live["scopes"]
    assert any("getEntities" in r["path"] and r["status"] == 403 for r in applied.url.requests)
