"""Properties of the one expression grammar: round trip, errors only of its own type, bounded depth,
lenient mode a superset of strict. Grammar: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.arm.expressions import (
    MAX_DEPTH,
    Call,
    ExpressionError,
    Index,
    Literal,
    Member,
    Node,
    iter_calls,
    parse_expression,
    parse_string,
)

_NAMES = st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,8}", fullmatch=True)


def _unparse(node: Node) -> str:
    """ARM text for a tree (test-only printer: strings quoted with `''` escapes)."""
    if isinstance(node, Literal):
        if isinstance(node.value, str):
            return "'" + node.value.replace("'", "''") + "'"
        return str(node.value)
    if isinstance(node, Call):
        return f"{node.name}({', '.join(_unparse(a) for a in node.args)})"
    if isinstance(node, Member):
        return f"{_unparse(node.target)}.{node.name}"
    return f"{_unparse(node.target)}[{_unparse(node.index)}]"


def _depth(node: Node) -> int:
    if isinstance(node, Call):
        return 1 + max((_depth(a) for a in node.args), default=0)
    if isinstance(node, Member):
        return 1 + _depth(node.target)
    if isinstance(node, Index):
        return 1 + max(_depth(node.target), _depth(node.index))
    return 1


_literals = st.one_of(st.text(max_size=8).map(Literal), st.integers(-(10**6), 10**6).map(Literal))
_calls_only = st.recursive(
    _literals,
    lambda inner: st.one_of(
        st.builds(Call, _NAMES, st.lists(inner, max_size=3).map(tuple)),
        st.builds(Member, st.builds(Call, _NAMES, st.just(())), _NAMES),
    ),
    max_leaves=12,
)
_trees = st.recursive(
    _calls_only,
    lambda inner: st.one_of(
        st.builds(Call, _NAMES, st.lists(inner, max_size=3).map(tuple)),
        st.builds(Index, st.builds(Call, _NAMES, st.just(())), inner),
        st.builds(Member, st.builds(Call, _NAMES, st.lists(inner, max_size=2).map(tuple)), _NAMES),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees)
def test__expressions__round_trip(tree: Node) -> None:
    text = _unparse(tree)
    strict = parse_expression(text)
    assert _unparse(strict) == text
    assert parse_expression(text, lenient=True) == strict
    assert parse_string(f"[{text}]") == parse_expression(text, 1)


_ALPHABET = st.sampled_from(list("()[].,' -0123456789abcxyzTRUEnul$_\t\u202f") + ["true", "null", "f(", "''"])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(_ALPHABET, max_size=40).map("".join)), st.booleans())
def test__expressions__never_crashes_except_with_its_own_error(body: str, lenient: bool) -> None:
    text = f"[{body}]"
    try:
        node = parse_string(text, lenient=lenient)
    except ExpressionError as exc:
        assert 0 <= exc.pos <= len(text) and exc.reason
        return
    assert _depth(node) <= 2 * MAX_DEPTH + 2
    list(iter_calls(node))
    if not lenient:  # lenient reads every strict expression the same way
        assert parse_string(text, lenient=True) == node


@pytest.mark.parametrize(
    "body",
    [
        "f(" * 5000 + ")" * 5000,
        "f()" + ".a" * 5000,
        "f()" + "[0]" * 5000,
        "a()[" * 5000 + "0" + "]" * 5000,
        "f(" * 5000,
    ],
    ids=["calls", "members", "indexes", "nested-indexes", "unclosed"],
)
@pytest.mark.parametrize("lenient", [False, True])
def test__expressions__nesting_is_bounded(body: str, lenient: bool) -> None:
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse_string(f"[{body}]", lenient=lenient)


def test__expressions__nesting_below_the_bound_parses() -> None:
    node = parse_expression("f(" * 150 + ")" * 150)
    assert max(d for _c, d in iter_calls(node)) == 150
