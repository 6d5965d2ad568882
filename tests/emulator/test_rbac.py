"""Role assignments (with the PrincipalNotFound replication window), role definitions, identity reads."""

from __future__ import annotations

import time
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from .conftest import BEARER, RG1, SUB, TAG_CONTRIBUTOR, tag_assignment, tag_definition

ROLE = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{TAG_CONTRIBUTOR}"


@pytest.fixture
def principal(clients):
    d = clients.policy.policy_definitions.create_or_update("add-tag", tag_definition())
    a = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "tags",
        tag_assignment(d.id, "prod"),
    )
    return a.identity.principal_id


def ra_body(principal: str, role: str = ROLE) -> dict:
    return {"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}


def test_role_assignment_crud_and_conflicts(clients, principal):
    ra = clients.authorization.role_assignments
    name = str(uuid.uuid4())
    created = ra.create(f"/subscriptions/{SUB}", name, ra_body(principal))
    assert created.principal_id == principal and created.scope == f"/subscriptions/{SUB}"
    assert ra.create(f"/subscriptions/{SUB}", name, ra_body(principal)).name == name  # idempotent
    with pytest.raises(ResourceExistsError) as err:  # same principal, role and scope under another name
        ra.create(f"/subscriptions/{SUB}", str(uuid.uuid4()), ra_body(principal))
    assert err.value.error.code == "RoleAssignmentExists"
    with pytest.raises(HttpResponseError) as err:
        ra.create(f"/subscriptions/{SUB}", name, ra_body(str(uuid.uuid4())))
    assert err.value.error.code == "RoleAssignmentUpdateNotPermitted"
    with pytest.raises(HttpResponseError) as err:
        ra.create(f"/subscriptions/{SUB}", "not-a-guid", ra_body(principal))
    assert err.value.error.code == "InvalidRoleAssignmentId"
    with pytest.raises(HttpResponseError) as err:
        ra.create(f"/subscriptions/{SUB}", str(uuid.uuid4()), ra_body(principal, ROLE[:-4] + "ffff"))
    assert err.value.error.code == "RoleDefinitionDoesNotExist"

    ra.create(RG1, str(uuid.uuid4()), ra_body(principal))
    assert len(list(ra.list_for_subscription())) == 2
    assert len(list(ra.list_for_resource_group("rg1", filter="atScope()"))) == 2
    assert len(list(ra.list_for_subscription(filter="atScope()"))) == 1
    assert len(list(ra.list_for_scope(f"/subscriptions/{SUB}", filter=f"assignedTo('{principal}')"))) == 2
    assert ra.delete(f"/subscriptions/{SUB}", name).name == name
    with pytest.raises(ResourceNotFoundError):
        ra.get(f"/subscriptions/{SUB}", name)


def test_principal_not_found_window(clients, emulator):
    emulator.set_faults(principal_delay_s=0.4)
    d = clients.policy.policy_definitions.create_or_update("add-tag", tag_definition())
    a = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "tags",
        tag_assignment(d.id, "prod"),
    )
    name = str(uuid.uuid4())
    with pytest.raises(HttpResponseError) as err:
        clients.authorization.role_assignments.create(f"/subscriptions/{SUB}", name, ra_body(a.identity.principal_id))
    assert (err.value.status_code, err.value.error.code) == (400, "PrincipalNotFound")
    assert "retry-after" not in {k.lower() for k in err.value.response.headers}  # not retried by the SDK
    time.sleep(0.45)
    assert (
        clients.authorization.role_assignments.create(
            f"/subscriptions/{SUB}", name, ra_body(a.identity.principal_id)
        ).name
        == name
    )


def test_principal_not_found_for_the_first_n_attempts(clients, emulator, principal):
    emulator.set_faults(principal_failures=2)
    d = clients.policy.policy_definitions.get("add-tag")
    a = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "tags2",
        tag_assignment(d.id, "prod"),
    )
    codes = []
    for _ in range(3):
        try:
            clients.authorization.role_assignments.create(
                f"/subscriptions/{SUB}", str(uuid.uuid4()), ra_body(a.identity.principal_id)
            )
            codes.append("ok")
        except HttpResponseError as exc:
            codes.append(exc.error.code)
    assert codes == ["PrincipalNotFound", "PrincipalNotFound", "ok"]


def test_role_definitions_lookup(clients):
    rd = clients.authorization.role_definitions
    contributor = rd.get(f"/subscriptions/{SUB}", "b24988ac-6180-42a0-ab88-20f7382dd24c")
    assert contributor.role_name == "Contributor" and contributor.role_type == "BuiltInRole"
    by_id = rd.get_by_id(f"/providers/Microsoft.Authorization/roleDefinitions/{TAG_CONTRIBUTOR}")
    assert by_id.role_name == "Tag Contributor"
    assert [r.role_name for r in rd.list(f"/subscriptions/{SUB}", filter="roleName eq 'Owner'")] == ["Owner"]
    with pytest.raises(ResourceNotFoundError) as err:
        rd.get(f"/subscriptions/{SUB}", str(uuid.uuid4()))
    assert err.value.error.code == "RoleDefinitionDoesNotExist"
    custom = rd.create_or_update(
        f"/subscriptions/{SUB}",
        str(uuid.uuid4()),
        {
            "properties": {
                "roleName": "Custom tagger",
                "permissions": [{"actions": ["Microsoft.Resources/tags/*"]}],
                "assignableScopes": [f"/subscriptions/{SUB}"],
            }
        },
    )
    assert rd.get(f"/subscriptions/{SUB}", custom.name).role_type == "CustomRole"


def test_system_assigned_identity_read(clients, emulator, principal):
    import json
    import urllib.request

    aid = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/tags"
    url = f"{emulator}{aid}/providers/Microsoft.ManagedIdentity/identities/default?api-version=2024-11-30"
    with urllib.request.urlopen(urllib.request.Request(url, headers=BEARER)) as resp:
        body = json.load(resp)
    assert body["properties"]["principalId"] == principal
