"""locate(): JSON pointers to line:col of the member key or array item, in one tokenizer pass.

Findings carry `file:line:col` (CONTRIBUTING.md); pointers follow RFC 6901
(https://www.rfc-editor.org/rfc/rfc6901), so `~` and `/` in keys are escaped.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.rules.locate import locate
from policygen.rules.model import esc

keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | keys
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4))


def pointers(v: object, ptr: str = ""):
    """Every pointer below the root with what must be written at its location."""
    if isinstance(v, dict):
        for k, item in v.items():
            yield ptr + "/" + esc(k), json.dumps(k)
            yield from pointers(item, ptr + "/" + esc(k))
    elif isinstance(v, list):
        for i, item in enumerate(v):
            yield f"{ptr}/{i}", json.dumps(item)[0]
            yield from pointers(item, f"{ptr}/{i}")


def text_at(text: str, line: int, col: int) -> str:
    return text.split("\n")[line - 1][col - 1 :]  # JSON breaks lines only at \n


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, values, max_size=5), st.sampled_from([None, 0, 1, 2, 4]), st.booleans())
def test__locate__every_pointer_points_at_its_key_or_item(doc: dict, indent: int | None, ascii_: bool) -> None:
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_)
    expected = dict(pointers(doc))
    where = locate(text, expected)
    for ptr, written in expected.items():
        line, col = where[ptr]
        assert text_at(text, line, col).startswith(written if ascii_ or not written.startswith('"') else written[0]), ptr


def test__locate__missing_pointer_maps_to_nearest_parent() -> None:
    text = '{\n  "properties": {\n    "a~b/c": [1, {"x": 2}]\n  }\n}'
    where = locate(text, ["/properties/a~0b~1c/1/x", "/properties/missing/deep", "/nothing"])
    assert where == {"/properties/a~0b~1c/1/x": (3, 19), "/properties/missing/deep": (2, 3), "/nothing": (1, 1)}
