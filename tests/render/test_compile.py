"""compile_pack and write_build: errors, parameters, assignments, determinism, injection safety."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.errors import InputError
from policygen.render import compile_pack, write_build
from tests.render.helpers import write_pack

KV = """
intent: disable-public-network-access
resourceTypes: [Microsoft.KeyVault/vaults]
displayName: KV public access
"""
DNS = """
intent: private-dns-zone
resourceTypes: [Microsoft.KeyVault/vaults]
displayName: KV DNS
"""
SET = """
displayName: Set
parameters:
  zone: {type: String}
groups: [{name: net}]
members:
  - {definition: kv, groups: [net], effect: Deny}
  - definition: dns
    parameters: {privateDnsZoneId: {parameter: zone}}
"""


def errors(root: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        compile_pack(root)
    return [str(d) for d in info.value.diagnostics]


def test_initiative_pass_through_and_effect_parameters(tmp_path: Path) -> None:
    build = compile_pack(
        write_pack(tmp_path, {"definitions/kv.yaml": KV, "definitions/dns.yaml": DNS, "initiatives/set.yaml": SET})
    )
    props = build.initiatives["set"].properties
    assert props["parameters"]["effect-kv"]["defaultValue"] == "Deny"
    assert props["parameters"]["effect-kv"]["allowedValues"] == ["Audit", "Deny", "Disabled"]
    kv, dns = props["policyDefinitions"]
    assert (
        kv["policyDefinitionId"]
        == "/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/policyDefinitions/kv"
    )
    assert kv["parameters"] == {"effect": {"value": "[parameters('effect-kv')]"}}
    assert kv["groupNames"] == ["net"]
    assert dns["parameters"]["privateDnsZoneId"] == {"value": "[parameters('zone')]"}


def test_initiative_errors_are_positioned(tmp_path: Path) -> None:
    bad = """
    displayName: Set
    members:
      - {definition: kv, groups: [nope]}
      - {definition: dns}
      - {definition: missing}
      - {definition: kv, effect: Modify}
    """
    msgs = errors(
        write_pack(tmp_path, {"definitions/kv.yaml": KV, "definitions/dns.yaml": DNS, "initiatives/set.yaml": bad})
    )
    assert any("set.yaml:3:31: group 'nope' is not declared in groups" in m for m in msgs)
    assert any("set.yaml:4:5: member 'dns' needs a value for parameter 'privateDnsZoneId'" in m for m in msgs)
    assert any("set.yaml:5:18: no definition intent named 'missing'" in m for m in msgs)
    assert any("policyDefinitionReferenceId 'kv' is used twice" in m for m in msgs)


def test_assignment_resolves_scope_identity_and_parameters(tmp_path: Path) -> None:
    root = write_pack(
        tmp_path,
        {
            "definitions/kv.yaml": KV,
            "definitions/dns.yaml": DNS,
            "initiatives/set.yaml": SET,
            "assignments/a.yaml": """
            displayName: A
            initiative: set
            scope: dev
            notScopes: [sub]
            parameters: {zone: /z, effect-kv: Audit}
            nonComplianceMessages: [{message: fix it, policyDefinitionReferenceId: kv}]
            """,
        },
    )
    art = compile_pack(root).assignments["a"]
    assert art.scope == "/providers/Microsoft.Management/managementGroups/dev"
    assert art.body["identity"] == {"type": "SystemAssigned"} and art.body["location"] == "northeurope"
    props = art.properties
    assert props["policyDefinitionId"].endswith("/policySetDefinitions/set")
    assert props["notScopes"] == ["/subscriptions/00000000-0000-0000-0000-000000000001"]
    assert props["parameters"] == {"zone": {"value": "/z"}, "effect-kv": {"value": "Audit"}}
    assert props["metadata"]["pacOwnerId"] == "owner-1"


def test_assignment_errors(tmp_path: Path) -> None:
    root = write_pack(
        tmp_path,
        {
            "definitions/kv.yaml": KV,
            "definitions/dns.yaml": DNS,
            "initiatives/set.yaml": SET,
            "assignments/a-name-that-is-far-too-long.yaml": "displayName: A\ninitiative: set\nscope: dev\nparameters: {zome: /z}\n",
            "assignments/b.yaml": "displayName: B\ninitiative: sett\nscope: nowhere\n",
        },
    )
    msgs = errors(root)
    assert any(
        "a-name-that-is-far-too-long.yaml:1:1: assignment name 'a-name-that-is-far-too-long' is 27 characters; Azure allows 24 at management-group scope"
        in m
        for m in msgs
    )
    assert any(
        "a-name-that-is-far-too-long.yaml:4:14: set has no parameter 'zome'; did you mean 'zone'?" in m for m in msgs
    )
    assert any("b.yaml:3:8: scope 'nowhere' is neither an ARM id nor a scope key" in m for m in msgs)
    assert any("b.yaml:2:13: no initiative named 'sett'; did you mean 'set'?" in m for m in msgs)
    assert any(
        "a-name-that-is-far-too-long.yaml:4:1: parameter 'zone' has no default: set parameters.zone" in m for m in msgs
    )


def test_definition_errors(tmp_path: Path) -> None:
    root = write_pack(
        tmp_path,
        {
            "definitions/a.yaml": "intent: disable-public-network-acces\nresourceTypes: [Microsoft.KeyVault/vaults]\ndisplayName: A\n",
            "definitions/b.yaml": "intent: private-link\nresourceTypes: [Microsoft.Web/sites]\ndisplayName: B\n",
            "definitions/c.yaml": "intent: customer-managed-key\nresourceTypes: [Microsoft.Storage/storageAccounts]\ndisplayName: C\n"
            "effect: {default: Modify, allowed: [Modify]}\n",
            "definitions/d.yaml": "intent: managed-network-isolation\nresourceTypes: [Microsoft.MachineLearningServices/workspaces]\n"
            "displayName: D\nsettings: {isolationMod: X}\n",
            "definitions/e.yaml": "intent: managed-network-isolation\nresourceTypes: [Microsoft.MachineLearningServices/workspaces]\n"
            "displayName: E\nsettings: {isolationMode: Sometimes}\n",
        },
    )
    msgs = errors(root)
    assert any(
        "a.yaml:1:9: unknown intent kind 'disable-public-network-acces'; did you mean 'disable-public-network-access'?"
        in m
        for m in msgs
    )
    assert any("b.yaml:2:17: intent 'private-link' has no row for 'Microsoft.Web/sites'" in m for m in msgs)
    assert any("c.yaml:4:9: effect(s) Modify not supported by intent 'customer-managed-key'" in m for m in msgs)
    assert any("d.yaml:4:12: unknown setting 'isolationMod'; did you mean 'isolationMode'?" in m for m in msgs)
    assert any("e.yaml:4:27: settings.isolationMode: 'Sometimes' is not one of" in m for m in msgs)
    assert len(msgs) == 5


def test_build_is_deterministic_and_removes_stale_files(repo_dir: Path, tmp_path: Path) -> None:
    out1, out2 = tmp_path / "one", tmp_path / "two"
    write_build(compile_pack(repo_dir), out1)
    (out2 / "definitions").mkdir(parents=True)
    (out2 / "definitions" / "stale.json").write_text("{}")
    summary = write_build(compile_pack(repo_dir), out2)
    assert summary.removed == ["definitions/stale.json"]
    files1 = sorted(p.relative_to(out1) for p in out1.rglob("*.json"))
    assert files1 == sorted(p.relative_to(out2) for p in out2.rglob("*.json"))
    for rel in files1:
        assert (out1 / rel).read_bytes() == (out2 / rel).read_bytes()
    again = write_build(compile_pack(repo_dir), out1)
    assert again.written == [] and again.removed == []


# YAML streams may not contain control characters or non-characters; everything else must survive.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(display=TEXT.filter(lambda s: s.strip() != "" and "{resourceType}" not in s), description=TEXT)
def test_values_are_data_never_code(tmp_path_factory: pytest.TempPathFactory, display: str, description: str) -> None:
    root = tmp_path_factory.mktemp("pack")
    intent = {
        "intent": "private-link",
        "resourceTypes": ["Microsoft.KeyVault/vaults"],
        "displayName": display,
        "description": description,
    }
    # JSON is valid YAML: the values reach the renderer exactly as written, whatever they contain.
    write_pack(root, {"definitions/x.yaml": json.dumps(intent, ensure_ascii=False)})
    [art] = compile_pack(root).definitions.values()
    parsed = json.loads(art.text())
    assert parsed["properties"]["displayName"] == display
    assert parsed["properties"]["description"] == description


@pytest.mark.parametrize("evil", ['"]}', "{{ 7*7 }}", "{% raw %}", "[parameters('x')]\"", "\\u0022", "</script>"])
def test_template_syntax_in_values_is_literal(tmp_path: Path, evil: str) -> None:
    root = write_pack(
        tmp_path,
        {
            "definitions/x.yaml": json.dumps(
                {
                    "intent": "disable-local-auth",
                    "resourceTypes": ["Microsoft.Storage/storageAccounts"],
                    "displayName": evil,
                    "description": evil,
                }
            )
        },
    )
    [art] = compile_pack(root).definitions.values()
    assert art.properties["displayName"] == evil and art.properties["description"] == evil


def test_definition_messages_flow_into_assignments(tmp_path: Path) -> None:
    root = write_pack(
        tmp_path,
        {
            "definitions/kv.yaml": KV + "nonComplianceMessage: Key vaults must be private.\n",
            "definitions/dns.yaml": DNS,
            "initiatives/set.yaml": SET,
            "assignments/a.yaml": "displayName: A\ninitiative: set\nscope: dev\nparameters: {zone: /z}\n",
            "assignments/b.yaml": "displayName: B\ninitiative: set\nscope: dev\nparameters: {zone: /z}\n"
            "nonComplianceMessages: [{message: Mine., policyDefinitionReferenceId: kv}]\n",
        },
    )
    build = compile_pack(root)
    assert build.assignments["a"].properties["nonComplianceMessages"] == [
        {"message": "Key vaults must be private.", "policyDefinitionReferenceId": "kv"}
    ]
    assert build.assignments["b"].properties["nonComplianceMessages"] == [
        {"message": "Mine.", "policyDefinitionReferenceId": "kv"}
    ]
