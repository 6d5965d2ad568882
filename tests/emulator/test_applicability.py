"""The emulator's policy states use the evaluator's one applicability answer (issue #12): Indexed mode never
evaluates resource groups or subscriptions; a rule on `Microsoft.Resources/subscriptions/resourceGroups`
sees the emulator's resource groups (stored as `az group show` spells them). Real SDK clients over HTTP.

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics#resource-manager-modes
"""

from __future__ import annotations

from policygen.evaluate import compile_policy

from .conftest import RG1, RG2, SUB


def _owner_tag(mode: str, rg_only: bool) -> dict:
    cond: dict = {"field": "tags['owner']", "exists": "false"}
    if rg_only:
        cond = {"allOf": [{"field": "type", "equals": "Microsoft.Resources/subscriptions/resourceGroups"}, cond]}
    return {"properties": {"displayName": f"owner tag ({mode})", "mode": mode,
                           "metadata": {"category": "Tags", "version": "1.0.0"},
                           "policyRule": {"if": cond, "then": {"effect": "audit"}}}}


def _states(clients, name: str, body: dict) -> set[str]:
    d = clients.policy.policy_definitions.create_or_update(name, body)
    clients.policy.policy_assignments.create(f"/subscriptions/{SUB}", name, {"properties": {"policyDefinitionId": d.id}})
    clients.insights.policy_states.begin_trigger_subscription_evaluation(SUB).result()
    return {s.resource_id.lower() for s in clients.insights.policy_states.list_query_results_for_subscription(
        "latest", SUB) if s.policy_assignment_name == name}  # fmt: skip


def test_indexed_mode_skips_resource_groups_and_subscriptions(clients) -> None:
    states = _states(clients, "owner-indexed", _owner_tag("Indexed", rg_only=False))
    assert states and not any(s in states for s in (RG1.lower(), RG2.lower(), f"/subscriptions/{SUB}"))
    all_states = _states(clients, "owner-all", _owner_tag("All", rg_only=False))
    assert {RG1.lower(), RG2.lower(), f"/subscriptions/{SUB}"} <= all_states


def test_resource_group_rules_see_the_emulators_resource_groups(clients) -> None:
    body = _owner_tag("All", rg_only=True)
    assert _states(clients, "owner-rg", body) == {RG1.lower(), RG2.lower()}
    rg = {"id": RG1, "name": "rg1", "type": "Microsoft.Resources/resourceGroups", "location": "westeurope"}
    assert compile_policy(body).evaluate(rg).compliant is False  # the same answer offline
