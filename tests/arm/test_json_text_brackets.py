"""The depth pre-check's fast path (quotes and brackets kept, strings dropped between quote pairs) finds
exactly the brackets the JSON string grammar leaves outside strings (RFC 8259 section 7: a string is
quote, characters or backslash escapes, quote: https://www.rfc-editor.org/rfc/rfc8259#section-7)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.arm.json_text import (
    _CURLY_AS_SQUARE,
    _ONLY_BRACKETS,
    _STRING,
    _brackets_outside_strings,
    bracket_depth,
    too_deep,
)

json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\/ab\n\u00e9', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a', max_size=4), inner, max_size=3)
    ),
    max_leaves=40,
)


def _by_pattern(data: bytes) -> bytes:
    return _STRING.sub(b"", data).translate(_CURLY_AS_SQUARE, _ONLY_BRACKETS)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.booleans(), st.sampled_from([None, 2]))
def test__fast_path_keeps_the_brackets_outside_strings(value: object, ascii_only: bool, indent: int | None):
    data = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode()
    assert _brackets_outside_strings(data) == _by_pattern(data)


def test__escaped_backslashes_before_quotes():
    for text in (r'["\\", "[[[["]', r'["\\\"[[", "]"]', r'{"a\\\\": "\"{{"}', r'["x\"", "\\\\\\\"]"]'):
        data = text.encode()
        json.loads(text)
        assert _brackets_outside_strings(data) == _by_pattern(data), text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.text(alphabet='[]{}"\\,:1a ', max_size=300))
def test__any_text_is_answered(raw: bytes | str):
    too_deep(raw, 3)


def _running_max(brackets: bytes) -> int:
    """The largest running sum ([ +1, ] -1) after each bracket; 0 for none."""
    depth, sums = 0, []
    for b in brackets:
        depth += 1 if b == ord("[") else -1
        sums.append(depth)
    return max(sums, default=0)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="[]", max_size=400).map(str.encode), st.integers(min_value=0, max_value=12))
def test_bracket_depth_is_the_running_maximum_or_above_the_limit(brackets: bytes, limit: int):
    """Pair-removal passes give the depth of a balanced sequence; any other answer is above the limit
    (and then too_deep's exact token walk decides), so a deep document is never waved through."""
    depth, exact = bracket_depth(brackets, limit), _running_max(brackets)
    if depth <= limit:
        assert depth == exact
    if exact > limit:
        assert depth > limit


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=40))
def test_nested_documents_around_the_limit(depth: int, siblings: int):
    """`[[[...[] [] ...]]]`: refused exactly when deeper than the limit, at the first bracket too deep."""
    doc = "[" * depth + "[]" * siblings + "]" * depth
    deepest = depth + (1 if siblings else 0)
    for limit in (deepest - 1, deepest, deepest + 1):
        where = too_deep(doc, limit)
        assert (where is None) == (deepest <= limit)
        if where is not None:
            assert where == (1, limit + 1)
