"""The ARM template-expression parser: grammar, escapes, accessors, errors and the function table."""

from __future__ import annotations

import pytest

from policygen.arm.expressions import (
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
    assert parse_string("[[]") == Literal("[]")
    assert parse_string("[test] value") == Literal("[test] value")
    assert not is_expression("[[x]") and is_expression("[x()]")
    assert unescape("[[x]") == "[x]" and unescape("x") == "x"


def test__expressions__empty_brackets_are_an_empty_expression() -> None:
    """`"[]"` starts with `[` and ends with `]`, so ARM reads it as an expression, and an empty one is invalid.

    https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions — "Expressions
    start and end with brackets: [ and ]"; Escape characters: "To have a literal string start with a left
    bracket [ and end with a right bracket ], but not have it interpreted as an expression, add an extra
    bracket to start the string with [[" (so the literal text `[]` is written `"[[]"`), while `"[test] value"`,
    which does not end with `]`, needs no escape. Same answer as `"[ ]"`, and as the evaluator always had.
    """
    assert is_expression("[]") and is_expression("[ ]")
    assert not is_expression("[[]") and not is_expression("[") and not is_expression("]") and not is_expression("")
    for text in ("[]", "[ ]"):
        with pytest.raises(ExpressionError, match="empty expression"):
            parse_string(text)
        with pytest.raises(ExpressionError, match="empty expression"):
            parse_string(text, lenient=True)


def test__expressions__lenient_mode_reads_bare_literals_and_dashed_members() -> None:
    """Hand-written rules use bare `true` / `null` (ARM wants `true()`); the evaluator still runs them."""
    with pytest.raises(ExpressionError, match="expected '\\(' after function name 'true'"):
        parse_string("[if(true, 'a', 'b')]")
    node = parse_string("[if(true, null, FALSE)]", lenient=True)
    assert isinstance(node, Call) and [a.value for a in node.args if isinstance(a, Literal)] == [True, None, False]
    with pytest.raises(ExpressionError, match="unexpected '-'"):
        parse_string("[parameters('p').my-key]")
    node = parse_string("[parameters('p').my-key]", lenient=True)
    assert isinstance(node, Member) and node.name == "my-key"
    with pytest.raises(ExpressionError, match="expected '\\(' after function name 'nothing'"):
        parse_string("[nothing]", lenient=True)


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
