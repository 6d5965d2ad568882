"""Terraform export: golden files, `terraform fmt` clean, and the data decodes back to the build."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from policygen.export.common import remediation_tasks, role_definition_ids
from policygen.render import compile_pack
from tests.export.support import check_golden, exported, rendered
from tests.export.test_hcl import needs_terraform, terraform_eval, terraform_fmt


def test_golden(fixture_pack: Path) -> None:
    check_golden("terraform", rendered(fixture_pack, "terraform", env="azure"))


@needs_terraform
def test_every_file_is_terraform_fmt_clean(fixture_pack: Path, mlops_pack: Path) -> None:
    for pack in (fixture_pack, mlops_pack):
        for rel, text in rendered(pack, "terraform", env="azure").items():
            assert terraform_fmt(text) == text, rel


@needs_terraform
def test_locals_decode_to_the_build(mlops_pack: Path, fixture_pack: Path, tmp_path: Path) -> None:
    for i, pack in enumerate((mlops_pack, fixture_pack)):
        out = tmp_path / f"tf{i}"
        exported(pack, "terraform", out, env="azure")
        data_only = tmp_path / f"data{i}"  # what terraform console can evaluate without the azurerm provider
        data_only.mkdir()
        for name in ("locals.tf", "variables.tf"):
            shutil.copy(out / name, data_only / name)
        got = terraform_eval(data_only, "{ d = local.policy_definitions, s = local.policy_set_definitions, "
                                        "a = local.policy_assignments, r = local.policy_remediations }")
        build = compile_pack(pack, "azure")
        for name, art in build.definitions.items():
            p = art.properties
            assert got["d"][name] == {"display_name": p["displayName"], "description": p["description"],
                                      "mode": p["mode"], "metadata": p["metadata"], "parameters": p["parameters"],
                                      "policy_rule": p["policyRule"]}
        for name, art in build.initiatives.items():
            members = got["s"][name]["members"]
            assert [m["parameter_values"] for m in members] == \
                [m.get("parameters") or {} for m in art.properties["policyDefinitions"]]
            assert [m["policy"].rsplit("/", 1)[-1] for m in members] == \
                [m["policyDefinitionId"].rsplit("/", 1)[-1] for m in art.properties["policyDefinitions"]]
            assert got["s"][name]["parameters"] == art.properties["parameters"]
        for name, art in build.assignments.items():
            a = got["a"][name]
            assert a["scope"] == art.scope, "scope keys resolve through var.assignment_scopes"
            assert a["parameters"] == art.properties["parameters"]
            assert a["role_definition_ids"] == role_definition_ids(build, art)
            assert a["enforce"] == (art.properties["enforcementMode"] == "Default")
        tasks = [t for art in build.assignments.values() for t in remediation_tasks(build, art)]
        assert sorted(got["r"]) == sorted(t.name for t in tasks)


def test_assignment_and_remediation_resources_per_scope_kind(fixture_pack: Path) -> None:
    files = rendered(fixture_pack, "terraform", env="azure")
    main = files["main.tf"]
    for resource in ("azurerm_policy_definition", "azurerm_policy_set_definition",
                     "azurerm_management_group_policy_assignment", "azurerm_subscription_policy_assignment",
                     "azurerm_resource_group_policy_assignment", "azurerm_role_assignment",
                     "azurerm_management_group_policy_remediation", "azurerm_resource_group_policy_remediation"):
        assert f'resource "{resource}"' in main
    locals_tf = files["locals.tf"]
    for kind in ("managementGroup", "subscription", "resourceGroup"):
        assert re.search(rf'scope_type += "{kind}"', locals_tf)
    assert '"guardrails-prod-st-public-network-modify" = {' in locals_tf
    assert 'resource_discovery_mode = "ReEvaluateCompliance"' in locals_tf
    assert "provider \"azurerm\"" not in "".join(files.values()), "the landing zone configures the provider"
    assert '"$${env}' in locals_tf or "$${" in locals_tf, "template sequences in policy text are escaped"


@needs_terraform
def test_for_each_expressions_select_what_the_build_says(fixture_pack: Path, tmp_path: Path) -> None:
    """The data-only parts of main.tf (role assignment keys, per-scope filters) evaluated by terraform."""
    from policygen.export.terraform import MAIN_TF

    out = tmp_path / "tf"
    exported(fixture_pack, "terraform", out, env="azure")
    data_only = tmp_path / "data"
    data_only.mkdir()
    for name in ("locals.tf", "variables.tf"):
        shutil.copy(out / name, data_only / name)
    start = MAIN_TF.index("  policy_role_assignments = ")
    (data_only / "roles.tf").write_text("locals {\n" + MAIN_TF[start:MAIN_TF.index("\n}\n", start)] + "\n}\n")
    build = compile_pack(fixture_pack, "azure")
    expected = sorted(f"{n}/{r.rsplit('/', 1)[-1]}" for n, a in build.assignments.items()
                      for r in role_definition_ids(build, a))
    roles = terraform_eval(data_only, "local.policy_role_assignments")
    assert sorted(roles) == expected
    contributor = "/providers/Microsoft.Authorization/roleDefinitions/17d1049b-9a84-46fb-8f53-869881c3d3ab"
    assert roles[f"guardrails-prod/{contributor.rsplit('/', 1)[-1]}"]["role_definition_id"] == contributor
    assert roles[f"st-rg-modify/{contributor.rsplit('/', 1)[-1]}"]["role_definition_id"] == \
        "/subscriptions/33333333-3333-3333-3333-333333333333" + contributor, "subscription form below management groups"
    files = rendered(fixture_pack, "terraform", env="azure")
    for kind, names in (("managementGroup", ["guardrails-prod"]), ("subscription", ["tag-sub"]),
                        ("resourceGroup", ["st-rg-modify"])):
        filt = f'{{ for k, v in local.policy_assignments : k => v if v.scope_type == "{kind}" }}'
        assert filt in files["main.tf"]
        assert terraform_eval(data_only, f"keys({filt})") == names


@needs_terraform
def test_module_wiring_applies_with_a_stand_in_provider(fixture_pack: Path, tmp_path: Path) -> None:
    """main.tf rewritten onto terraform_data (tf_shadow.py) and applied offline: every reference, for_each
    and lookup resolves, and what each resource would receive matches the build."""
    import json
    import subprocess

    from tests.export.test_hcl import TF_ENV
    from tests.export.tf_shadow import rename, shadow

    files = rendered(fixture_pack, "terraform", env="azure")
    work = tmp_path / "shadow"
    work.mkdir()
    for name in ("locals.tf", "variables.tf"):
        (work / name).write_text(files[name])
    (work / "main.tf").write_text(shadow(files["main.tf"]))
    (work / "outputs.tf").write_text(rename(files["outputs.tf"]))
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        run = subprocess.run(["terraform", *args, "-no-color"], cwd=work, capture_output=True, text=True,
                             env=TF_ENV, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
    state = json.loads(subprocess.run(["terraform", "show", "-json"], cwd=work, capture_output=True, text=True,
                                      env=TF_ENV, timeout=120, check=True).stdout)
    res = {r["address"].replace("terraform_data.", ""): r["values"] for r in state["values"]["root_module"]["resources"]}
    definition_ids = {n: res[f'policy_definition_this["{n}"]']["id"]
                      for n in ("st-public-network", "st-public-network-modify", "tag-check")}
    guardrails = res['policy_set_definition_this["guardrails"]']
    members = guardrails["input"]["policy_definition_reference"]
    assert [m["policy_definition_id"] for m in members] == [
        definition_ids["st-public-network"], definition_ids["st-public-network-modify"], definition_ids["tag-check"],
        "/providers/Microsoft.Authorization/policyDefinitions/06a78e20-9358-41c9-923c-fb736d382a4d"]
    assert json.loads(members[0]["parameter_values"]) == {"effect": {"value": "[parameters('effect-st-public-network')]"}}
    prod = res['management_group_policy_assignment_this["guardrails-prod"]']
    assert prod["input"]["policy_definition_id"] == guardrails["id"]
    assert prod["input"]["management_group_id"] == "/providers/Microsoft.Management/managementGroups/contoso-prod"
    assert prod["input"]["identity"] == [{"type": "SystemAssigned", "identity_ids": None}]
    assert res['subscription_policy_assignment_this["tag-sub"]']["input"]["enforce"] is False
    rg = res['resource_group_policy_assignment_this["st-rg-modify"]']
    assert rg["input"]["policy_definition_id"] == definition_ids["st-public-network-modify"]
    remediation = res['management_group_policy_remediation_this["guardrails-prod-st-public-network-modify"]']
    assert remediation["input"]["policy_assignment_id"] == prod["id"]
    assert remediation["input"]["policy_definition_reference_id"] == "st-public-network-modify"
    assert remediation["input"]["failure_percentage"] == 0.1 and remediation["input"]["location_filters"] == ["northeurope"]
    rg_remediation = res['resource_group_policy_remediation_this["st-rg-modify"]']
    assert rg_remediation["input"]["policy_assignment_id"] == rg["id"]
    assert rg_remediation["input"]["resource_discovery_mode"] == "ReEvaluateCompliance"
    roles = sorted(k for k in res if k.startswith("role_assignment_policy"))
    assert roles == ['role_assignment_policy["guardrails-prod/17d1049b-9a84-46fb-8f53-869881c3d3ab"]',
                     'role_assignment_policy["st-rg-modify/17d1049b-9a84-46fb-8f53-869881c3d3ab"]']
