"""Management groups (incl. the create/delete LROs), subscriptions and resource groups."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .conftest import MG, SUB, SUB2


def test_management_group_tree(clients, emulator):
    mg = clients.management_groups.management_groups
    tenant = emulator.emulator.tenant_id
    root = mg.get(tenant, expand="children", recurse=True)
    assert root.properties.display_name == "Tenant Root Group"
    contoso = root.properties.children[0]
    assert contoso.name == "contoso" and {c.name for c in contoso.children} == {"prod", "dev"}
    prod = mg.get("prod", expand="children")
    assert prod.properties.details.parent.id == f"{MG}/contoso"
    assert [(c.type, c.name) for c in prod.properties.children] == [("/subscriptions", SUB)]
    assert {d.name for d in mg.get_descendants("contoso")} == {"prod", "dev", SUB, SUB2}
    assert {g.name for g in mg.list()} == {tenant, "contoso", "prod", "dev"}


def test_create_move_and_delete_management_groups(clients):
    mg = clients.management_groups.management_groups
    created = mg.begin_create_or_update(
        "sandbox", {"properties": {"displayName": "Sandbox", "details": {"parent": {"id": f"{MG}/contoso"}}}}
    ).result()
    assert created.name == "sandbox" and created.properties.details.parent.id == f"{MG}/contoso"
    subs = clients.management_groups.management_group_subscriptions
    moved = subs.create("sandbox", SUB2)
    assert moved.parent.id == f"{MG}/sandbox"
    assert [s.name for s in subs.get_subscriptions_under_management_group("sandbox")] == [SUB2]
    with pytest.raises(HttpResponseError) as err:  # not empty
        mg.begin_delete("sandbox").result()
    assert err.value.status_code == 400
    subs.delete("sandbox", SUB2)
    mg.begin_delete("sandbox").result()
    with pytest.raises(ResourceNotFoundError):
        mg.get("sandbox")
    with pytest.raises(HttpResponseError):  # cycles are refused
        mg.begin_create_or_update("contoso", {"properties": {"details": {"parent": {"id": f"{MG}/prod"}}}}).result()


def test_subscription_created_through_management_group(clients):
    new = "33333333-3333-3333-3333-333333333333"
    clients.management_groups.management_group_subscriptions.create("dev", new)
    assert new in {d.name for d in clients.management_groups.management_groups.get_descendants("dev")}
    entities = {e.name for e in clients.management_groups.entities.list()}
    assert {new, SUB, "contoso"} <= entities


def test_resource_groups(clients):
    rgs = clients.resources.resource_groups
    assert {g.name for g in rgs.list()} == {"rg1", "rg2"}
    rg = rgs.create_or_update("rg3", {"location": "eastus", "tags": {"a": "b"}})
    assert rg.location == "eastus" and rg.tags == {"a": "b"}
    assert rgs.check_existence("rg3") is True
    with pytest.raises(HttpResponseError) as err:
        rgs.create_or_update("rg3", {"location": "westus"})
    assert err.value.error.code == "InvalidResourceGroupLocation"
    rgs.begin_delete("rg3").result()
    assert rgs.check_existence("rg3") is False


def test_unknown_subscription_is_404(emulator):
    from policygen.azure.clients import build_clients

    c = build_clients("99999999-9999-9999-9999-999999999999", endpoint=emulator, retry_total=0)
    with pytest.raises(ResourceNotFoundError) as err:
        list(c.policy.policy_assignments.list())
    assert err.value.error.code == "SubscriptionNotFound"
