"""What every ARM collection answers alike (one generic handler), over real HTTP.

ARM's common answers: a missing object is a 404 with the type's own error code, deleting a missing object
is 204 No Content, and a method the type does not support is 405.
https://learn.microsoft.com/rest/api/policy/policy-assignments/delete (200 / 204)
https://learn.microsoft.com/rest/api/authorization/role-assignments/delete (200 / 204)
https://learn.microsoft.com/rest/api/policy/policy-exemptions/delete (200 / 204)
https://learn.microsoft.com/rest/api/policyinsights/remediations/delete-at-resource-group (200 / 204)
"""

from __future__ import annotations

import pytest
import requests

from .conftest import BEARER, MG, RG1, SUB

NAME = "00000000-0000-0000-0000-0000000000ff"  # a GUID: role assignment names must be
FAMILIES = [
    (f"{RG1}/providers/Microsoft.Authorization/policyAssignments", "PolicyAssignmentNotFound", "policy assignments"),
    (f"{RG1}/providers/Microsoft.Authorization/policyExemptions", "PolicyExemptionNotFound", "policy exemptions"),
    (f"{RG1}/providers/Microsoft.Authorization/roleAssignments", "RoleAssignmentNotFound", "role assignments"),
    (f"{RG1}/providers/Microsoft.PolicyInsights/remediations", "RemediationNotFound", "remediations"),
    (f"{MG}/prod/providers/Microsoft.Authorization/policyDefinitions", "PolicyDefinitionNotFound", "policyDefinitions"),
]
API = {"api-version": "2023-04-01"}


@pytest.mark.parametrize(("collection", "not_found", "noun"), FAMILIES)
def test_collections_answer_alike(emulator, collection: str, not_found: str, noun: str):
    listed = requests.get(f"{emulator}{collection}", params=API, headers=BEARER, timeout=10)
    assert listed.status_code == 200 and listed.json()["value"] == []

    posted = requests.post(f"{emulator}{collection}", params=API, headers=BEARER, timeout=10)
    assert posted.status_code == 405
    assert posted.json()["error"]["message"] == "POST is not supported on a collection."

    missing = requests.get(f"{emulator}{collection}/{NAME}", params=API, headers=BEARER, timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == not_found

    gone = requests.delete(f"{emulator}{collection}/{NAME}", params=API, headers=BEARER, timeout=10)
    assert gone.status_code == 204 and gone.content == b""

    unsupported = requests.post(f"{emulator}{collection}/{NAME}", params=API, headers=BEARER, timeout=10)
    assert unsupported.status_code == 405
    assert unsupported.json()["error"]["message"] == f"POST is not supported on {noun}."


def test_a_scope_that_does_not_exist_is_the_scope_s_404(emulator):
    missing_rg = f"/subscriptions/{SUB}/resourceGroups/nope"
    answer = requests.get(
        f"{emulator}{missing_rg}/providers/Microsoft.Authorization/policyExemptions",
        params=API,
        headers=BEARER,
        timeout=10,
    )
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "ResourceGroupNotFound"
