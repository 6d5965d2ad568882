"""The `custom` kind says any `then` a real definition has (#15): a fixed effect with no effect parameter,
and the list form of append's `details`.

Shapes as Microsoft Learn writes them:
- append, details as an array of field/value pairs:
  https://learn.microsoft.com/azure/governance/policy/concepts/effect-append#append-examples
- denyAction with a fixed effect and `actionNames`, as the ALZ library's DenyAction-DiagnosticLogs does:
  https://learn.microsoft.com/azure/governance/policy/concepts/effect-deny-action
  (Azure-Landing-Zones-Library platform/alz/policy_definitions/DenyAction-DiagnosticLogs.alz_policy_definition.json)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.errors import InputError
from policygen.evaluate.testing import run_tests
from policygen.render import compile_pack
from policygen.rules import has_errors, validate_build
from tests.render.helpers import write_pack

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
APPEND_LIST = """
intent: custom
displayName: Storage accounts allow the office range
mode: All
settings:
  effect: append
  if: {field: type, equals: Microsoft.Storage/storageAccounts}
  details:
    - field: "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]"
      value: {value: 134.5.0.0/21, action: Allow}
tests:
  - name: the office range is appended
    resource: {id: SUB/providers/Microsoft.Storage/storageAccounts/st1, type: Microsoft.Storage/storageAccounts,
               name: st1, location: westeurope, properties: {networkAcls: {ipRules: []}}}
    expect:
      effect: append
      modified: {properties: {networkAcls: {ipRules: [{value: 134.5.0.0/21, action: Allow}]}}}
""".replace("SUB", SUB)
FIXED_DENY = """
intent: custom
displayName: No public IP addresses
settings:
  effect: deny
  if: {field: type, equals: Microsoft.Network/publicIPAddresses}
tests:
  - name: a public IP is denied
    resource: {id: SUB/providers/Microsoft.Network/publicIPAddresses/ip1, type: Microsoft.Network/publicIPAddresses,
               name: ip1, location: westeurope}
    expect: {compliant: false, effect: deny}
  - name: a virtual network is not in scope
    resource: {id: SUB/providers/Microsoft.Network/virtualNetworks/v1, type: Microsoft.Network/virtualNetworks,
               name: v1, location: westeurope}
    expect: {matched: false}
""".replace("SUB", SUB)
DENY_ACTION = """
intent: custom
displayName: Diagnostic settings cannot be deleted
settings:
  effect: denyAction
  if: {field: type, equals: Microsoft.Insights/diagnosticSettings}
  details: {actionNames: [delete]}
"""


def test_fixed_effects_and_list_append_build_validate_and_evaluate(tmp_path: Path) -> None:
    build = compile_pack(write_pack(tmp_path, {"definitions/append-ip.yaml": APPEND_LIST,
                                               "definitions/no-public-ip.yaml": FIXED_DENY,
                                               "definitions/keep-diagnostics.yaml": DENY_ACTION}))
    append = build.definitions["append-ip"].properties
    assert append["parameters"] == {}  # no effect parameter: the effect is fixed
    assert append["policyRule"]["then"] == {
        "effect": "append",
        "details": [{"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]",
                     "value": {"value": "134.5.0.0/21", "action": "Allow"}}]}
    deny_action = build.definitions["keep-diagnostics"].properties
    assert deny_action["policyRule"]["then"] == {"effect": "denyAction", "details": {"actionNames": ["delete"]}}
    assert "effect" not in deny_action["parameters"]
    assert build.definitions["no-public-ip"].properties["policyRule"]["then"] == {"effect": "deny"}
    findings = validate_build(build)
    assert not has_errors(findings), [str(f) for f in findings if f.severity.name == "ERROR"]
    results = run_tests(build.definitions, build.tests).results
    assert len(results) == 3
    assert [r.failures for r in results if not r.passed] == []


def test_effect_and_settings_effect_together_is_an_error_at_the_effect(tmp_path: Path) -> None:
    text = FIXED_DENY.split("tests:")[0] + "effect: {default: Audit, allowed: [Audit, Disabled]}\n"
    root = write_pack(tmp_path, {"definitions/both.yaml": text})
    with pytest.raises(InputError) as info:
        compile_pack(root)
    shown = [str(d) for d in info.value.diagnostics]
    assert len(shown) == 1 and "both.yaml:6:" in shown[0] and "settings.effect" in shown[0], shown


def test_details_must_be_an_object_or_a_list(tmp_path: Path) -> None:
    text = DENY_ACTION.replace("details: {actionNames: [delete]}", "details: delete")
    with pytest.raises(InputError) as info:
        compile_pack(write_pack(tmp_path, {"definitions/bad.yaml": text}))
    assert any("settings.details" in str(d) for d in info.value.diagnostics)
