"""The ARM template-expression parser: grammar, escapes, accessors, errors and the function table."""

from __future__ import annotations

import pytest

from policygen.expressions import (
    Call,
    ExpressionError,
    Index,
    Literal,
    Member,
    function_arity,
    is_expression,
    iter_calls,
    parse_expression,
    parse_string,
    unescape,
)


def test__expressions__nested_calls_and_literals() -> None:
    node = parse_string("[concat('a''b', parameters('x'), -3)]")
    assert node == Call("concat", (Literal("a'b", 8), Call("parameters", (Literal("x", 27),), 16), Literal(-3, 33)), 1)


def test__expressions__member_and_index_accessors() -> None:
    node = parse_string("[split(field('id'), '/')[4]]")
    assert isinstance(node, Index) and node.index == Literal(4, 25) and node.pos == 24
    node = parse_string("[requestContext().apiVersion]")
    assert isinstance(node, Member) and node.name == "apiVersion"
    node = parse_string("[parameters('cfg')['a'].b]")
    assert isinstance(node, Member) and isinstance(node.target, Index)


def test__expressions__whitespace_between_name_and_paren_and_before_bracket() -> None:
    node = parse_string("[if (empty(field('x')), false(), true()) ]")
    assert isinstance(node, Call) and node.key == "if" and len(node.args) == 3


def test__expressions__narrow_no_break_space_is_whitespace() -> None:
    node = parse_string("[concat('a',\u202fparameters('b'))]")
    assert isinstance(node, Call) and len(node.args) == 2


def test__expressions__escaped_and_plain_strings_are_literals() -> None:
    assert parse_string("[[parameters('x')]") == Literal("[parameters('x')]")
    assert parse_string("plain") == Literal("plain")
    assert parse_string("[]") == Literal("[]")
    assert not is_expression("[[x]") and is_expression("[x()]")
    assert unescape("[[x]") == "[x]" and unescape("x") == "x"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[concat('a', 'b']", "missing ')'"),
        ("[concat('a' 'b')]", "expected ',' or ')'"),
        ("['unterminated]", "unterminated string"),
        ("[ ]", "empty expression"),
        ("[foo]", "expected '(' after function name"),
        ("[concat('a'))]", "unexpected ')'"),
        ("[f().]", "expected a property name"),
    ],
)
def test__expressions__syntax_errors_have_reason_and_position(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as exc:
        parse_string(text)
    assert reason in exc.value.reason
    assert 0 <= exc.value.pos < len(text)


def test__expressions__iter_calls_reports_depth() -> None:
    node = parse_expression("if(empty(field('a')), 'x', toLower(field('b')))")
    assert [(c.key, d) for c, d in iter_calls(node)] == [
        ("if", 1),
        ("empty", 2),
        ("field", 3),
        ("tolower", 2),
        ("field", 3),
    ]


def test__expressions__function_table() -> None:
    assert function_arity("Concat") == (1, None)
    assert function_arity("replace") == (3, 3)
    assert function_arity("listAccountSas") == (2, 3)
    assert function_arity("listFoo") == (2, 3)
    assert function_arity("nosuch") is None
