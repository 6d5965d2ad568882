"""Bounded JSON reading (issue #16 item 4): depth decided on the bytes before anything recurses, duplicate
keys refused, parse errors with line and column (RFC 8259 section 4 leaves duplicate names' meaning open:
https://www.rfc-editor.org/rfc/rfc8259#section-4)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.arm.json_text import MAX_DEPTH, JsonTextError, loads, too_deep


def _depth(value: object) -> int:
    stack, best = [(value, 1)], 0
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict | list):
            best = max(best, d)
            stack += [(v, d + 1) for v in (node.values() if isinstance(node, dict) else node)]
    return best


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 1_000, 100_000])
def test__too_deep__found_at_the_first_bracket_past_the_limit(levels: int):
    text = '{"a": ' * levels + "1" + "}" * levels
    assert too_deep(text) == (1, 6 * MAX_DEPTH + 1)
    with pytest.raises(JsonTextError, match="nested more than"):
        loads(text)


def test__at_the_limit_and_brackets_in_strings_are_fine():
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert loads(json.dumps({"s": "[" * 10_000, "t": '\\"[[[' * 500})) == {"s": "[" * 10_000, "t": '\\"[[[' * 500}


def test__duplicates_refused_unless_allowed():
    with pytest.raises(JsonTextError, match="duplicate key 'effect'"):
        loads('{"then": {"effect": "deny", "effect": "audit"}}')
    assert loads('{"a": 1, "a": 2}', duplicates=True) == {"a": 2}


def test__parse_errors_carry_line_and_column():
    with pytest.raises(JsonTextError) as err:
        loads('{\n  "a": [1,}\n')
    assert (err.value.line, err.value.col) == (2, 11)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet="[]{ab", max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.integers(min_value=1, max_value=8))
def test__too_deep_agrees_with_the_parsed_depth(value: object, limit: int):
    text = json.dumps(value)
    assert (too_deep(text, limit) is None) == (_depth(value) <= limit)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200) | st.text(alphabet='[]{}",:1a \\', max_size=200))
def test__loads_raises_only_its_own_error(raw: bytes | str):
    with contextlib.suppress(JsonTextError):
        loads(raw)
