"""The probe generator behind the built-in differential test finds the differences it is meant to find
(no ../shared needed). Rule shapes follow the built-ins it compares with: Storage public network access
(b2982f36 v1.0.1 `notEquals Disabled`, v1.1.0 `not in [Disabled, SecuredByPerimeter]`,
https://github.com/Azure/azure-policy/blob/master/built-in-policies/policyDefinitions/Storage/StoragePublicNetworkAccess_AuditDeny.json)
and Key Vault's API-version gate (405c5871, Key Vault/PublicNetworkAccess_Audit.json).
"""

from __future__ import annotations

from typing import Any

from policygen.arm.aliases import shipped_catalogue
from policygen.evaluate import compile_policy
from tests.pack.differential import API_VERSION, MISSING, dimensions, probes, rule_fields, verdict

ST = "Microsoft.Storage/storageAccounts"
KV = "Microsoft.KeyVault/vaults"


def _definition(condition: dict) -> dict:
    return {"properties": {"mode": "Indexed", "policyRule": {"if": condition, "then": {"effect": "audit"}}}}


def _disagreements(ours: dict, theirs: dict, base: dict, extra: dict | None = None) -> list[dict[str, Any]]:
    fields, api = rule_fields(ours, {})
    more, more_api = rule_fields(theirs, {})
    for key, lits in more.items():
        fields.setdefault(key, []).extend(lits)
    dims = dimensions(fields, api + more_api, base, [], shipped_catalogue(), extra or {})
    a, b = compile_policy(ours), compile_policy(theirs)
    return [p.settings for p in probes(dims, base, []) if verdict(a, p) != verdict(b, p)]


def _resource(rtype: str, **props: Any) -> dict:
    return {"id": f"/subscriptions/s/resourceGroups/rg/providers/{rtype}/x", "type": rtype, "name": "x",
            "location": "westeurope", "properties": props}  # fmt: skip


def test_a_newly_compliant_value_is_the_only_difference() -> None:
    old = _definition(
        {"allOf": [{"field": "type", "equals": ST}, {"field": f"{ST}/publicNetworkAccess", "notEquals": "Disabled"}]}
    )
    new = _definition(
        {"allOf": [{"field": "type", "equals": ST},
                   {"not": {"field": f"{ST}/publicNetworkAccess", "in": ["Disabled", "SecuredByPerimeter"]}}]}
    )  # fmt: skip
    found = _disagreements(old, new, _resource(ST, publicNetworkAccess="Disabled"))
    assert sorted(s["properties.publicNetworkAccess"] for s in found) == ["SecuredByPerimeter", "securedbyperimeter"]


def test_identical_rules_never_disagree_and_probes_cover_the_boundaries() -> None:
    rule = _definition(
        {"allOf": [{"field": "type", "equals": ST}, {"field": f"{ST}/publicNetworkAccess", "notEquals": "Disabled"}]}
    )
    base = _resource(ST, publicNetworkAccess="Disabled")
    assert _disagreements(rule, rule, base) == []
    fields, api = rule_fields(rule, {})
    [dim] = dimensions(fields, api, base, [], shipped_catalogue(), {})
    assert all(v in dim.values for v in ("Disabled", "disabled", "Other", "", None, MISSING)), dim.values


def test_an_api_version_gate_is_probed() -> None:
    gated = _definition(
        {"allOf": [{"field": "type", "equals": KV},
                   {"anyOf": [{"value": "[requestContext().apiVersion]", "less": "2021-06-01-preview"},
                              {"field": f"{KV}/publicNetworkAccess", "notEquals": "Disabled"}]}]}
    )  # fmt: skip
    plain = _definition(
        {"allOf": [{"field": "type", "equals": KV}, {"field": f"{KV}/publicNetworkAccess", "notEquals": "Disabled"}]}
    )
    found = _disagreements(plain, gated, _resource(KV, publicNetworkAccess="Disabled"))
    assert found and all(s[API_VERSION] == "2019-09-01" for s in found)


def test_array_members_are_probed_empty_missing_and_per_value() -> None:
    pec = "Microsoft.MachineLearningServices/workspaces/privateEndpointConnections[*]"
    ws = "Microsoft.MachineLearningServices/workspaces"
    any_approved = _definition(
        {"allOf": [{"field": "type", "equals": ws},
                   {"count": {"field": pec, "where": {"field": f"{pec}.privateLinkServiceConnectionState.status", "equals": "Approved"}},
                    "less": 1}]}
    )  # fmt: skip
    any_connection = _definition({"allOf": [{"field": "type", "equals": ws}, {"count": {"field": pec}, "less": 1}]})
    approved = {"properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}}
    found = _disagreements(any_approved, any_connection, _resource(ws, privateEndpointConnections=[approved]))
    labels = {s["properties.privateEndpointConnections"] for s in found}
    assert '[properties.privateLinkServiceConnectionState.status="Pending"]' not in labels  # not a literal
    assert '[properties.privateLinkServiceConnectionState.status="Other"]' in labels
    assert "[]" not in labels  # both flag an empty list
