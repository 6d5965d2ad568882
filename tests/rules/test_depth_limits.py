"""Hostile nesting: a rule of 1,000 nested `not` is a finding, never a RecursionError.

Azure's evaluation fails on objects nested deeper than 128 levels (an implicit deny):
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
(limits summary in ../shared/reference/azure-policy-rules.md, 2.11).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from policygen.cli import app
from policygen.rules import Severity, validate_object


def nested_not(depth: int) -> dict:
    cond: dict = {"field": "name", "equals": "x"}
    for _ in range(depth):
        cond = {"not": cond}
    return {"properties": {"mode": "All", "policyRule": {"if": cond, "then": {"effect": "audit"}}}}


@pytest.mark.parametrize("depth", [200, 1000, 5000])
def test__depth__an_in_memory_rule_nested_too_deep_is_a_rule04_error(depth: int) -> None:
    findings = validate_object(nested_not(depth))
    deep = [f for f in findings if f.code == "RULE-04"]
    assert len(deep) == 1 and deep[0].severity is Severity.ERROR and "128 levels" in deep[0].message
    assert not [f for f in findings if "crashed" in f.message]


def test__depth__a_rule_within_the_limit_is_walked_whole() -> None:
    assert [f.code for f in validate_object(nested_not(100)) if f.severity is Severity.ERROR] == []


def test__depth__a_file_of_1000_nested_not_is_refused_with_a_line_not_a_traceback(tmp_path: Path) -> None:
    text = '{"properties":{"mode":"All","policyRule":{"if":' + '{"not":' * 1000 + '{"field":"name","equals":"x"}'
    path = tmp_path / "deep.json"
    path.write_text(text + "}" * 1000 + ',"then":{"effect":"audit"}}}}', encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    assert f"{path}:1:" in result.output
