"""The synchronised output folder and the facts exporters derive from a build."""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.errors import InputError
from policygen.export.common import MANIFEST, remediation_tasks, role_definition_ids, scope_kind, sync_tree
from policygen.render import compile_pack

CONTRIBUTOR = "/providers/Microsoft.Authorization/roleDefinitions/17d1049b-9a84-46fb-8f53-869881c3d3ab"


def test_sync_writes_then_reports_unchanged_and_removes_stale(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = sync_tree(out, {"a.json": "1\n", "sub/b.json": "2\n"})
    assert first.written == ["a.json", "sub/b.json"] and not first.removed
    second = sync_tree(out, {"a.json": "1\n", "sub/b.json": "2\n"})
    assert second.written == [] and second.unchanged == ["a.json", "sub/b.json"]
    (out / "sub" / "hand.txt").write_text("x")
    third = sync_tree(out, {"a.json": "changed\n"})
    assert third.written == ["a.json"]
    assert third.removed == ["sub/b.json", "sub/hand.txt"]
    assert not (out / "sub").exists(), "emptied folders are pruned"
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.json"]


def test_sync_refuses_foreign_non_empty_folder_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "repo"
    out.mkdir()
    (out / "main.tf").write_text("# hand written\n")
    with pytest.raises(InputError, match="not empty"):
        sync_tree(out, {"x.json": "{}\n"})
    assert (out / "main.tf").exists()
    summary = sync_tree(out, {"x.json": "{}\n"}, force=True)
    assert summary.removed == ["main.tf"]


def test_sync_never_touches_anything_outside_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    target_dir = tmp_path / "elsewhere"
    target_dir.mkdir()
    (target_dir / "keep.json").write_text("{}")
    out = tmp_path / "out"
    sync_tree(out, {"a.json": "1\n"})
    (out / "link").symlink_to(target_dir, target_is_directory=True)
    with pytest.raises(InputError, match="outside"):
        sync_tree(out, {"../escape.json": "x"})
    sync_tree(out, {"a.json": "1\n"})
    assert outside.read_text() == "keep" and (target_dir / "keep.json").exists()
    assert not (out / "link").exists(), "the link itself is removed, its target is not followed"


@pytest.mark.parametrize(("scope", "kind"), [
    ("/providers/Microsoft.Management/managementGroups/mg1", "managementGroup"),
    ("/subscriptions/33333333-3333-3333-3333-333333333333", "subscription"),
    ("/subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/rg", "resourceGroup"),
])
def test_scope_kind(scope: str, kind: str) -> None:
    assert scope_kind(scope) == kind


def test_scope_kind_rejects_other_ids() -> None:
    with pytest.raises(InputError):
        scope_kind("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st")


def test_roles_and_remediation_follow_the_effects_in_force(fixture_pack: Path) -> None:
    build = compile_pack(fixture_pack, "azure")
    prod = build.assignments["guardrails-prod"]
    assert role_definition_ids(build, prod) == [CONTRIBUTOR]
    tasks = remediation_tasks(build, prod)
    # only the Modify member remediates; Audit/Deny members and the built-in get no task
    assert [(t.name, t.reference_id) for t in tasks] == [("guardrails-prod-st-public-network-modify",
                                                          "st-public-network-modify")]
    assert tasks[0].settings == {"resourceDiscoveryMode": "ExistingNonCompliant", "failureThreshold": 0.1,
                                 "parallelDeployments": 5, "locations": ["northeurope"]}
    rg = build.assignments["st-rg-modify"]
    assert [t.reference_id for t in remediation_tasks(build, rg)] == [None]
    assert role_definition_ids(build, build.assignments["tag-sub"]) == [], "no identity, no roles"


def test_no_remediation_when_the_member_is_switched_off(fixture_pack: Path) -> None:
    text = (fixture_pack / "assignments/guardrails-prod.yaml").read_text()
    (fixture_pack / "assignments/guardrails-prod.yaml").write_text(
        text.replace("effect-st-public-network: Deny", "effect-st-public-network: Deny\n  effect-st-public-network-modify: Disabled"))
    build = compile_pack(fixture_pack, "azure")
    assert remediation_tasks(build, build.assignments["guardrails-prod"]) == []
    # and no role either: exports grant exactly what `policygen apply` derives (least privilege)
    assert role_definition_ids(build, build.assignments["guardrails-prod"]) == []


def test_exports_default_to_the_first_azure_environment(fixture_pack: Path) -> None:
    import json

    from tests.export.support import rendered

    template = json.loads(rendered(fixture_pack, "arm")["azuredeploy.json"])
    scopes = {r.get("scope") for r in template["resources"] if r["type"] == "Microsoft.Resources/deployments"}
    assert "Microsoft.Management/managementGroups/contoso-prod" in scopes, "not the emulator's local-prod"
