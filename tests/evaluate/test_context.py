"""The context Azure supplies (issue #12): resource group / subscription tags and properties, policy()
fields, utcNow, requestContext().apiVersion, from `--context FILE` and from a test's `context:`.

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#policy-functions
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from policygen.evaluate import compile_policy
from policygen.evaluate.context import ContextError, context_from_mapping
from tests.evaluate.helpers import definition

CONTEXT = {
    "resourceGroup": {"name": "rg-app", "location": "westeurope", "tags": {"costCenter": "cc-42"},
                      "properties": {"provisioningState": "Succeeded"}},
    "subscription": {"subscriptionId": "11111111-1111-1111-1111-111111111111", "displayName": "Prod",
                     "tags": {"env": "prod"}},
    "policy": {"assignmentId": "/providers/Microsoft.Management/managementGroups/mg/providers/"
                               "Microsoft.Authorization/policyAssignments/a1"},
    "requestContext": {"apiVersion": "2021-09-01", "identity": {"idtyp": "user"}},
    "utcNow": "2025-01-31T12:00:00Z",
}
SA = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa", "name": "sa",
      "type": "Microsoft.Storage/storageAccounts", "location": "westeurope", "tags": {}}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[resourceGroup().tags['costCenter']]", "cc-42"),
        ("[resourceGroup().name]", "rg-app"),
        ("[resourceGroup().location]", "westeurope"),
        ("[subscription().tags.env]", "prod"),
        ("[subscription().displayName]", "Prod"),
        ("[subscription().subscriptionId]", "11111111-1111-1111-1111-111111111111"),
        ("[last(split(policy().assignmentId, '/'))]", "a1"),
        ("[requestContext().apiVersion]", "2021-09-01"),
        ("[tryGet(requestContext().identity, 'idtyp')]", "user"),
        ("[utcNow()]", "2025-01-31T12:00:00.0000000Z"),
        ("[addDays(utcNow(), 1)]", "2025-02-01T12:00:00Z"),
    ],
)
def test_context_functions(expression: str, expected: str) -> None:
    pol = compile_policy(definition({"value": expression, "equals": expected}))
    assert pol.evaluate(SA, context=context_from_mapping(CONTEXT)).matched


def test_context_is_case_insensitive_and_strict() -> None:
    ctx = context_from_mapping({"UTCNOW": "2024-01-01T00:00:00Z", "resourcegroup": {"NAME": "x"}})
    assert ctx.utc_now == datetime(2024, 1, 1, tzinfo=UTC) and ctx.resource_group == "x"
    with pytest.raises(ContextError, match="unknown context key"):
        context_from_mapping({"resourceGroups": {}})
    with pytest.raises(ContextError, match="utcNow"):
        context_from_mapping({"utcNow": "yesterday"})
    with pytest.raises(ContextError, match="resourceGroup.tags"):
        context_from_mapping({"resourceGroup": {"tags": ["a"]}})


INHERIT = definition(
    {"allOf": [{"field": "tags['costCenter']", "exists": False},
               {"value": "[tryGet(resourceGroup().tags, 'costCenter')]", "notEquals": ""}]},
)


def test_evaluate_and_impact_take_a_context_file(tmp_path, capsys) -> None:
    from policygen.cli import run

    d, r, c, inv = (tmp_path / n for n in ("def.json", "res.json", "ctx.yaml", "inv.json"))
    d.write_text(json.dumps(INHERIT))
    r.write_text(json.dumps(SA))
    inv.write_text(json.dumps([SA]))
    c.write_text("resourceGroup:\n  name: rg\n  tags: {costCenter: cc-42}\n")
    assert run(["evaluate", str(d), str(r)]) == 0  # no resource group tag without a context
    assert run(["evaluate", str(d), str(r), "--context", str(c)]) == 1
    assert run(["impact", str(d), "-r", str(inv), "--context", str(c), "-f", "json", "-j", "1"]) == 1
    c.write_text("resourceGroups: {}\n")
    capsys.readouterr()
    assert run(["evaluate", str(d), str(r), "--context", str(c)]) == 2
    assert f"{c}:1:1: unknown context key" in capsys.readouterr().err


def test_policy_test_cases_carry_their_context(repo_dir, tmp_path) -> None:
    from policygen.tasks.policy_tests import run_policy_tests
    from tests.evaluate.test_commands import _copy_pack

    pack = _copy_pack(repo_dir, tmp_path)
    (pack / "definitions" / "zz-inherit.yaml").write_text(
        "intent: custom\n"
        "displayName: Inherit the cost centre\n"
        "description: Resources carry their resource group's costCenter tag.\n"
        "settings:\n"
        "  mode: Indexed\n"
        "  if:\n"
        "    allOf:\n"
        "      - {field: \"tags['costCenter']\", exists: false}\n"
        "      - {value: \"[tryGet(resourceGroup().tags, 'costCenter')]\", notEquals: ''}\n"
        "tests:\n"
        "  - name: group has the tag\n"
        "    resource: {type: Microsoft.Storage/storageAccounts, name: sa, location: westeurope}\n"
        "    context: {resourceGroup: {name: rg, tags: {costCenter: cc-42}}}\n"
        "    expect: {compliant: false}\n"
        "  - name: group without the tag\n"
        "    resource: {type: Microsoft.Storage/storageAccounts, name: sa, location: westeurope}\n"
        "    expect: {compliant: true}\n"
        "  - name: a bad context fails the test\n"
        "    resource: {type: Microsoft.Storage/storageAccounts, name: sa, location: westeurope}\n"
        "    context: {utcNow: never}\n"
        "    expect: {compliant: true}\n"
    )
    result = run_policy_tests(pack, keyword="zz-inherit")
    outcomes = {r.case.name: (r.passed, r.failures) for r in result.run.results}
    assert outcomes["group has the tag"] == (True, [])
    assert outcomes["group without the tag"] == (True, [])
    assert outcomes["a bad context fails the test"][0] is False
    assert "utcNow" in outcomes["a bad context fails the test"][1][0]
