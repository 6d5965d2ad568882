"""Names with any character Azure allows in them travel through policygen's deploy layer (`policygen.azure.arm`,
the calls `policygen apply` makes) and come back as written: the SDK percent-encodes them, the emulator decodes
them as ARM does (issue #13). Microsoft's REST examples use such names, e.g. 'Enable Monitoring in Azure
Security Center' (PolicyStates_QuerySubscriptionScope.json); the REST reference forbids only `<>*%&:\\?+/` and a
trailing period or space (https://learn.microsoft.com/rest/api/policy/policy-assignments/create).
"""

from __future__ import annotations

import pytest

from policygen.azure.target import Target
from policygen.azure.workflow import connect
from policygen.emulator import running_emulator

from .deploy_support import SEED, SUB_PROD, fast_retry

NAMES = ["Audit a tag and it's value", "Enable Monitoring in Azure Security Center", "naïve (v2) [prod] #1 é"]


@pytest.mark.parametrize("name", NAMES)
def test_definitions_assignments_and_exemptions_keep_their_names(name: str):
    with running_emulator(seed=str(SEED)) as url:
        target = Target(
            env="local",
            cloud="local",
            endpoint=url,
            tenant_id=None,
            definition_scope="/providers/Microsoft.Management/managementGroups/contoso",
        )
        arm = connect(target, settings=fast_retry())
        mg = target.definition_scope
        rule = {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"}, "then": {"effect": "audit"}}
        definition = arm.put_definition("definition", mg, name, {"properties": {"mode": "All", "policyRule": rule}})
        assert definition["name"] == name and definition["id"].endswith(f"/policyDefinitions/{name}")
        assert arm.get_definition(definition["id"])["name"] == name
        sub = f"/subscriptions/{SUB_PROD}"
        assignment = arm.put_assignment(sub, name[:64], {"properties": {"policyDefinitionId": definition["id"]}})
        assert assignment["name"] == name[:64]
        assert name[:64] in {a["name"] for a in arm.list_assignments(sub)}
        exemption = arm.put_exemption(
            sub, name, {"properties": {"policyAssignmentId": assignment["id"], "exemptionCategory": "Waiver"}}
        )
        assert exemption["name"] == name and [e["name"] for e in arm.list_exemptions(sub)] == [name]
        arm.delete_exemption(sub, name)
        arm.delete_assignment(sub, name[:64])
        arm.delete_definition("definition", mg, name)
        assert arm.get_definition(definition["id"]) is None
