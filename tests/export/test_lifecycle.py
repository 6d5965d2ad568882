"""Exports carry the shipped pack's exemption and staged rollout (issue #14).

EPAC exemption files: shared/reference/landing-zone-formats.md section 2.6 (`{"exemptions": [...]}` per
pacSelector); ARM/Bicep: Microsoft.Authorization/policyExemptions as an extension resource at its scope
(https://learn.microsoft.com/azure/templates/microsoft.authorization/policyexemptions); Terraform:
azurerm_<scope>_policy_exemption.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.export.support import rendered

SANDBOX = "/subscriptions/00000000-0000-0000-0000-000000000002"
DEV_ASSIGNMENT = ("/providers/Microsoft.Management/managementGroups/mlops-dev/providers/"
                  "Microsoft.Authorization/policyAssignments/mlops-dev-baseline")


def test_epac_exemption_file_and_assignment_overrides(mlops_pack: Path) -> None:
    files = rendered(mlops_pack, "epac", env="azure")
    (item,) = json.loads(files["policyExemptions/azure/mlops-network-security.json"])["exemptions"]
    assert item["name"] == "sandbox-private-link" and item["scope"] == SANDBOX
    assert item["policyAssignmentId"] == DEV_ASSIGNMENT
    assert item["exemptionCategory"] == "Waiver" and item["expiresOn"].startswith("2030-06-30")
    assert "pacOwnerId" not in (item.get("metadata") or {})  # EPAC stamps it from global-settings
    tree = json.loads(files["policyAssignments/mlops-network-baseline.json"])
    prod = next(c for c in tree["children"] if c["assignment"]["name"] == "mlops-prod-baseline")
    assert prod["overrides"][0]["value"] == "Deny"
    assert {"kind": "resourceLocation", "in": ["westeurope"]} in prod["overrides"][0]["selectors"]


def test_arm_and_bicep_place_the_exemption_after_its_assignment(mlops_pack: Path) -> None:
    template = json.loads(rendered(mlops_pack, "arm", env="azure")["azuredeploy.json"])
    dep = next(r for r in template["resources"] if r["name"] == "policygen-exemption-sandbox-private-link")
    assert dep["subscriptionId"] == SANDBOX.rsplit("/", 1)[-1]
    assert dep["dependsOn"] == ["policygen-mlops-dev-baseline"]
    (ex,) = dep["properties"]["template"]["resources"]
    assert ex["type"] == "Microsoft.Authorization/policyExemptions"
    assert ex["properties"]["policyDefinitionReferenceIds"] == ["mlw-private-link", "mlw-private-endpoint"]
    prod = next(r for r in template["resources"] if r["name"] == "policygen-mlops-prod-baseline")
    assert prod["properties"]["template"]["resources"][0]["properties"]["overrides"][0]["value"] == "Deny"
    bicep = rendered(mlops_pack, "bicep", env="azure")
    assert "modules/exemption-subscription.bicep" in bicep
    assert "loadJsonContent('exemptions/sandbox-private-link.json')" in bicep["main.bicep"]


def test_terraform_exemption_and_unexpressible_override_is_named(mlops_pack: Path) -> None:
    files = rendered(mlops_pack, "terraform", env="azure")
    assert 'resource "azurerm_subscription_policy_exemption" "this"' in files["main.tf"]
    assert '"sandbox-private-link" = {' in files["locals.tf"]
    # the region-scoped rollout override cannot be an azurerm override selector: named, never widened
    assert "# policygen: not expressible in azurerm (the member keeps its parameter's effect): mlops-prod-baseline" \
        in files["locals.tf"]
    assert 'dynamic "overrides"' in files["main.tf"]


def test_docs_list_exemptions_with_expiry_and_the_rollout_stage(mlops_pack: Path) -> None:
    from policygen.export import compile_for_export
    from policygen.export.docs import render_docs

    docs = render_docs(compile_for_export(mlops_pack, "azure"))
    dev = docs["assignments/mlops-dev-baseline.md"]
    assert "## Exemptions" in dev and "`sandbox-private-link`" in dev and "2030-06-30" in dev
    prod = docs["assignments/mlops-prod-baseline.md"]
    assert "## Rollout" in prod and "Stage 2 of 3" in prod
