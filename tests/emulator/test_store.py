"""`--state FILE`: everything survives a restart, and the seed is not re-applied over it."""

from __future__ import annotations

from policygen.azure.clients import build_clients
from policygen.emulator import running_emulator

from .conftest import SA1, SUB, TAG_CONTRIBUTOR, tag_assignment, tag_definition, tenant_seed


def test_state_persists_across_restart(tmp_path):
    state = tmp_path / "state.db"
    with running_emulator(seed=tenant_seed(), state=state) as url:
        c = build_clients(SUB, endpoint=url, retry_total=0)
        d = c.policy.policy_definitions.create_or_update("add-tag", tag_definition())
        a = c.policy.policy_assignments.create(
            f"/subscriptions/{SUB}",
            "tags",
            tag_assignment(d.id, "x"),
        )
        c.authorization.role_assignments.create(
            f"/subscriptions/{SUB}",
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            {
                "properties": {
                    "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{TAG_CONTRIBUTOR}",
                    "principalId": a.identity.principal_id,
                    "principalType": "ServicePrincipal",
                }
            },
        )
        c.resources.resources.begin_delete_by_id(SA1, api_version="2023-01-01").result()
        c.management_groups.management_groups.begin_create_or_update("extra", {"properties": {}}).result()

    with running_emulator(seed=tenant_seed(), state=state) as url:
        c = build_clients(SUB, endpoint=url, retry_total=0)
        again = c.policy.policy_assignments.get(f"/subscriptions/{SUB}", "tags")
        assert again.identity.principal_id == a.identity.principal_id
        assert again.parameters["tagName"].value == "env"
        assert len(list(c.authorization.role_assignments.list_for_subscription())) == 1
        assert c.management_groups.management_groups.get("extra").name == "extra"
        # The seed would recreate sa1; state wins.
        assert not c.resources.resources.check_existence_by_id(SA1, api_version="2023-01-01")
        # A new identity after restart is still a new principal.
        c.policy.policy_assignments.delete(f"/subscriptions/{SUB}", "tags")
        recreated = c.policy.policy_assignments.create(
            f"/subscriptions/{SUB}",
            "tags",
            tag_assignment(d.id, "x"),
        )
        assert recreated.identity.principal_id != a.identity.principal_id


def test_a_task_interrupted_by_shutdown_ends_failed(tmp_path):
    state = tmp_path / "state.db"
    with running_emulator(seed=tenant_seed(), state=state, remediation_step_s=0.3) as url:
        c = build_clients(SUB, endpoint=url, retry_total=0)
        d = c.policy.policy_definitions.create_or_update("add-tag", tag_definition())
        a = c.policy.policy_assignments.create(
            f"/subscriptions/{SUB}",
            "tags",
            tag_assignment(d.id, "x"),
        )
        c.insights.remediations.create_or_update_at_subscription("r", {"properties": {"policyAssignmentId": a.id}})
    with running_emulator(state=state) as url:
        c = build_clients(SUB, endpoint=url, retry_total=0)
        rem = c.insights.remediations.get_at_subscription("r")
        assert rem.provisioning_state == "Failed"
