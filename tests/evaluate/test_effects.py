"""Effects: parameterised resolution, compliance states, modify/append remediation, existence checks."""

from __future__ import annotations

import pytest

from policygen.evaluate import UnsupportedError, compile_policy
from tests.evaluate.helpers import definition

SA = {
    "id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/sa1",
    "type": "Microsoft.Storage/storageAccounts",
    "name": "sa1",
    "location": "westeurope",
    "tags": {"Env": "dev"},
    "properties": {
        "allowBlobPublicAccess": True,
        "networkAcls": {"defaultAction": "Allow", "ipRules": [{"value": "1.1.1.1", "action": "Allow"}]},
    },
}
IS_SA = {"field": "type", "equals": "Microsoft.Storage/storageAccounts"}
EFFECT_PARAM = {"effect": {"type": "String", "defaultValue": "Audit", "allowedValues": ["Audit", "Deny", "Disabled"]}}


def policy(effect="audit", details=None, cond=IS_SA, parameters=None, values=None):
    return compile_policy(definition(cond, effect, parameters=parameters, details=details), values)


@pytest.mark.parametrize(
    ("values", "effect", "compliant", "denied"),
    [
        (None, "audit", False, False),
        ({"effect": "Deny"}, "deny", False, True),
        ({"effect": {"value": "DENY"}}, "deny", False, True),
        ({"effect": "Disabled"}, "disabled", None, False),
    ],
)
def test_parameterised_effect(values, effect, compliant, denied) -> None:
    pol = policy("[parameters('effect')]", parameters=EFFECT_PARAM, values=values)
    assert pol.effect == effect
    out = pol.evaluate(SA)
    assert (out.matched, out.effect, out.compliant, out.denied) == (True, effect, compliant, denied)


def test_not_matched_is_compliant_or_not_applicable() -> None:
    private = dict(SA, properties={"allowBlobPublicAccess": False})
    cond = {"allOf": [IS_SA, {"field": "Microsoft.Storage/storageAccounts/allowBlobPublicAccess", "equals": True}]}
    out = policy("deny", cond=cond).evaluate(private)
    assert (out.matched, out.compliant, out.denied, out.applicable) == (False, True, False, True)
    vm = policy("deny", cond=cond).evaluate({"type": "Microsoft.Compute/virtualMachines", "name": "vm"})
    assert (vm.matched, vm.compliant, vm.applicable) == (False, None, False)


OTHER = {"field": "Microsoft.Storage/storageAccounts/allowBlobPublicAccess", "equals": "nope"}


@pytest.mark.parametrize(
    ("cond", "resource", "applicable"),
    [
        ({"field": "kind", "equals": "BlobStorage"}, SA, True),  # kind-only rules apply to everything
        ({"field": "name", "equals": "other"}, SA, True),  # so do name-only rules
        ({"allOf": [IS_SA, {"field": "kind", "equals": "BlobStorage"}]}, SA, True),  # type + kind: type only
        ({"allOf": [IS_SA, {"field": "kind", "equals": "BlobStorage"}, OTHER]}, SA, False),  # + other: kind too
        (
            {"allOf": [IS_SA, {"not": {"field": "kind", "equals": "StorageV2"}}, OTHER]},
            dict(SA, kind="StorageV2"),
            False,
        ),
        ({"allOf": [IS_SA, {"not": OTHER}]}, dict(SA, type="Microsoft.Compute/disks"), False),
        ({"allOf": [{"not": IS_SA}, OTHER]}, SA, False),
        ({"anyOf": [IS_SA, OTHER]}, {"type": "X/y", "name": "n"}, True),  # other leaves count as true
    ],
)
def test_applicability_of_non_existence_effects(cond, resource, applicable) -> None:
    out = policy("audit", cond=cond).evaluate(resource)
    if not out.matched:
        assert out.applicable is applicable
        assert out.compliant is (True if applicable else None)


def test_if_not_exists_effects_do_not_apply_when_if_is_false() -> None:
    out = policy("auditIfNotExists", details={"type": "X/y"}, cond=IS_VM).evaluate(SA)
    assert (out.matched, out.applicable, out.compliant) == (False, False, None)


def test_location_conditions_never_apply_to_subscriptions() -> None:
    cond = {"field": "location", "notIn": ["westeurope"]}
    sub = {"type": "Microsoft.Resources/subscriptions", "name": "s", "id": "/subscriptions/s"}
    out = policy("audit", cond=cond).evaluate(sub)
    assert out.applicable is False and out.compliant is None


def test_effect_without_value_or_unknown_effect_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        policy("[parameters('effect')]", parameters={"effect": {"type": "String"}})
    with pytest.raises(UnsupportedError):
        policy("explode")


def test_manual_and_deny_action() -> None:
    manual = policy("manual", details={"defaultState": "NonCompliant"}).evaluate(SA)
    assert manual.compliant is False
    assert policy("manual").evaluate(SA).compliant is None  # default state Unknown
    deny_action = policy("denyAction", details={"actionNames": ["delete"]}).evaluate(SA)
    assert deny_action.matched and deny_action.compliant is True and "delete" in deny_action.reasons[-1]


# ---- modify -----------------------------------------------------------------------------------------


def modify(*operations, conflict=None, values=None, parameters=None):
    details = {"roleDefinitionIds": ["/providers/x"], "operations": list(operations)}
    if conflict:
        details["conflictEffect"] = conflict
    return policy("modify", details=details, values=values, parameters=parameters)


def test_modify_tags_add_replace_remove() -> None:
    pol = modify(
        {"operation": "addOrReplace", "field": "tags['env']", "value": "[parameters('env')]"},
        {"operation": "add", "field": "tags.owner", "value": "team"},
        {"operation": "Remove", "field": "tags['temp']"},
        values={"env": "prod"},
        parameters={"env": {"type": "String"}},
    )
    res = dict(SA, tags={"Env": "dev", "temp": "1"})
    out = pol.evaluate(res)
    assert out.compliant is False and out.modified["tags"] == {"Env": "prod", "owner": "team"}
    assert res["tags"] == {"Env": "dev", "temp": "1"}  # input untouched


def test_modify_alias_with_api_version_condition() -> None:
    op = {
        "condition": "[greaterOrEquals(requestContext().apiVersion, '2019-04-01')]",
        "operation": "addOrReplace",
        "field": "Microsoft.Storage/storageAccounts/allowBlobPublicAccess",
        "value": False,
    }
    from policygen.evaluate import EvalContext

    pol = modify(op, conflict="audit")
    assert pol.evaluate(SA).modified["properties"]["allowBlobPublicAccess"] is False
    old = pol.evaluate(SA, context=EvalContext(api_version="2018-01-01"))
    assert old.modified["properties"]["allowBlobPublicAccess"] is True
    assert any("condition is false" in r for r in old.reasons)


def test_modify_array_semantics() -> None:
    rules = "Microsoft.Storage/storageAccounts/networkAcls.ipRules"
    new = {"value": "2.2.2.2", "action": "Allow"}
    add_member = modify({"operation": "add", "field": f"{rules}[*]", "value": new}).evaluate(SA).modified
    assert add_member["properties"]["networkAcls"]["ipRules"] == [{"value": "1.1.1.1", "action": "Allow"}, new]
    replace = modify({"operation": "addOrReplace", "field": f"{rules}[*]", "value": new}).evaluate(SA).modified
    assert replace["properties"]["networkAcls"]["ipRules"] == [new]
    each = modify({"operation": "addOrReplace", "field": f"{rules}[*].action", "value": "Deny"}).evaluate(SA)
    assert each.modified["properties"]["networkAcls"]["ipRules"] == [{"value": "1.1.1.1", "action": "Deny"}]
    whole = modify({"operation": "addOrReplace", "field": rules, "value": [new]}).evaluate(SA).modified
    assert whole["properties"]["networkAcls"]["ipRules"] == [new]


def test_modify_conflict_uses_conflict_effect() -> None:
    op = {"operation": "add", "field": "tags['env']", "value": "prod"}
    deny = modify(op).evaluate(SA)
    assert deny.denied and deny.modified is None
    audit = modify(op, conflict="audit").evaluate(SA)
    assert not audit.denied and audit.compliant is False and audit.modified is None


def test_modify_skips_when_parent_is_absent() -> None:
    op = {
        "operation": "addOrReplace",
        "field": "Microsoft.Storage/storageAccounts/encryption.keySource",
        "value": "Microsoft.Keyvault",
    }
    out = modify(op).evaluate(SA)
    assert "encryption" not in out.modified["properties"] and any("parent" in r for r in out.reasons)


def test_modify_operation_condition_may_not_use_field() -> None:
    with pytest.raises(UnsupportedError):
        modify({"condition": "[equals(field('name'), 'x')]", "operation": "add", "field": "tags.a", "value": "b"})
    with pytest.raises(UnsupportedError):
        modify({"operation": "remove", "field": "Microsoft.Storage/storageAccounts/allowBlobPublicAccess"})


def test_modify_identity_type_only_on_virtual_machines() -> None:
    # "Non VM or VMSS identity operation: ... policy evaluation is skipped altogether ... the resource is
    # considered not applicable" https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify#skipped-modification
    op = {"operation": "addOrReplace", "field": "identity.type", "value": "SystemAssigned"}
    out = modify(op).evaluate(SA)
    assert out.applicable is False and out.compliant is None and out.modified is None and not out.denied
    vm = {"type": "Microsoft.Compute/virtualMachines", "name": "vm", "identity": {"type": "None"}}
    pol = compile_policy(
        definition({"field": "name", "equals": "vm"}, "modify", details={"roleDefinitionIds": [], "operations": [op]})
    )
    assert pol.evaluate(vm).modified["identity"]["type"] == "SystemAssigned"


# ---- append -----------------------------------------------------------------------------------------


def test_append_sets_missing_values_and_appends_members() -> None:
    pol = policy(
        "append",
        details=[
            {"field": "Microsoft.Storage/storageAccounts/minimumTlsVersion", "value": "TLS1_2"},
            {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]", "value": {"value": "3.3.3.3"}},
        ],
    )
    out = pol.evaluate(SA)
    assert out.modified["properties"]["minimumTlsVersion"] == "TLS1_2"
    assert out.modified["properties"]["networkAcls"]["ipRules"][-1] == {"value": "3.3.3.3"}


def test_append_over_a_different_value_fails_the_request() -> None:
    pol = policy(
        "append", details=[{"field": "Microsoft.Storage/storageAccounts/allowBlobPublicAccess", "value": False}]
    )
    out = pol.evaluate(SA)
    assert out.denied and out.modified is None


# ---- auditIfNotExists / deployIfNotExists -------------------------------------------------------------

VM = {
    "id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
    "type": "Microsoft.Compute/virtualMachines",
    "name": "vm1",
    "location": "westeurope",
}


def ext(vm_id: str, publisher: str, name: str = "ext") -> dict:
    return {
        "id": f"{vm_id}/extensions/{name}",
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "name": name,
        "properties": {"publisher": publisher, "type": "IaaSAntimalware"},
    }


AINE = {
    "type": "Microsoft.Compute/virtualMachines/extensions",
    "existenceCondition": {
        "allOf": [
            {"field": "Microsoft.Compute/virtualMachines/extensions/publisher", "equals": "Microsoft.Azure.Security"},
            {"field": "Microsoft.Compute/virtualMachines/extensions/type", "equals": "IaaSAntimalware"},
        ]
    },
}
IS_VM = {"field": "type", "equals": "Microsoft.Compute/virtualMachines"}


@pytest.mark.parametrize("effect", ["auditIfNotExists", "DeployIfNotExists"])
def test_existence_condition_over_related_resources(effect: str) -> None:
    pol = policy(effect, details=AINE, cond=IS_VM)
    assert pol.evaluate(VM).compliant is False  # nothing related
    assert pol.evaluate(VM, related=[ext(VM["id"], "Other")]).compliant is False
    assert pol.evaluate(VM, related=[ext(VM["id"], "Other"), ext(VM["id"], "Microsoft.Azure.Security")]).compliant
    other_vm = VM["id"].replace("vm1", "vm2")
    assert pol.evaluate(VM, related=[ext(other_vm, "Microsoft.Azure.Security")]).compliant is False


def test_existence_without_condition_name_and_field_function() -> None:
    details = {"type": "Microsoft.Compute/virtualMachines/extensions", "name": "[concat(field('name'), '/ext')]"}
    pol = policy("auditIfNotExists", details=details, cond=IS_VM)
    assert pol.evaluate(VM, related=[ext(VM["id"], "x", "ext")]).compliant
    assert pol.evaluate(VM, related=[ext(VM["id"], "x", "other")]).compliant is False
    # field() in an existenceCondition reads the if-resource; field conditions read the related one
    details = {
        "type": "Microsoft.Network/networkWatchers",
        "existenceCondition": {"field": "location", "equals": "[field('location')]"},
    }
    pol = policy("auditIfNotExists", details=details, cond=IS_VM)
    watcher = {
        "id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/networkWatchers/nw",
        "type": "Microsoft.Network/networkWatchers",
        "name": "nw",
        "location": "westeurope",
    }
    assert pol.evaluate(VM, related=[watcher]).compliant
    assert pol.evaluate(VM, related=[dict(watcher, location="eastus")]).compliant is False


def test_existence_scope_resource_group_versus_subscription() -> None:
    zone = {
        "id": "/subscriptions/s1/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/z",
        "type": "Microsoft.Network/privateDnsZones",
        "name": "z",
    }
    details = {"type": "Microsoft.Network/privateDnsZones"}
    assert policy("auditIfNotExists", details=details, cond=IS_VM).evaluate(VM, related=[zone]).compliant is False
    sub = dict(details, existenceScope="subscription")
    assert policy("auditIfNotExists", details=sub, cond=IS_VM).evaluate(VM, related=[zone]).compliant
    named_rg = dict(details, resourceGroupName="rg-dns")
    assert policy("auditIfNotExists", details=named_rg, cond=IS_VM).evaluate(VM, related=[zone]).compliant


def test_diagnostic_settings_extension_resources_belong_to_their_parent() -> None:
    details = {
        "type": "Microsoft.Insights/diagnosticSettings",
        "existenceCondition": {"field": "Microsoft.Insights/diagnosticSettings/logs.enabled", "equals": "true"},
    }
    diag = {
        "id": SA["id"] + "/providers/Microsoft.Insights/diagnosticSettings/d",
        "type": "Microsoft.Insights/diagnosticSettings",
        "name": "d",
        "properties": {"logs": [{"enabled": True}]},
    }
    pol = policy("auditIfNotExists", details=details)
    assert pol.evaluate(SA, related=[diag]).compliant
    other = dict(diag, id=diag["id"].replace("sa1", "sa2"))
    assert pol.evaluate(SA, related=[other]).compliant is False


def test_failed_evaluation_is_an_error_outcome() -> None:
    out = policy("audit", cond={"value": "[int(field('name'))]", "equals": 1}).evaluate(SA)
    assert out.error and out.denied and out.compliant is False and not out.matched
    assert "implicit deny" in out.reasons[-1]


def test_remediation_never_changes_the_input_resource() -> None:
    import copy

    before = copy.deepcopy(SA)
    rules = "Microsoft.Storage/storageAccounts/networkAcls.ipRules"
    for op in (
        {"operation": "add", "field": f"{rules}[*]", "value": {"value": "9.9.9.9"}},
        {"operation": "addOrReplace", "field": f"{rules}[*].action", "value": "Deny"},
        {
            "operation": "addOrReplace",
            "field": "Microsoft.Storage/storageAccounts/networkAcls.defaultAction",
            "value": "Deny",
        },
        {"operation": "addOrReplace", "field": "tags['new']", "value": {"nested": [1]}},
    ):
        out = modify(op).evaluate(SA)
        assert out.modified != SA
    assert before == SA
