"""Every condition operator, with Azure's case-insensitivity, missing-field and type-mismatch rules."""

from __future__ import annotations

import pytest

from policygen.evaluate import UnsupportedError, compile_policy
from tests.evaluate.helpers import definition, matches, run

RES = {
    "type": "Microsoft.Storage/storageAccounts",
    "name": "sa1",
    "location": "West Europe",
    "kind": "StorageV2",
    "tags": {"Env": "Prod", "cost-center": "42"},
    "properties": {
        "minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": True,
        "count": 5,
        "ratio": 5.0,
        "created": "2024-03-01T10:00:00Z",
        "bypass": "AzureServices, Logging",
        "list": ["a", "B"],
        "obj": {"Key1": 1},
        "nothing": None,
    },
}


def f(path: str) -> str:
    return f"Microsoft.Storage/storageAccounts/{path}"


@pytest.mark.parametrize(
    ("field", "op", "rhs", "expected"),
    [
        # equals / notEquals: case-insensitive, scalars by string form
        (f("minimumTlsVersion"), "equals", "tls1_2", True),
        (f("minimumTlsVersion"), "notEquals", "TLS1_2", False),
        (f("supportsHttpsTrafficOnly"), "equals", "true", True),
        (f("supportsHttpsTrafficOnly"), "equals", "True", True),
        (f("supportsHttpsTrafficOnly"), "notEquals", True, False),
        (f("count"), "equals", "5", True),
        (f("count"), "equals", 5, True),
        (f("ratio"), "equals", "5", False),  # "5.0" != "5"
        (f("list"), "equals", ["A", "b"], True),  # arrays compare as a unit
        (f("obj"), "equals", {"key1": 1}, True),
        # a missing field reads as "" for string operators
        (f("missing"), "equals", "", True),
        (f("missing"), "notEquals", "x", True),
        (f("nothing"), "notEquals", "x", True),
        # like / notLike
        ("name", "like", "SA*", True),
        ("name", "like", "*1", True),
        ("name", "like", "s*1", True),
        ("name", "like", "*a*", True),
        ("name", "like", "sa1", True),
        ("name", "notLike", "x*", True),
        ("type", "like", "Microsoft.Storage/*", True),
        # match: # digit, ? letter, . any; case-sensitive; whole string
        ("name", "match", "??#", True),
        ("name", "match", "SA#", False),
        ("name", "match", "?.", False),
        ("name", "matchInsensitively", "SA#", True),
        ("name", "notMatch", "SA#", True),
        ("name", "notMatchInsensitively", "SA#", False),
        (f("minimumTlsVersion"), "match", "TLS#_#", True),
        # contains / notContains: case-insensitive substring; arrays by member
        (f("bypass"), "contains", "azureservices", True),
        (f("bypass"), "notContains", "Metrics", True),
        (f("list"), "contains", "b", True),
        (f("list"), "notContains", "c", True),
        # in / notIn
        (f("minimumTlsVersion"), "in", ["TLS1_1", "tls1_2"], True),
        (f("minimumTlsVersion"), "notIn", ["TLS1_0"], True),
        (f("count"), "in", ["5", "6"], True),
        (f("missing"), "notIn", ["a"], True),
        # containsKey / notContainsKey (case-insensitive key)
        ("tags", "containsKey", "env", True),
        ("tags", "notContainsKey", "owner", True),
        (f("obj"), "containsKey", "KEY1", True),
        (f("minimumTlsVersion"), "containsKey", "x", False),
        # ordering: numbers, strings (case-insensitive), ISO dates
        (f("count"), "greater", 4, True),
        (f("count"), "greaterOrEquals", 5, True),
        (f("count"), "less", 5, False),
        (f("count"), "lessOrEquals", 5, True),
        (f("minimumTlsVersion"), "less", "tls1_3", True),
        (f("created"), "greater", "2024-02-29T23:59:59.9999999Z", True),
        (f("created"), "less", "2024-03-01T10:00:01+00:00", True),
        (f("created"), "greaterOrEquals", "2024-03-01", True),
        (f("missing"), "greater", 1, False),
        (f("missing"), "less", "z", False),
        # exists: booleans and the strings "true"/"false" in any case
        (f("minimumTlsVersion"), "exists", True, True),
        (f("minimumTlsVersion"), "exists", "True", True),
        (f("missing"), "exists", "false", True),
        (f("missing"), "exists", "FALSE", True),
        (f("nothing"), "exists", False, True),
        (f("missing"), "exists", "true", False),
        # location is normalised
        ("location", "equals", "westeurope", True),
        ("location", "in", ["westeurope", "northeurope"], True),
        ("location", "notIn", ["West Europe"], False),
        # built-in fields
        ("kind", "equals", "storagev2", True),
        ("tags['env']", "equals", "prod", True),
        ("tags.cost-center", "equals", "42", True),
        ("tags[cost-center]", "equals", "42", True),
    ],
)
def test_operator(field: str, op: str, rhs, expected: bool) -> None:
    assert matches({"field": field, op: rhs}, RES) is expected


def test_operator_keys_are_case_insensitive() -> None:
    cond = {
        "AllOf": [
            {"Field": "type", "Equals": "microsoft.storage/storageaccounts"},
            {"field": "name", "Like": "sa*"},
            {"field": "name", "notequals": "x"},
            {"field": "tags", "ContainsKey": "env"},
        ]
    }
    assert matches(cond, RES)


@pytest.mark.parametrize(
    ("cond", "why"),
    [
        ({"field": f("count"), "greater": "4"}, "cannot compare number"),
        ({"field": f("minimumTlsVersion"), "less": 3}, "cannot compare string"),
        ({"field": "name", "in": "sa1"}, "expects an array"),
        ({"value": "[parameters('p')]", "equals": "[parameters('p')]"}, "null"),
    ],
)
def test_type_mismatch_fails_evaluation_as_implicit_deny(cond: dict, why: str) -> None:
    out = run(cond, RES, values={"p": None})
    assert out.error is not None and why in out.error
    assert out.denied and out.compliant is False


def test_value_side_null_reads_as_empty_string() -> None:
    assert matches({"value": "[tryGet(field('tags'), 'owner')]", "equals": ""}, RES)


def test_exists_rejects_non_boolean() -> None:
    with pytest.raises(UnsupportedError):
        compile_policy(definition({"field": "name", "exists": "maybe"}))


@pytest.mark.parametrize(
    "cond",
    [
        {"field": "name"},
        {"field": "name", "equals": "a", "notEquals": "b"},
        {"field": "name", "value": "x", "equals": "a"},
        {"source": "action", "like": "Microsoft.Network/*"},
        {"allOf": []},
        {"field": "name", "regex": "a"},
    ],
)
def test_malformed_conditions_are_rejected(cond: dict) -> None:
    with pytest.raises(UnsupportedError):
        compile_policy(definition(cond))


def test_logical_operators() -> None:
    t, fl = {"field": "name", "equals": "sa1"}, {"field": "name", "equals": "x"}
    assert matches({"allOf": [t, t]}, RES) and not matches({"allOf": [t, fl]}, RES)
    assert matches({"anyOf": [fl, t]}, RES) and not matches({"anyOf": [fl, fl]}, RES)
    assert matches({"not": fl}, RES) and not matches({"not": t}, RES)
    assert matches({"anyof": [{"not": {"allof": [t, fl]}}]}, RES)
