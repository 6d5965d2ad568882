"""One assignment name at several scopes (`scope: [prod, dev]`): ARM ids are
`<scope>/providers/Microsoft.Authorization/policyAssignments/<name>`, so a name is unique only per scope
(https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure; EPAC assigns one node at
every scope of a pacSelector under the same name). Through the emulator with the real SDK clients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from policygen.render import compile_pack
from tests.azure.deploy_support import DEV, MINI_PACK, PROD, Session, cli, emulator, role_assignments, write_pack

TWO_SCOPES = {**MINI_PACK, "assignments/base.yaml": """
    name: mini-base
    displayName: Mini baseline
    initiative: base
    scope: [prod, dev]
    notScopes:
      dev: [/subscriptions/00000000-0000-0000-0000-000000000002]
    identity: {type: SystemAssigned}
    remediation: {enabled: true}
"""}
ID = "/providers/Microsoft.Authorization/policyAssignments/mini-base"


def test_build_writes_one_file_per_scope_with_the_same_name(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack", TWO_SCOPES)
    build = compile_pack(pack, env="local")
    assert sorted(build.assignments) == ["mini-base@dev", "mini-base@prod"]
    prod, dev = build.assignments["mini-base@prod"], build.assignments["mini-base@dev"]
    assert prod.name == dev.name == "mini-base" and prod.body["name"] == "mini-base"
    assert (prod.assignment_id, dev.assignment_id) == (PROD + ID, DEV + ID)
    assert prod.properties["notScopes"] == []
    assert dev.properties["notScopes"] == ["/subscriptions/00000000-0000-0000-0000-000000000002"]
    assert prod.relpath == "assignments/mini-base@prod.json"
    assert build.assignments_named("mini-base") == [dev, prod]


def test_a_list_of_notscopes_goes_to_every_copy(tmp_path: Path) -> None:
    files = {**TWO_SCOPES, "assignments/base.yaml": TWO_SCOPES["assignments/base.yaml"].replace(
        "notScopes:\n      dev: [", "notScopes: [")}
    build = compile_pack(write_pack(tmp_path / "pack", files), env="local")
    assert {k: a.properties["notScopes"] for k, a in build.assignments.items()} == {
        k: ["/subscriptions/00000000-0000-0000-0000-000000000002"] for k in ("mini-base@prod", "mini-base@dev")}


def test_plan_apply_two_assignments_same_name_then_no_changes(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack", TWO_SCOPES)
    with emulator(monkeypatch):
        session = Session(pack)
        plan = session.plan()
        creates = {c.address: c for c in plan.changes if c.kind == "assignment"}
        assert set(creates) == {"assignment.mini-base@prod", "assignment.mini-base@dev"}
        assert {c.id for c in creates.values()} == {PROD + ID, DEV + ID}
        roles = [c for c in plan.changes if c.kind == "role_assignment"]
        assert {c.scope for c in roles} == {PROD, DEV}  # each copy's identity gets its role at its scope
        assert cli(["apply", str(pack), "--env", "local", "--yes"]).exit_code == 0
        at = {scope: [a for a in session.arm.list_assignments(scope) if a["name"] == "mini-base"]
              for scope in (PROD, DEV)}
        assert [a["id"] for a in at[PROD] if a["id"].lower() == (PROD + ID).lower()]
        assert [a["id"] for a in at[DEV] if a["id"].lower() == (DEV + ID).lower()]
        deployed = {a["id"].lower(): a for group in at.values() for a in group}
        assert len(deployed) == 2
        assert deployed[(DEV + ID).lower()]["properties"]["notScopes"] == [
            "/subscriptions/00000000-0000-0000-0000-000000000002"]
        principals = {ra["properties"]["principalId"] for ra in role_assignments(session, [PROD, DEV])
                      if "mini-base" in json.dumps(ra)}
        assert len(principals) == 2  # two assignments, two identities
        again = cli(["plan", str(pack), "--env", "local", "--detailed-exitcode"])
        assert again.exit_code == 0 and "No changes" in again.output, again.output
        # status and remediate tell the copies apart; `--assignment name@key` picks one copy.
        status = " ".join(cli(["status", str(pack), "--env", "local"]).output.split())
        assert "mini-base@mg:mlops-dev" in status and "mini-base@mg:mlops-prod" in status, status
        one = " ".join(cli(["remediate", str(pack), "--env", "local", "--assignment", "mini-base@dev"]).output.split())
        assert "mini-base@dev" in one and "mini-base@prod" not in one, one


def test_an_exemption_resolves_to_the_copy_above_its_scope(tmp_path: Path) -> None:
    sub = "/subscriptions/00000000-0000-0000-0000-000000000009"
    files = {**TWO_SCOPES,
             "policygen.yaml": MINI_PACK["policygen.yaml"].replace(
                 "dev: /providers/Microsoft.Management/managementGroups/mlops-dev",
                 f"dev: {sub}"),
             "exemptions/rg.yaml": f"""
                 assignment: mini-base
                 scope: {sub}/resourceGroups/sandbox
                 displayName: Sandbox
                 category: Waiver
             """}
    build = compile_pack(write_pack(tmp_path / "pack", files), env="local")
    exemption = next(iter(build.exemptions.values()))
    assert exemption.properties["policyAssignmentId"] == sub + ID


def test_an_exemption_that_cannot_tell_the_copies_apart_asks_for_one(tmp_path: Path) -> None:
    files = {**TWO_SCOPES, "exemptions/sub.yaml": """
        assignment: mini-base
        scope: /subscriptions/00000000-0000-0000-0000-000000000001
        displayName: A subscription
        category: Waiver
    """}
    pack = write_pack(tmp_path / "pack", files)
    result = cli(["build", str(pack), "--env", "local", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "sub.yaml:1:13: assignment 'mini-base' is assigned at 2 scopes" in text
    assert "mini-base@dev, mini-base@prod" in text
    named = {**files, "exemptions/sub.yaml": files["exemptions/sub.yaml"].replace("mini-base", "mini-base@prod")}
    build = compile_pack(write_pack(tmp_path / "named", named), env="local")
    assert next(iter(build.exemptions.values())).properties["policyAssignmentId"] == PROD + ID


def test_scope_list_errors_are_located(tmp_path: Path) -> None:
    files = {**TWO_SCOPES, "assignments/base.yaml": TWO_SCOPES["assignments/base.yaml"].replace(
        "scope: [prod, dev]", "scope: [prod, prod]")}
    result = cli(["build", str(write_pack(tmp_path / "pack", files)), "--env", "local"])
    assert result.exit_code == 2 and "each once" in result.output
    typo = {**TWO_SCOPES, "assignments/base.yaml": TWO_SCOPES["assignments/base.yaml"].replace("      dev: [",
                                                                                               "      deV: [")}
    result = cli(["build", str(write_pack(tmp_path / "typo", typo)), "--env", "local"])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "base.yaml:6:3: notScopes: 'deV' is not one of this assignment's scopes" in text


def test_import_of_one_name_at_two_management_groups_then_plan_shows_no_changes(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A pack's two-scope assignment and a portal-made one (no owner marker) reusing its name at two management
    groups with different notScopes: the import writes one intent each (`scope: [..]`, notScopes per scope when
    they differ), no `-2` copies, and planning the imported pack against the same emulator changes nothing."""
    pack = write_pack(tmp_path / "pack", TWO_SCOPES)
    sub = "/subscriptions/00000000-0000-0000-0000-000000000002"
    with emulator(monkeypatch):
        session = Session(pack)
        assert cli(["apply", str(pack), "--env", "local", "--yes"]).exit_code == 0
        tagged = "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization/" \
                 "policyDefinitions/tagged"
        for scope, not_scopes in ((PROD, []), (DEV, [sub])):
            session.arm.put_assignment(scope, "portal-tags", {"properties": {
                "displayName": "Tags (portal)", "policyDefinitionId": tagged, "notScopes": not_scopes,
                "parameters": {"tagName": {"value": "owner"}}}})
        for scope, tag in ((PROD, "cost-centre"), (DEV, "team")):  # one name, different parameters per scope
            session.arm.put_assignment(scope, "portal-cc", {"properties": {
                "displayName": f"Tag {tag}", "policyDefinitionId": tagged, "parameters": {"tagName": {"value": tag}}}})
        out = tmp_path / "imported"
        result = cli(["import", str(pack), "--env", "local", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "6 assignments" in result.output and "9 of 9 objects build exactly" in result.output
        assert "-2" not in " ".join(p.name for p in (out / "assignments").iterdir())
        mine = yaml.safe_load((out / "assignments" / "mini-base.yaml").read_text(encoding="utf-8"))
        assert mine["scope"] == ["prod", "dev"] and mine["notScopes"] == {"dev": [sub]}
        portal = yaml.safe_load((out / "assignments" / "portal-tags.yaml").read_text(encoding="utf-8"))
        assert sorted(portal["scope"]) == ["dev", "prod"] and portal["notScopes"] == {"dev": [sub]}
        # Copies that differ beyond scope and notScopes: one intent each, both named portal-cc.
        cc = sorted(p.name for p in (out / "assignments").glob("portal-cc*.yaml"))
        assert len(cc) == 2 and cc[0] == "portal-cc.yaml", cc
        second = yaml.safe_load((out / "assignments" / cc[1]).read_text(encoding="utf-8"))
        assert second["name"] == "portal-cc" and isinstance(second["scope"], str)
        plan = cli(["plan", str(out), "--env", "local", "--detailed-exitcode"])
        assert plan.exit_code == 0 and "No changes" in plan.output, plan.output


def test_two_intents_may_share_a_name_at_different_scopes_but_not_at_one(tmp_path: Path) -> None:
    """Portal users reuse a name across management groups for different settings: two intent files with the same
    `name:` and different scopes build two assignments keyed by scope; the same scope twice is a located error."""
    other = """
        name: mini-base
        displayName: Mini baseline (dev, audit only)
        initiative: base
        scope: dev
        identity: {type: SystemAssigned}
    """
    files = {**MINI_PACK, "assignments/base-dev.yaml": other}
    build = compile_pack(write_pack(tmp_path / "pack", files), env="local")
    assert sorted(build.assignments) == ["mini-base@dev", "mini-base@prod"]
    assert build.assignments["mini-base@dev"].properties["displayName"] == "Mini baseline (dev, audit only)"
    assert build.assignments["mini-base@prod"].relpath == "assignments/mini-base@prod.json"
    clash = {**files, "assignments/base-dev.yaml": other.replace("scope: dev", "scope: prod")}
    result = cli(["build", str(write_pack(tmp_path / "clash", clash)), "--env", "local"])
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "base.yaml:1:7: assignment name 'mini-base' is already assigned at prod by" in text, text
    assert "assignments/base-dev.yaml" in text.replace("\\", "/")


def test_an_exemption_at_two_scopes_exempts_each_copy_and_round_trips(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    """`scope: [prod, dev]` on an exemption: one exemption per scope under one name, each exempting the copy of
    the assignment at its scope (exemption-structure: the id is `<scope>/providers/Microsoft.Authorization/
    policyExemptions/<name>`); apply, plan again, import, plan: no changes."""
    files = {**TWO_SCOPES, "exemptions/waiver.yaml": """
        assignment: mini-base
        scope: [prod, dev]
        displayName: Waived while the tags are agreed
        category: Waiver
        policyDefinitionReferenceIds: [tagged]
    """}
    pack = write_pack(tmp_path / "pack", files)
    build = compile_pack(pack, env="local")
    assert {k: e.properties["policyAssignmentId"] for k, e in build.exemptions.items()} == {
        "waiver@prod": PROD + ID, "waiver@dev": DEV + ID}
    with emulator(monkeypatch):
        assert cli(["apply", str(pack), "--env", "local", "--yes"]).exit_code == 0
        again = cli(["plan", str(pack), "--env", "local", "--detailed-exitcode"])
        assert again.exit_code == 0 and "No changes" in again.output, again.output
        out = tmp_path / "imported"
        result = cli(["import", str(pack), "--env", "local", "--out", str(out)])
        assert result.exit_code == 0, result.output
        intent = yaml.safe_load((out / "exemptions" / "waiver.yaml").read_text(encoding="utf-8"))
        assert sorted(intent["scope"]) == ["dev", "prod"]
        assert sorted(p.name for p in (out / "exemptions").iterdir()) == ["waiver.yaml"]
        plan = cli(["plan", str(out), "--env", "local", "--detailed-exitcode"])
        assert plan.exit_code == 0 and "No changes" in plan.output, plan.output
