"""Policy states: triggerEvaluation (LRO), queryResults and summarize, against what the evaluator predicts."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.policyinsights.models import QueryOptions

from policygen.evaluate import compile_policy

from .conftest import MG, RG1, RG2, SUB, audit_definition, tag_definition, tenant_seed


def predicted_noncompliant(definition: dict, params: dict, resources: list[dict]) -> set[str]:
    cp = compile_policy(definition, params)
    return {r["id"].lower() for r in resources if cp.evaluate(r).compliant is False}


def test_trigger_evaluation_and_summarize_match_the_evaluator(clients, emulator):
    body = audit_definition()
    d = clients.policy.policy_definitions.create_or_update_at_management_group("contoso", "https-only", body)
    clients.policy.policy_assignments.create(f"{MG}/contoso", "https", {"properties": {"policyDefinitionId": d.id}})

    poller = clients.insights.policy_states.begin_trigger_subscription_evaluation(SUB)
    poller.result()
    assert poller.status().lower() == "succeeded"
    trig = [r for r in emulator.requests if "triggerEvaluation" in r["path"] or "asyncOperationResults" in r["path"]]
    assert [r["status"] for r in trig] == [202, 200]

    expected = predicted_noncompliant(body, {}, tenant_seed()["resources"])
    assert expected == {tenant_seed()["resources"][0]["id"].lower()}
    summary = clients.insights.policy_states.summarize_for_subscription("latest", SUB).value[0]
    assert summary.results.non_compliant_resources == len(expected)
    details = {d.compliance_state: d.count for d in summary.results.resource_details}
    assert details == {"compliant": 1, "noncompliant": 1}  # two storage accounts; the vnet is not applicable
    assert summary.policy_assignments[0].policy_definitions[0].effect == "audit"

    states = list(clients.insights.policy_states.list_query_results_for_subscription("latest", SUB))
    assert {s.resource_id.lower() for s in states if not s.is_compliant} == expected
    assert {s.compliance_state for s in states} == {"Compliant", "NonCompliant"}
    assert set(states[0].management_group_ids.split(",")) == {"prod", "contoso", emulator.emulator.tenant_id}
    nc = list(
        clients.insights.policy_states.list_query_results_for_resource_group(
            "latest", SUB, "rg1", query_options=QueryOptions(filter="complianceState eq 'NonCompliant'")
        )
    )
    assert [s.resource_id for s in nc] == [f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa1"]


def test_initiative_members_not_scopes_and_disabled(clients):
    pd = clients.policy.policy_definitions
    audit = pd.create_or_update("https-only", audit_definition())
    tags = pd.create_or_update("add-tag", tag_definition())
    s = clients.policy.policy_set_definitions.create_or_update(
        "baseline",
        {
            "properties": {
                "displayName": "Baseline",
                "metadata": {"category": "x", "version": "1.0.0"},
                "policyDefinitions": [
                    {"policyDefinitionId": audit.id, "policyDefinitionReferenceId": "https"},
                    {
                        "policyDefinitionId": tags.id,
                        "policyDefinitionReferenceId": "tag",
                        "parameters": {"tagName": {"value": "env"}, "tagValue": {"value": "prod"}},
                    },
                ],
            }
        },
    )
    clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "baseline",
        {
            "location": "westeurope",
            "identity": {"type": "SystemAssigned"},
            "properties": {"policyDefinitionId": s.id, "notScopes": [RG2]},
        },
    )
    states = list(clients.insights.policy_states.list_query_results_for_subscription("latest", SUB))
    assert all(not st.resource_id.lower().startswith(RG2.lower()) for st in states)  # notScopes
    by_ref = {
        (st.policy_definition_reference_id, st.resource_id.rsplit("/", 1)[-1]): st.compliance_state for st in states
    }
    assert by_ref[("https", "sa1")] == "NonCompliant"
    assert by_ref[("tag", "sa1")] == "NonCompliant" and by_ref[("tag", "vnet1")] == "NonCompliant"
    assert all(st.policy_set_definition_id == s.id for st in states)

    # Disabled members report nothing.
    clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "off",
        {"properties": {"policyDefinitionId": audit.id, "parameters": {"effect": {"value": "Disabled"}}}},
    )
    assignment_ids = {
        st.policy_assignment_id.rsplit("/", 1)[-1]
        for st in clients.insights.policy_states.list_query_results_for_subscription("latest", SUB)
    }
    assert assignment_ids == {"baseline"}


def test_query_results_page_and_filter(clients):
    d = clients.policy.policy_definitions.create_or_update("add-tag", tag_definition())
    for i in range(3):
        clients.policy.policy_assignments.create(
            f"/subscriptions/{SUB}",
            f"t{i}",
            {
                "location": "westeurope",
                "identity": {"type": "SystemAssigned"},
                "properties": {
                    "policyDefinitionId": d.id,
                    "parameters": {"tagName": {"value": f"t{i}"}, "tagValue": {"value": "x"}},
                },
            },
        )
    ps = clients.insights.policy_states
    all_states = list(ps.list_query_results_for_subscription("latest", SUB))
    assert len(all_states) == 9  # 3 resources x 3 assignments, over two pages of 5
    one = list(
        ps.list_query_results_for_subscription(
            "latest",
            SUB,
            query_options=QueryOptions(
                filter=f"policyAssignmentId eq '/subscriptions/{SUB}/providers/"
                "Microsoft.Authorization/policyAssignments/t1'"
            ),
        )
    )
    assert len(one) == 3
    assert len(list(ps.list_query_results_for_subscription("latest", SUB, query_options=QueryOptions(top=4)))) == 4
    by_assignment = list(ps.list_query_results_for_subscription_level_policy_assignment("latest", SUB, "t2"))
    assert {s.policy_assignment_name for s in by_assignment} == {"t2"}


def test_trigger_evaluation_only_at_subscription_or_resource_group(clients, emulator):
    emulator.emulator.config.evaluation_s = 0.1
    clients.insights.policy_states.begin_trigger_resource_group_evaluation(SUB, "rg1").result()
    polls = [r for r in emulator.requests if "asyncOperationResults" in r["path"]]
    assert polls[-1]["status"] == 200 and len(polls) >= 2
    with pytest.raises(HttpResponseError):
        clients.insights.policy_states.begin_trigger_resource_group_evaluation(SUB, "nope").result()


def test_resource_selectors_and_effect_overrides(clients):
    d = clients.policy.policy_definitions.create_or_update("https-only", audit_definition())
    clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "west-only",
        {
            "properties": {
                "policyDefinitionId": d.id,
                "resourceSelectors": [
                    {"name": "west", "selectors": [{"kind": "resourceLocation", "in": ["West Europe"]}]}
                ],
            }
        },
    )
    states = list(clients.insights.policy_states.list_query_results_for_subscription("latest", SUB))
    assert [s.resource_id.rsplit("/", 1)[-1] for s in states] == ["sa1"]  # sa2 is in northeurope

    clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "west-only",
        {
            "properties": {
                "policyDefinitionId": d.id,
                "overrides": [
                    {
                        "kind": "policyEffect",
                        "value": "Disabled",
                        "selectors": [{"kind": "resourceLocation", "in": ["northeurope"]}],
                    }
                ],
            }
        },
    )
    states = list(clients.insights.policy_states.list_query_results_for_subscription("latest", SUB))
    assert [s.resource_id.rsplit("/", 1)[-1] for s in states] == ["sa1"]
    assert states[0].policy_definition_action == "audit"
