"""Azure's documented policy-rule limits in the evaluator (issue #12): a clear refusal or an error
outcome, never a crash.

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#policy-rule-limits
"""

from __future__ import annotations

import json

import pytest

from policygen.evaluate import UnsupportedError, compile_policy
from tests.evaluate.helpers import definition

LEAF = {"field": "name", "equals": "x"}


def _nested_not(n: int) -> dict:
    cond: dict = LEAF
    for _ in range(n):
        cond = {"not": cond}
    return cond


def test_thousand_nested_nots_are_refused_not_a_recursion_error() -> None:
    with pytest.raises(UnsupportedError, match="nested more than 128"):
        compile_policy(definition(_nested_not(1000)))
    compile_policy(definition(_nested_not(100)))  # within the limit


def test_thousand_nested_nots_on_the_command_line_exit_2(tmp_path, capsys) -> None:
    from policygen.cli import run

    d = tmp_path / "def.json"
    rule = '{"not": ' * 1000 + json.dumps(LEAF) + "}" * 1000  # json.dumps itself cannot nest this deep
    d.write_text('{"properties": {"mode": "All", "policyRule": {"if": ' + rule + ', "then": {"effect": "audit"}}}}')
    r = tmp_path / "res.json"
    r.write_text(json.dumps({"type": "Microsoft.Storage/storageAccounts", "name": "x"}))
    capsys.readouterr()
    assert run(["evaluate", str(d), str(r)]) == 2
    err = capsys.readouterr().err
    assert f"{d}:" in err and "Traceback" not in err


def test_condition_expressions_in_if() -> None:
    with pytest.raises(UnsupportedError, match="more than 4096 condition expressions"):
        compile_policy(definition({"anyOf": [LEAF] * 4097}))
    compile_policy(definition({"anyOf": [LEAF] * 4096}))


def test_condition_expressions_in_existence_condition() -> None:
    details = {"type": "Microsoft.Insights/diagnosticSettings", "existenceCondition": {"allOf": [LEAF] * 129}}
    with pytest.raises(UnsupportedError, match="more than 128 condition expressions"):
        compile_policy(definition(LEAF, "auditIfNotExists", details=details))


def test_value_count_over_100_iterations_fails_the_evaluation() -> None:
    cond = {"count": {"value": "[range(0, 101)]", "where": {"value": "[current()]", "greater": 5}}, "greater": 0}
    out = compile_policy(definition(cond)).evaluate({"type": "t", "name": "x"})
    assert out.error and "100 iterations" in out.error and out.denied  # an implicit deny, reported
    ok = {"count": {"value": "[range(0, 100)]", "where": {"value": "[current()]", "greater": 5}}, "greater": 0}
    assert compile_policy(definition(ok)).evaluate({"type": "t", "name": "x"}).matched


def test_count_name_with_field_is_refused() -> None:
    # `count.name` names a value count's member; a field count with a name is not a valid definition
    cond = {"count": {"field": "Microsoft.Test/resourceType/stringArray[*]", "name": "m"}, "equals": 0}
    with pytest.raises(UnsupportedError, match="count.name"):
        compile_policy(definition(cond))


def test_nested_value_counts_multiply_their_iterations() -> None:
    # "Nested Value count expressions also include the iteration count of the parent expression."
    inner = {"count": {"value": "[range(0, 11)]", "name": "j", "where": {"value": "[current('j')]", "greater": 100}},
             "equals": 0}
    cond = {"count": {"value": "[range(0, 10)]", "name": "i", "where": inner}, "equals": 10}
    out = compile_policy(definition(cond)).evaluate({"type": "t", "name": "x"})
    assert out.error and "110 times" in out.error
    inner["count"]["value"] = "[range(0, 10)]"  # 10 x 10 = 100: within the limit
    assert compile_policy(definition(cond)).evaluate({"type": "t", "name": "x"}).matched


def test_function_results_over_the_node_limit_fail_the_evaluation() -> None:
    # "Number of nodes of complex objects provided as a parameter to, or returned by a function: 32768"
    for expr in ("[length(range(0, 1000000000))]", "[length(concat(range(0, 20000), range(0, 20000)))]"):
        out = compile_policy(definition({"value": expr, "greater": 0})).evaluate({"type": "t", "name": "x"})
        assert out.error and "32,768-node limit" in out.error and out.denied
    ok = compile_policy(definition({"value": "[length(range(0, 32768))]", "equals": 32768}))
    assert ok.evaluate({"type": "t", "name": "x"}).matched
