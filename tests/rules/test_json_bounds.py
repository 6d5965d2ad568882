"""`policygen validate` of deeply nested policy JSON: a clear `file:line:col` error and exit 2 at any depth,
never a RecursionError (issue #16 item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.cli import run


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test__validate__deep_json_is_refused_with_its_position(tmp_path: Path, capsys, levels: int):
    rule = '{"allOf": [' * levels + '{"field": "type", "equals": "x"}' + "]}" * levels
    path = tmp_path / "deep.json"
    path.write_text('{"properties": {"mode": "All", "policyRule": {"if": ' + rule + ', "then": {"effect": "audit"}}}}')
    assert run(["validate", str(path)]) == 2
    out = capsys.readouterr()
    text = out.out + out.err
    assert "deep.json:1:" in text and "nested more than 128 levels" in text and "Traceback" not in text
