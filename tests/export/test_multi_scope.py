"""Exports of an assignment intent with several scopes (`scope: [prod, dev]`): one assignment resource per
scope, each keeping the ARM name (ids are `<scope>/providers/Microsoft.Authorization/policyAssignments/<name>`,
https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure), keyed apart by scope.
ARM deployment names take letters, digits, `-`, `_`, `.`, parentheses
(https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftresources)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from policygen.export import render_format
from policygen.render import compile_pack
from tests.azure.deploy_support import DEV, PROD, write_pack
from tests.azure.test_multi_scope import TWO_SCOPES


def _build(tmp_path: Path):  # noqa: ANN202 - a Build
    return compile_pack(write_pack(tmp_path / "pack", TWO_SCOPES), env="local")


def test_arm_one_deployment_per_scope_same_assignment_name(tmp_path: Path) -> None:
    template = json.loads(render_format(_build(tmp_path), "arm")["azuredeploy.json"])
    deployments = [r for r in template["resources"] if r["type"] == "Microsoft.Resources/deployments"
                   and "mini-base" in r["name"]]
    assert sorted(d["name"] for d in deployments) == ["policygen-mini-base.dev", "policygen-mini-base.prod"]
    assert all(re.fullmatch(r"[A-Za-z0-9_.()-]{1,64}", d["name"]) for d in deployments)
    assert sorted(d["scope"] for d in deployments) == sorted(
        f"Microsoft.Management/managementGroups/{s.rsplit('/', 1)[-1]}" for s in (PROD, DEV))
    inner = [r for d in deployments for r in d["properties"]["template"]["resources"]
             if r["type"] == "Microsoft.Authorization/policyAssignments"]
    assert [r["name"] for r in inner] == ["mini-base", "mini-base"]


def test_bicep_and_terraform_key_each_copy_and_keep_the_name(tmp_path: Path) -> None:
    build = _build(tmp_path)
    bicep = render_format(build, "bicep")
    main = bicep["main.bicep"]
    assert "module assign_mini_base_dev " in main and "module assign_mini_base_prod " in main
    assert "'policygen-mini-base.dev'" in main
    assert json.loads(bicep["assignments/mini-base@dev.json"])["name"] == "mini-base"
    tf = render_format(build, "terraform")
    assert '"mini-base@dev" = {' in tf["locals.tf"] and '"mini-base@prod" = {' in tf["locals.tf"]
    assert 'name                 = split("@", each.key)[0]' in tf["main.tf"]
    assert "mini-base.dev-" in tf["locals.tf"]  # remediation tasks keyed per copy


def test_an_exemption_at_two_scopes_is_two_resources_of_one_name(tmp_path: Path) -> None:
    files = {**TWO_SCOPES, "exemptions/waiver.yaml": """
        assignment: mini-base
        scope: [prod, dev]
        displayName: Waived
        category: Waiver
    """}
    build = compile_pack(write_pack(tmp_path / "pack", files), env="local")
    template = json.loads(render_format(build, "arm")["azuredeploy.json"])
    deployments = [r for r in template["resources"] if r["name"].startswith("policygen-exemption-")]
    assert sorted(d["name"] for d in deployments) == ["policygen-exemption-waiver.dev",
                                                      "policygen-exemption-waiver.prod"]
    assert sorted(d["dependsOn"][0] for d in deployments) == ["policygen-mini-base.dev", "policygen-mini-base.prod"]
    inner = [d["properties"]["template"]["resources"][0] for d in deployments]
    assert [r["name"] for r in inner] == ["waiver", "waiver"]
    assert 'name                            = split("@", each.key)[0]' in render_format(build, "terraform")["main.tf"]
