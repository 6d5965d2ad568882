"""JSONC reading for EPAC files (comments allowed, positions kept) and the ALZ reader's positioned errors.

EPAC accepts `.jsonc` with `//` and `/* */` comments: https://azure.github.io/enterprise-azure-policy-as-code/
ALZ archetypes list assets by name: https://github.com/Azure/Azure-Landing-Zones-Library (archetype_definitions).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policygen.adopt.alz import read_library
from policygen.adopt.files import strip_comments
from policygen.errors import InputError

values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                      max_leaves=12)


@given(values, st.text(alphabet="abc */\n", max_size=20))
def test_comments_vanish_and_strings_survive(value: object, note: str) -> None:
    text = json.dumps(value, indent=1)
    commented = f"/* {note.replace('/', '')} */\n" + text.replace("\n", f" // {note.splitlines()[0] if note else ''}\n", 1)
    stripped = strip_comments(commented)
    assert json.loads(stripped) == value
    assert stripped.count("\n") == commented.count("\n")  # line numbers still point into the file


def test_an_archetype_naming_a_missing_definition_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "archetype_definitions").mkdir()
    (tmp_path / "archetype_definitions" / "lz.alz_archetype_definition.json").write_text(
        '{\n  "name": "lz",\n  "policy_definitions": [\n    "not-here"\n  ],\n  "policy_assignments": ["gone"]\n}\n',
        encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_library(tmp_path)
    shown = [str(d) for d in info.value.diagnostics]
    assert any(s.endswith("lz.alz_archetype_definition.json:4:5: archetype 'lz' lists policy definition "
                          "'not-here', which this library does not define") for s in shown)
    assert any(":6:26: archetype 'lz' lists policy assignment 'gone'" in s for s in shown)
