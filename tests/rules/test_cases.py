"""One parametrised test runs every YAML case in tests/rules/cases/<CODE>.yml (sqlfluff style).

A case file names its rule and lists cases; each case starts from a clean base object (`base:
definition | initiative | assignment`, or a literal `object`), patches it (`set`: pointer → value,
`delete`: pointers), and says `pass` (no finding of this code) or `fail` (at least one; optional `at`
pointers, `severity` and a `message` substring). `options` passes own/custom/definitions/assignment_scope
to validate_object.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from policygen.rules import all_rules, validate_object

CASES = Path(__file__).parent / "cases"

BASES: dict[str, dict] = {
    "definition": {
        "name": "deny-storage-public",
        "properties": {
            "displayName": "Storage accounts disable public network access",
            "description": "Storage accounts must not accept traffic from public networks.",
            "mode": "Indexed",
            "metadata": {"category": "Storage", "version": "1.0.0"},
            "parameters": {
                "effect": {
                    "type": "String",
                    "allowedValues": ["Audit", "Deny", "Disabled"],
                    "defaultValue": "Audit",
                    "metadata": {"displayName": "Effect", "description": "What happens on a match."},
                }
            },
            "policyRule": {
                "if": {
                    "allOf": [
                        {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                        {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "notEquals": "Disabled"},
                    ]
                },
                "then": {"effect": "[parameters('effect')]"},
            },
        },
    },
    "initiative": {
        "name": "storage-baseline",
        "properties": {
            "displayName": "Storage baseline",
            "description": "Storage network controls.",
            "metadata": {"category": "Storage", "version": "1.0.0"},
            "parameters": {
                "effect": {
                    "type": "String",
                    "allowedValues": ["Audit", "Disabled"],
                    "defaultValue": "Audit",
                    "metadata": {"displayName": "Effect", "description": "Effect for all members."},
                }
            },
            "policyDefinitionGroups": [{"name": "network", "category": "Network"}],
            "policyDefinitions": [
                {
                    "policyDefinitionId": "/providers/Microsoft.Management/managementGroups/contoso/providers/"
                    "Microsoft.Authorization/policyDefinitions/deny-storage-public",
                    "policyDefinitionReferenceId": "storagePublic",
                    "parameters": {"effect": {"value": "[parameters('effect')]"}},
                    "groupNames": ["network"],
                }
            ],
        },
    },
    "assignment": {
        "name": "storage-baseline",
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "displayName": "Storage baseline",
            "policyDefinitionId": "/providers/Microsoft.Management/managementGroups/contoso/providers/"
            "Microsoft.Authorization/policySetDefinitions/storage-baseline",
            "enforcementMode": "Default",
            "parameters": {"effect": {"value": "Audit"}},
            "nonComplianceMessages": [{"message": "Disable public access."}],
        },
    },
}
# Cross-check context shared by initiative and assignment cases.
DEFINITIONS = {"deny-storage-public": BASES["definition"], "storage-baseline": BASES["initiative"]}


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _set(obj: dict, pointer: str, value: object) -> None:
    *parents, last = _tokens(pointer)
    cur = obj
    for t in parents:
        cur = cur[int(t)] if isinstance(cur, list) else cur.setdefault(t, {})
    if isinstance(cur, list):
        if last == "-":
            cur.append(value)
        else:
            cur[int(last)] = value
    else:
        cur[last] = value


def _delete(obj: dict, pointer: str) -> None:
    *parents, last = _tokens(pointer)
    cur = obj
    for t in parents:
        cur = cur[int(t)] if isinstance(cur, list) else cur[t]
    del cur[int(last) if isinstance(cur, list) else last]


def build_case(case: dict) -> tuple[dict, dict]:
    obj = copy.deepcopy(case["object"]) if "object" in case else copy.deepcopy(BASES[case.get("base", "definition")])
    for pointer in case.get("delete", []):
        _delete(obj, pointer)
    for pointer, value in (case.get("set") or {}).items():
        _set(obj, pointer, copy.deepcopy(value))
    if "many_parameters" in case:
        params = obj["properties"]["parameters"]
        for i in range(case["many_parameters"]):
            params[f"p{i}"] = {"type": "String", "defaultValue": "x"}
    for pointer, (text, n) in (case.get("repeat") or {}).items():
        _set(obj, pointer, text * n)
    options = {"own": True, "custom": True, "definitions": DEFINITIONS}
    options.update(case.get("options") or {})
    if options.get("definitions") == "none":
        options["definitions"] = None
    return obj, options


def run_copies(obj: dict, options: dict, n: int) -> list:
    from policygen.rules.checking import validate_doc
    from policygen.rules.registry import run_collection

    summaries: list = []
    findings = []
    for i in range(n):
        findings += validate_doc(
            obj,
            kind=None,
            source=f"copy{i}.json",
            own=options["own"],
            custom=options["custom"],
            catalogue=None,
            definitions=options["definitions"],
            assignment_scope=options.get("assignment_scope"),
            summaries=summaries,
        )
    return findings + run_collection(summaries)


def load_cases() -> list:
    params = []
    for path in sorted(CASES.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        code = data["rule"]
        for case in data["cases"]:
            params.append(pytest.param(code, case, id=f"{code}:{case['name']}"))
    return params


@pytest.mark.parametrize(("code", "case"), load_cases())
def test__rules__yaml_case(code: str, case: dict) -> None:
    obj, options = build_case(case)
    # per-run (collection) rules: validate N copies as one run
    findings = run_copies(obj, options, case["copies"]) if "copies" in case else validate_object(obj, **options)
    mine = [f for f in findings if f.code == code]
    crashed = [f for f in findings if "crashed" in f.message]
    assert not crashed, crashed
    if case["expect"] == "pass":
        assert not mine, [f.message for f in mine]
    else:
        assert mine, f"expected {code}; got {[(f.code, f.message) for f in findings]}"
        for pointer in case.get("at", []):
            assert pointer in {f.pointer for f in mine}, [(f.pointer, f.message) for f in mine]
        if "severity" in case:
            assert {f.severity.value for f in mine} == {case["severity"]}
        if "message" in case:
            assert any(case["message"] in f.message for f in mine), [f.message for f in mine]


@pytest.mark.parametrize("kind", sorted(BASES))
def test__rules__bases_are_clean(kind: str) -> None:
    findings = validate_object(copy.deepcopy(BASES[kind]), own=True, definitions=DEFINITIONS)
    assert [f for f in findings if f.severity.value != "info"] == []


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test__rules__every_rule_has_a_passing_and_a_failing_case(rule) -> None:
    path = CASES / f"{rule.code}.yml"
    assert path.is_file(), f"missing {path.name}"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["rule"] == rule.code
    expects = {c["expect"] for c in data["cases"]}
    assert expects == {"pass", "fail"}, expects
