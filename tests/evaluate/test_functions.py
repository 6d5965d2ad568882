"""Template functions: the 50 the built-ins use in policy-evaluated regions (reference 3.6), the rest
of the pure ARM library, and the failure behaviour Azure documents (errors are implicit denies)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policygen.evaluate import EvalContext, EvaluationFailure, UnsupportedError, compile_policy
from policygen.evaluate.functions import murmur64
from tests.evaluate.helpers import definition, matches, run, value

RES = {
    "id": "/subscriptions/sub-1/resourceGroups/rg-app/providers/Microsoft.Sql/servers/srv/databases/db1",
    "type": "Microsoft.Sql/servers/databases",
    "name": "srv/db1",
    "location": "westeurope",
    "tags": {"env": "prod"},
    "properties": {"ip": "10.0.0.5", "items": ["a", "b", "c"], "n": 7, "created": "2024-01-31T00:00:00Z"},
}
CTX = EvalContext(
    api_version="2021-06-01",
    utc_now=datetime(2024, 2, 29, 12, 30, 45, 123456, tzinfo=UTC),
    subscription_tags={"owner": "team"},
    resource_group_tags={"cc": "42"},
    resource_group_managed_by="/subscriptions/x/managedBy",
    assignment_id="/subscriptions/sub-1/providers/Microsoft.Authorization/policyAssignments/a1",
    definition_reference_id="ref1",
)


def v(expr: str, **kw):
    kw.setdefault("context", CTX)
    return value(expr, RES, **kw)


P = "Microsoft.Sql/servers/databases/"

# The 50 functions of reference 3.6, each with at least one case.
CASES = [
    ("[add(2, 3)]", 5),
    # addDays returns `yyyy-MM-ddTHH:mm:ss.FFFFFFFZ`: optional fraction digits, trailing zeros dropped
    # https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#policy-functions
    ("[addDays('2024-02-28T10:00:00Z', 2)]", "2024-03-01T10:00:00Z"),
    ("[addDays('2024-02-28T10:00:00.1200000Z', -1)]", "2024-02-27T10:00:00.12Z"),
    ("[addDays('2024-02-28T10:00:00.1234567Z', 0)]", "2024-02-28T10:00:00.123456Z"),
    # float() of an integer is that number (https://learn.microsoft.com/azure/azure-resource-manager/
    # templates/template-functions-numeric#float); a fraction stays a fraction
    ("[float(5)]", 5),
    ("[equals(float('5'), 5)]", True),
    ("[float('4.5')]", 4.5),
    ("[and(true, equals(1, 1))]", True),
    ("[array('x')]", ["x"]),
    ("[array(createArray(1))]", [1]),
    ("[base64('hello')]", "aGVsbG8="),
    ("[bool('True')]", True),
    ("[bool(0)]", False),
    ("[coalesce(null(), tryGet(createObject(), 'x'), 'z')]", "z"),
    ("[concat('a', 1, true)]", "a1True"),
    ("[concat(createArray(1), createArray(2, 3))]", [1, 2, 3]),
    ("[contains('Hello', 'ell')]", True),
    ("[contains('Hello', 'ELL')]", False),  # ARM contains is case-sensitive on strings
    ("[contains(createObject('Key', 1), 'key')]", True),  # ... but not on object keys
    ("[contains(createArray('a', 'b'), 'b')]", True),
    ("[createArray(1, 'a')]", [1, "a"]),
    ("[createObject('a', 1, 'b', createArray())]", {"a": 1, "b": []}),
    ("[empty('')]", True),
    ("[empty(createObject())]", True),
    ("[empty(createArray(1))]", False),
    ("[equals('a', 'a')]", True),
    ("[equals(createArray(1, 2), createArray(1, 2))]", True),
    ("[false()]", False),
    (f"[field('{P}ip')]", "10.0.0.5"),
    ("[field('name')]", "db1"),
    ("[field('fullName')]", "srv/db1"),
    ("[field('id')]", RES["id"]),
    ("[field('tags')]", {"env": "prod"}),
    (f"[field('{P}missing')]", ""),
    ("[first(createArray(3, 4))]", 3),
    ("[first('abc')]", "a"),
    ("[format('{0}-{1:D3}', 'x', 7)]", "x-007"),
    ("[greater(2, 1)]", True),
    ("[greater('b', 'a')]", True),
    ("[greaterOrEquals(2, 2)]", True),
    ("[if(equals(1, 2), 'y', 'n')]", "n"),
    ("[int('42')]", 42),
    ("[intersection(createArray(1, 2, 3), createArray(2, 3, 4))]", [2, 3]),
    ("[ipRangeContains('10.0.0.0/24', '10.0.0.5')]", True),
    ("[ipRangeContains('10.0.0.0-10.0.0.9', '10.0.0.8/30')]", False),
    ("[ipRangeContains('2001:0DB8::/110', '2001:0DB8::3:FFFE')]", True),
    ("[last(createArray(3, 4))]", 4),
    ("[last('abc')]", "c"),
    (f"[length(field('{P}items'))]", 3),
    ("[length('abcd')]", 4),
    ("[less(1, 2)]", True),
    ("[lessOrEquals(2, 2)]", True),
    ("[max(1, 5, 3)]", 5),
    ("[max(createArray(1, 9))]", 9),
    ("[mul(6, 7)]", 42),
    ("[not(false())]", True),
    ("[or(false(), true())]", True),
    ("[padLeft(7, 3, '0')]", "007"),
    ("[padLeft('ab', 4)]", "  ab"),
    ("[parameters('p')]", "pv"),
    ("[policy().assignmentId]", CTX.assignment_id),
    ("[policy().definitionReferenceId]", "ref1"),
    ("[replace('a-b-c', '-', '')]", "abc"),
    ("[requestContext().apiVersion]", "2021-06-01"),
    ("[tryGet(requestContext().identity, 'idtyp')]", None),
    ("[resourceGroup().name]", "rg-app"),
    ("[resourceGroup().tags.cc]", "42"),
    ("[resourcegroup().managedBy]", "/subscriptions/x/managedBy"),
    ("[resourceGroup().id]", "/subscriptions/sub-1/resourceGroups/rg-app"),
    ("[skip(createArray(1, 2, 3), 1)]", [2, 3]),
    ("[skip('abc', 2)]", "c"),
    ("[split('a,b;c', createArray(',', ';'))]", ["a", "b", "c"]),
    ("[split('a/b', '/')]", ["a", "b"]),
    ("[startsWith('Hello', 'he')]", True),
    ("[string(createObject('a', 1))]", '{"a":1}'),
    ("[string(true)]", "True"),
    ("[string(5)]", "5"),
    ("[subscription().subscriptionId]", "sub-1"),
    ("[subscription().id]", "/subscriptions/sub-1"),
    ("[subscription().tags.owner]", "team"),
    ("[take(createArray(1, 2, 3), 2)]", [1, 2]),
    ("[toLower('AbC')]", "abc"),
    ("[trim('  x ')]", "x"),
    ("[tryGet(createObject('a', createObject('b', 1)), 'a', 'b')]", 1),
    ("[tryGet(createArray(1, 2), 5)]", None),
    ("[union(createArray(1, 2), createArray(2, 3))]", [1, 2, 3]),
    ("[union(createObject('a', 1), createObject('b', 2))]", {"a": 1, "b": 2}),
    ("[uniqueString('a', 'b')]", None),  # checked separately (format)
    ("[utcNow()]", "2024-02-29T12:30:45.1234560Z"),
    ("[utcNow('yyyy-MM-dd')]", "2024-02-29"),
    # beyond the 50: the rest of the pure ARM library
    ("[sub(5, 7)]", -2),
    ("[div(-7, 2)]", -3),
    ("[mod(-7, 2)]", -1),
    ("[min(3, 1)]", 1),
    ("[toUpper('a')]", "A"),
    ("[endsWith('abc', 'BC')]", True),
    ("[indexOf('abcabc', 'C')]", 2),
    ("[lastIndexOf('abcabc', 'c')]", 5),
    ("[substring('abcdef', 1, 3)]", "bcd"),
    ("[join(createArray('a', 'b'), '-')]", "a-b"),
    ("[json('{\"a\": [1]}')]", {"a": [1]}),
    ("[range(2, 3)]", [2, 3, 4]),
    ("[base64ToString('aGVsbG8=')]", "hello"),
    ("[items(createObject('b', 1, 'a', 2))]", [{"key": "a", "value": 2}, {"key": "b", "value": 1}]),
    ("[true()]", True),
    ("[null()]", None),
    ("[uriComponent('a b')]", "a%20b"),
    ("[createArray(1, 2, 3)[1]]", 2),
    ("[createObject('a', createObject('b', 'x')).a.b]", "x"),
    ("[if (equals(1, 1), 'yes', 'no') ]", "yes"),  # whitespace before '(' and ']'
    ("[concat('it''s', '')]", "it's"),
    ("[concat('a',\u202f'b')]", "ab"),  # narrow no-break space between arguments (built-in templates)
    ("[if(true, 'bare', 'literals')]", "bare"),  # lenient: ARM wants true()
]


@pytest.mark.parametrize(("expr", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_function(expr: str, expected) -> None:
    got = v(expr, values={"p": "pv"})
    if "uniqueString" in expr:
        assert isinstance(got, str) and len(got) == 13 and got.isalnum() and got == got.lower()
    else:
        assert got == expected


def test_all_fifty_policy_functions_are_covered() -> None:
    fifty = [
        "add",
        "adddays",
        "and",
        "array",
        "base64",
        "bool",
        "coalesce",
        "concat",
        "contains",
        "createarray",
        "createobject",
        "current",
        "empty",
        "equals",
        "false",
        "field",
        "first",
        "format",
        "greater",
        "greaterorequals",
        "if",
        "int",
        "intersection",
        "iprangecontains",
        "last",
        "length",
        "less",
        "lessorequals",
        "max",
        "mul",
        "not",
        "or",
        "padleft",
        "parameters",
        "policy",
        "replace",
        "requestcontext",
        "resourcegroup",
        "skip",
        "split",
        "startswith",
        "string",
        "subscription",
        "take",
        "tolower",
        "trim",
        "tryget",
        "union",
        "uniquestring",
        "utcnow",
    ]
    assert len(fifty) == 50
    used = " ".join(e for e, _ in CASES).lower()
    missing = [f for f in fifty if f"{f}(" not in used and f != "current"]  # current(): test_arrays.py
    assert missing == []


def test_unique_string_is_deterministic_and_argument_sensitive() -> None:
    a, b = v("[uniqueString('x', 'y')]"), v("[uniqueString('x', 'y')]")
    assert a == b and a != v("[uniqueString('x-y', '')]")
    assert murmur64(b"") == 0 or isinstance(murmur64(b""), int)


def test_if_evaluates_only_the_chosen_branch() -> None:
    assert (
        v(
            "[if(empty(field('Microsoft.Sql/servers/databases/missing')), false(), "
            "greater(int(field('Microsoft.Sql/servers/databases/missing')), 1))]"
        )
        is False
    )


@pytest.mark.parametrize(
    "expr",
    [
        "[substring(field('name'), 0, 30)]",
        "[int('abc')]",
        "[first(5)]",
        "[resourceGroup().nonexistent]",
        "[createArray(1)[3]]",
        "[ipRangeContains('10.0.0.0/8', '2001:db8::1')]",
        "[ipRangeContains('', '10.0.0.1')]",
        "[add('a', 1)]",
        "[greater(1, 'a')]",
        "[split(createArray(), ',')]",
        "[padLeft('x', 200000, '0')]",
        "[concat(padLeft('x', 131072, '0'), 'y')]",
    ],
)
def test_function_errors_fail_evaluation(expr: str) -> None:
    with pytest.raises(EvaluationFailure):
        v(expr)
    out = run({"value": expr, "equals": "x"}, RES, context=CTX)
    assert out.error and out.denied and out.compliant is False


@pytest.mark.parametrize(
    "fn",
    [
        "reference('x')",
        "resourceId('a', 'b')",
        "listKeys('x', '2020')",
        "newGuid()",
        "variables('x')",
        "deployment()",
        "noSuchFunction()",
    ],
)
def test_functions_policy_rules_do_not_allow(fn: str) -> None:
    with pytest.raises(UnsupportedError):
        compile_policy(definition({"value": f"[{fn}]", "equals": "x"}))


def test_undeclared_parameter_is_rejected_and_missing_value_fails_at_run_time() -> None:
    with pytest.raises(UnsupportedError):
        compile_policy(definition({"value": "[parameters('nope')]", "equals": "x"}))
    out = run({"value": "[parameters('p')]", "equals": "x"}, RES, parameters={"p": {"type": "String"}})
    assert out.error and "no value" in out.error


def test_context_defaults_come_from_the_resource_id() -> None:
    assert matches({"value": "[resourceGroup().name]", "equals": "rg-app"}, RES)
    assert matches({"value": "[subscription().subscriptionId]", "equals": "sub-1"}, RES)
    assert matches(
        {"field": "name", "like": "[concat(resourceGroup().name, '*')]"},
        {"type": "t", "name": "rg-app-vm", "id": "/subscriptions/s/resourceGroups/rg-app/providers/a/b/c"},
    )


def test_api_version_comparison_as_strings() -> None:
    cond = {"value": "[requestContext().apiVersion]", "less": "2021-06-01-preview"}
    assert matches(cond, RES, context=EvalContext(api_version="2019-01-01"))
    assert not matches(cond, RES, context=EvalContext(api_version="2023-01-01"))


def test_request_identity_from_context() -> None:
    cond = {"value": "[requestContext().identity.idtyp]", "equals": "user"}
    assert matches(cond, RES, context=EvalContext(identity={"idtyp": "user"}))
    assert run(cond, RES).error  # no identity during compliance scans: the property does not exist


def test_float_of_an_integer_equals_it_in_a_condition() -> None:
    # issue #12: `value: "[float(5)]", equals: 5` holds as in Azure
    from tests.evaluate.helpers import matches

    assert matches({"value": "[float(5)]", "equals": 5}, RES)
    assert matches({"value": "[float('5')]", "equals": 5}, RES)
    assert matches({"value": "[float('2.5')]", "greater": 2}, RES)
