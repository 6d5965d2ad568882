"""Policy definitions, initiatives and versions through PolicyClient over HTTP."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from policygen.azure.clients import build_clients
from policygen.emulator import running_emulator

from .conftest import MG, SUB, audit_definition, tenant_seed


def test_definition_crud_at_management_group_and_subscription(clients):
    pd = clients.policy.policy_definitions
    created = pd.create_or_update_at_management_group("contoso", "https-only", audit_definition())
    assert created.id == f"{MG}/contoso/providers/Microsoft.Authorization/policyDefinitions/https-only"
    assert created.policy_type == "Custom"
    assert created.metadata["createdBy"] and created.metadata["category"] == "Storage"
    # Update answers 201 again (the SDK raises on 200); createdOn survives, updatedOn moves.
    again = pd.create_or_update_at_management_group("contoso", "https-only", audit_definition("Deny"))
    assert again.parameters["effect"].default_value == "Deny"
    assert again.metadata["createdOn"] == created.metadata["createdOn"]
    assert pd.get_at_management_group("contoso", "HTTPS-ONLY").name == "https-only"  # case-insensitive

    at_sub = pd.create_or_update("sub-def", audit_definition())
    assert at_sub.id == f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyDefinitions/sub-def"
    # The subscription list includes definitions inherited from its management-group ancestors.
    names = {d.name for d in pd.list()}
    assert {"https-only", "sub-def"} <= names
    assert {d.name for d in pd.list(filter="atExactScope()")} == {"sub-def"}
    assert {d.name for d in pd.list_by_management_group("contoso", filter="policyType eq 'Custom'")} == {"https-only"}

    pd.delete("sub-def")
    pd.delete("sub-def")  # idempotent: 204
    with pytest.raises(ResourceNotFoundError) as err:
        pd.get("sub-def")
    assert err.value.error.code == "PolicyDefinitionNotFound"


def test_list_pages_through_next_link(clients, emulator):
    pd = clients.policy.policy_definitions
    for i in range(12):
        pd.create_or_update_at_management_group("contoso", f"d{i:02}", audit_definition())
    names = [d.name for d in pd.list_by_management_group("contoso")]
    assert names == [f"d{i:02}" for i in range(12)]
    pages = [r for r in emulator.requests if r["path"].endswith("/policyDefinitions") and r["method"] == "GET"]
    assert len(pages) == 3  # page size 5
    assert {r["api_version"] for r in pages} == {"2026-06-01"}


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda p: p["policyRule"].pop("then"), "InvalidPolicyRule"),
        (lambda p: p["policyRule"]["if"].update({"equalz": 1}), "InvalidPolicyRule"),
        (lambda p: p["policyRule"].update({"then": {"effect": "explode"}}), "InvalidPolicyRule"),
        (lambda p: p["parameters"].update({"unused": {"type": "String"}}), "InvalidPolicyParameters"),
        (
            lambda p: p["parameters"]["effect"].update(
                {"allowedValues": ["Audit", "Deny"], "defaultValue": "Disabled"}
            ),
            "PolicyParameterAllowedAndDefaultValuesMismatch",
        ),
    ],
)
def test_malformed_definitions_are_rejected_like_azure(clients, mutate, code):
    body = audit_definition()
    mutate(body["properties"])
    with pytest.raises(HttpResponseError) as err:
        clients.policy.policy_definitions.create_or_update("bad", body)
    assert err.value.status_code == 400
    assert err.value.error.code == code
    assert err.value.error.message


def test_initiative_references_and_generated_reference_ids(clients):
    pd, ps = clients.policy.policy_definitions, clients.policy.policy_set_definitions
    d = pd.create_or_update_at_management_group("contoso", "https-only", audit_definition())
    body = {
        "properties": {
            "displayName": "Baseline",
            "metadata": {"category": "x", "version": "1.0.0"},
            "parameters": {
                "eff": {"type": "String", "defaultValue": "Audit", "metadata": {"displayName": "e", "description": "e"}}
            },
            "policyDefinitions": [
                {"policyDefinitionId": d.id, "parameters": {"effect": {"value": "[parameters('eff')]"}}}
            ],
        }
    }
    s = ps.create_or_update_at_management_group("contoso", "baseline", body)
    assert s.policy_definitions[0].policy_definition_reference_id  # generated
    assert s.policy_type == "Custom"

    missing = json.loads(json.dumps(body))
    missing["properties"]["policyDefinitions"][0]["policyDefinitionId"] = d.id.replace("https-only", "nope")
    with pytest.raises(ResourceNotFoundError) as err:
        ps.create_or_update_at_management_group("contoso", "broken", missing)
    assert err.value.error.code == "PolicyDefinitionNotFound"

    undefined = json.loads(json.dumps(body))
    undefined["properties"]["policyDefinitions"][0]["parameters"]["nope"] = {"value": 1}
    with pytest.raises(HttpResponseError) as err:
        ps.create_or_update_at_management_group("contoso", "broken", undefined)
    assert err.value.error.code == "UndefinedPolicyParameter"

    # A definition referenced by an initiative cannot be deleted; the initiative can, then the definition.
    with pytest.raises(HttpResponseError) as err:
        pd.delete_at_management_group("contoso", "https-only")
    assert err.value.status_code == 400 and err.value.error.code == "InvalidDeletePolicyDefinitionRequest"
    ps.delete_at_management_group("contoso", "baseline")
    pd.delete_at_management_group("contoso", "https-only")


def test_definition_visibility_follows_the_hierarchy(clients):
    """A definition at management group `dev` is not visible from a subscription under `prod`."""
    d = clients.policy.policy_definitions.create_or_update_at_management_group("dev", "dev-only", audit_definition())
    with pytest.raises(ResourceNotFoundError):
        clients.policy.policy_assignments.create(
            f"/subscriptions/{SUB}", "a1", {"properties": {"policyDefinitionId": d.id}}
        )


def test_definition_versions(clients):
    pd, pv = clients.policy.policy_definitions, clients.policy.policy_definition_versions
    body = audit_definition()
    body["properties"]["version"] = "1.0.0"
    d = pd.create_or_update("versioned", body)
    assert d.versions == ["1.0.0"]
    v2 = json.loads(json.dumps(body))
    v2["properties"]["version"] = "1.1.0"
    v2["properties"]["displayName"] = "v1.1"
    got = pv.create_or_update("versioned", "1.1.0", v2)
    assert got.name == "1.1.0" and got.version == "1.1.0"
    assert [v.name for v in pv.list("versioned")] == ["1.0.0", "1.1.0"]
    latest = pd.get("versioned")
    assert latest.versions == ["1.0.0", "1.1.0"] and latest.display_name == "v1.1"
    assert pv.get("versioned", "1.0.0").display_name == "Storage https only"
    assert len(list(pv.list_all())) == 2
    pv.delete("versioned", "1.0.0")
    assert [v.name for v in pv.list("versioned")] == ["1.1.0"]


def test_builtins_from_a_catalogue_directory(tmp_path):
    folder = tmp_path / "policyDefinitions" / "Storage"
    folder.mkdir(parents=True)
    builtin = audit_definition()
    builtin["properties"]["policyType"] = "BuiltIn"
    builtin.update(
        id="/providers/Microsoft.Authorization/policyDefinitions/0000aaaa-0000-0000-0000-000000000001",
        name="0000aaaa-0000-0000-0000-000000000001",
    )
    (folder / "https.json").write_text(json.dumps(builtin, indent=2))
    sets = tmp_path / "policySetDefinitions"
    sets.mkdir()
    (sets / "set.json").write_text(
        json.dumps(
            {
                "properties": {
                    "displayName": "Set",
                    "policyType": "BuiltIn",
                    "policyDefinitions": [{"policyDefinitionId": builtin["id"], "policyDefinitionReferenceId": "r1"}],
                },
                "id": "/providers/Microsoft.Authorization/policySetDefinitions/set-1",
                "name": "set-1",
            },
            indent=2,
        )
    )
    with running_emulator(seed=tenant_seed(), builtins=tmp_path) as url:
        c = build_clients(SUB, endpoint=url, retry_total=0)
        got = c.policy.policy_definitions.get_built_in("0000AAAA-0000-0000-0000-000000000001")
        assert got.policy_type == "BuiltIn" and got.display_name == "Storage https only"
        assert [d.name for d in c.policy.policy_definitions.list_built_in()] == [builtin["name"]]
        assert (
            c.policy.policy_set_definitions.get_built_in("set-1").policy_definitions[0].policy_definition_reference_id
            == "r1"
        )
        # Built-ins are listed from every scope, and can be assigned anywhere.
        assert builtin["name"] in {d.name for d in c.policy.policy_definitions.list()}
        a = c.policy.policy_assignments.create(
            f"/subscriptions/{SUB}", "builtin", {"properties": {"policyDefinitionId": builtin["id"]}}
        )
        assert a.policy_definition_id == builtin["id"]
        with pytest.raises(ResourceNotFoundError):
            c.policy.policy_definitions.get_built_in("nope")


@pytest.mark.corpus
def test_shared_builtin_corpus_serves(shared_dir):
    with running_emulator(builtins=shared_dir / "corpus" / "azure-policy-builtins") as url:
        c = build_clients(SUB, endpoint=url, retry_total=0)
        # "Secure transfer to storage accounts should be enabled"
        d = c.policy.policy_definitions.get_built_in("404c3081-a854-4457-ae30-26a93ef643f9")
        assert d.policy_type == "BuiltIn" and "Secure transfer" in d.display_name
        first_page = c.policy.policy_set_definitions.list_built_in().by_page()
        assert len(list(next(first_page))) == 100
