"""`policygen import` from Azure: the emulator over HTTP with the real SDK clients (the read `plan` uses).

Ownership follows EPAC's owner classes (https://azure.github.io/enterprise-azure-policy-as-code/ —
pacOwnerId, desired state strategy): markers are kept; `--adopt` shows each adoption in the plan.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.azure.deploy_support import REPO, cli, emulator

DEV = "/providers/Microsoft.Management/managementGroups/mlops-dev"


def post_faults(url: str, faults: dict) -> None:
    req = urllib.request.Request(f"{url}/_admin/faults", data=json.dumps(faults).encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as reply:
        assert reply.status == 200


def test_a_scope_the_credential_cannot_read_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with emulator(monkeypatch) as url:
        post_faults(url, {"inject": [{"path": "managementGroups/mlops-dev/providers/Microsoft.Authorization/"
                                      "policyAssignments", "method": "GET", "status": 403,
                                      "code": "AuthorizationFailed", "count": 100}]})
        result = cli(["import", str(REPO), "--env", "local", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"cannot read policy assignments at {DEV}" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_markers_are_kept_and_adopt_shows_every_adoption(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with emulator(monkeypatch):
        assert cli(["apply", str(REPO), "--env", "local", "--yes"]).exit_code == 0
        kept, adopted = tmp_path / "kept", tmp_path / "adopted"
        assert cli(["import", str(REPO), "--env", "local", "--out", str(kept), "--owner-id", "team-b"]).exit_code == 0
        plan = cli(["plan", str(kept), "--env", "local", "--detailed-exitcode"])
        assert plan.exit_code == 0 and "No changes" in plan.output  # another owner's objects, markers kept

        result = cli(["import", str(REPO), "--env", "local", "--out", str(adopted), "--owner-id", "team-b",
                      "--adopt"])
        assert result.exit_code == 0 and "adopted (policygen becomes the owner on the next apply): 39" in result.output
        data = yaml.safe_load((adopted / "definitions" / "mlw-cmk.yaml").read_text(encoding="utf-8"))
        assert data["metadata"]["adoptedFrom"] == "policygen-mlops-network-security"
        out = tmp_path / "plan.json"
        assert cli(["plan", str(adopted), "--env", "local", "--out", str(out)]).exit_code == 0
        changes = json.loads(out.read_text(encoding="utf-8"))["resource_changes"]
        policy = [c for c in changes if c["kind"] != "role_assignment"]
        assert len(policy) == 39  # 33 definitions, 2 initiatives, 3 assignments, 1 exemption
        assert {c["action_reason"] for c in policy} == {"update_adopts_from_other_owner"}
        assert all(c["actions"] == ["update"] for c in policy)


def test_a_definition_authored_with_lower_case_types_round_trips_with_no_changes(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """ARM reads parameter types case-insensitively; the ALZ library writes `"type": "string"`
    (Azure-Landing-Zones-Library platform/alz/policy_definitions/*.alz_policy_definition.json). The import keeps
    the case read, and plan compares types without case (Azure may answer `String` for `string`)."""
    from tests.azure.deploy_support import Session

    body = {"properties": {
        "mode": "All", "displayName": "Allowed SKUs", "metadata": {"category": "General", "version": "1.0.0"},
        "parameters": {
            "effect": {"type": "string", "allowedValues": ["Audit", "Deny"], "defaultValue": "Audit"},
            "skus": {"type": "array", "defaultValue": ["Standard_LRS"], "metadata": {"displayName": "SKUs"}}},
        "policyRule": {"if": {"allOf": [{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                                        {"not": {"field": "Microsoft.Storage/storageAccounts/sku.name",
                                                 "in": "[parameters('skus')]"}}]},
                       "then": {"effect": "[parameters('effect')]"}}}}
    with emulator(monkeypatch):
        assert cli(["apply", str(REPO), "--env", "local", "--yes"]).exit_code == 0
        session = Session()
        try:
            session.arm.clients.policy().policy_definitions.create_or_update_at_management_group(
                "contoso", "allowed-skus", body)
        finally:
            session.arm.clients.close()
        out = tmp_path / "imported"
        assert cli(["import", str(REPO), "--env", "local", "--out", str(out)]).exit_code == 0
        data = yaml.safe_load((out / "definitions" / "allowed-skus.yaml").read_text(encoding="utf-8"))
        assert {p: s["type"] for p, s in data["parameters"].items()} == {"effect": "string", "skus": "array"}
        plan = cli(["plan", str(out), "--env", "local", "--detailed-exitcode"])
        assert plan.exit_code == 0, plan.output
        assert "No changes" in plan.output


def test_plan_compares_parameter_types_without_case_and_no_description_as_empty() -> None:
    from policygen.azure.diff import compare

    def body(ptype: str) -> dict:
        return {"properties": {"displayName": "D", "parameters": {"p": {"type": ptype, "defaultValue": "x"}}}}

    assert compare("definition", body("String"), body("string")) == []
    assert [d.path for d in compare("definition", body("String"), body("Array"))] == ["properties.parameters.p.type"]
    described = body("String")
    described["properties"]["description"] = ""  # an intent without a description; Azure holds none
    assert compare("definition", body("String"), described) == []
