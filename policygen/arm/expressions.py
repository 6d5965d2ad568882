"""ARM template-expression parser: `"[concat(parameters('a'), field('name'))]"` → a small AST.

Standalone on purpose (no validator imports) so the validator, the evaluator and the renderer share one
grammar. Covers what Azure Policy and ARM accept: single-quoted strings with `''` escapes, integers,
function calls (names case-insensitive, optional whitespace before `(` as in 7 built-ins), and `.member`
/ `[index]` accessors after any primary. A string is an expression when it starts with `[` and ends with
`]`; a leading `[[` escapes a literal `[` (ARM-template-escaped policy JSON doubles every expression).

Use `parse_string(s)` for a JSON string value (returns `Literal` for non-expressions) and
`parse_expression(body)` for the text between the brackets. Errors raise `ExpressionError` with the
0-based offset into the *full* string.

Two modes, one grammar. Strict (the default) is what ARM accepts; the validator reports anything else.
Lenient (`lenient=True`, the evaluator's mode) also reads two extensions seen in hand-written rules, so
they can still be evaluated: bare `true` / `false` / `null` (ARM wants `true()`) and `-` in a `.member`
name. Lenient accepts every strict expression and gives it the same tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "ARM_FUNCTIONS",
    "Call",
    "ExpressionError",
    "function_arity",
    "Index",
    "Literal",
    "Member",
    "MAX_DEPTH",
    "Node",
    "is_expression",
    "is_escaped",
    "iter_calls",
    "parse_expression",
    "parse_string",
    "unescape",
]


class ExpressionError(ValueError):
    """A syntax error in an expression; `pos` is the 0-based offset in the full string."""

    def __init__(self, message: str, pos: int):
        super().__init__(f"{message} (at character {pos + 1})")
        self.reason = message
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Literal:
    """A string or number literal (`'abc'`, `42`), a whole non-expression JSON string, or (lenient mode
    only) a bare `true` / `false` / `null`."""

    value: str | int | float | bool | None
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Call:
    """`name(args...)`; `name` keeps the author's spelling, `key` is lower-case for lookups."""

    name: str
    args: tuple[Node, ...]
    pos: int = 0

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Member:
    """`target.name` (e.g. `requestContext().apiVersion`)."""

    target: Node
    name: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Index:
    """`target[index]` (e.g. `split(field('id'), '/')[4]`)."""

    target: Node
    index: Node
    pos: int = 0


Node = Literal | Call | Member | Index


def is_expression(value: object) -> bool:
    """True for `[...]` strings that ARM evaluates (not `[[...`, which is an escaped literal).

    `"[]"` is an expression (an empty, invalid one), as ARM's deployment engine reads it: a string is an
    expression when its first character is `[` and its last is `]`; `parse_string("[]")` raises.
    """
    return isinstance(value, str) and len(value) >= 2 and value[0] == "[" and value[-1] == "]" and value[1] != "["


def is_escaped(value: str) -> bool:
    """True for strings starting `[[` (ARM's escape for a literal leading `[`)."""
    return value.startswith("[[")


def unescape(value: str) -> str:
    """Strip one leading `[` from a `[[`-escaped string; other strings are returned unchanged."""
    return value[1:] if value.startswith("[[") else value


def parse_string(value: str, *, lenient: bool = False) -> Node:
    """Parse a JSON string value: an expression AST, or a `Literal` of the (unescaped) string."""
    if is_expression(value):
        return _parse_cached(value, lenient)
    if value.startswith("[["):
        return Literal(value[1:])
    return Literal(value)


def parse_expression(body: str, offset: int = 0, *, lenient: bool = False) -> Node:
    """Parse the text between `[` and `]`; `offset` shifts error positions (1 for a full string)."""
    return _Parser(body, offset, lenient).parse_root()


@lru_cache(maxsize=16384)
def _parse_cached(value: str, lenient: bool) -> Node:
    return parse_expression(value[1:-1], 1, lenient=lenient)


def iter_calls(node: Node, depth: int = 1) -> Iterator[tuple[Call, int]]:
    """Every `Call` in the tree with its nesting depth (outermost call = 1), pre-order."""
    if type(node) is Call:
        yield node, depth
        for arg in node.args:
            yield from iter_calls(arg, depth + 1)
    elif type(node) is Member:
        yield from iter_calls(node.target, depth)
    elif type(node) is Index:
        yield from iter_calls(node.target, depth)
        yield from iter_calls(node.index, depth)


# --------------------------------------------------------------------------------------------------
# Tokenizer + recursive-descent parser. Hand-written (no regex per token) because the validator parses
# ~20,000 expressions per corpus run.

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_IDENT_CHARS = _IDENT_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_LENIENT_MEMBER_CHARS = _IDENT_CHARS | frozenset("-")
_BARE_LITERALS: dict[str, bool | None] = {"true": True, "false": False, "null": None}
MAX_DEPTH = 200  # nesting of calls / indexes; deeper input is refused, never a RecursionError


class _Parser:
    __slots__ = ("text", "i", "n", "offset", "lenient")

    def __init__(self, text: str, offset: int, lenient: bool = False):
        self.text = text
        self.i = 0
        self.n = len(text)
        self.offset = offset
        self.lenient = lenient

    def error(self, message: str, at: int | None = None) -> ExpressionError:
        return ExpressionError(message, (self.i if at is None else at) + self.offset)

    def skip(self) -> None:
        text, i, n = self.text, self.i, self.n
        while i < n and text[i].isspace():  # .NET whitespace, incl. U+202F seen in ALZ sources
            i += 1
        self.i = i

    def parse_root(self) -> Node:
        self.skip()
        if self.i >= self.n:
            raise self.error("empty expression")
        node = self.parse_expr(0)
        self.skip()
        if self.i < self.n:
            raise self.error(f"unexpected {self.text[self.i]!r} after the expression")
        return node

    def parse_expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error("expression nested too deeply")
        self.skip()
        if self.i >= self.n:
            raise self.error("unexpected end of expression")
        ch = self.text[self.i]
        start = self.i
        if ch == "'":
            node: Node = Literal(self.read_string(), start + self.offset)
        elif ch in _DIGITS or (ch == "-" and self.i + 1 < self.n and self.text[self.i + 1] in _DIGITS):
            node = Literal(self.read_number(), start + self.offset)
        elif ch in _IDENT_START:
            name = self.read_ident()
            self.skip()
            if self.i >= self.n or self.text[self.i] != "(":
                if self.lenient and name.lower() in _BARE_LITERALS:
                    return self.parse_accessors(Literal(_BARE_LITERALS[name.lower()], start + self.offset), depth)
                raise self.error(f"expected '(' after function name {name!r}")
            self.i += 1
            node = Call(name, self.read_args(depth), start + self.offset)
        else:
            raise self.error(f"unexpected {ch!r}")
        return self.parse_accessors(node, depth)

    def parse_accessors(self, node: Node, depth: int) -> Node:
        text = self.text
        member_start, member_chars = (
            (_LENIENT_MEMBER_CHARS, _LENIENT_MEMBER_CHARS) if self.lenient else (_IDENT_START, _IDENT_CHARS)
        )
        while True:
            self.skip()
            if self.i >= self.n:
                return node
            ch = text[self.i]
            if ch in ".[":
                depth += 1  # each accessor nests the tree one level: keep it bounded too
                if depth > MAX_DEPTH:
                    raise self.error("expression nested too deeply")
            if ch == ".":
                start = self.i
                self.i += 1
                self.skip()
                if self.i >= self.n or text[self.i] not in member_start:
                    raise self.error("expected a property name after '.'")
                node = Member(node, self.read_ident(member_chars), start + self.offset)
            elif ch == "[":
                start = self.i
                self.i += 1
                index = self.parse_expr(depth + 1)
                self.skip()
                if self.i >= self.n or text[self.i] != "]":
                    raise self.error("expected ']' to close the index")
                self.i += 1
                node = Index(node, index, start + self.offset)
            else:
                return node

    def read_args(self, depth: int) -> tuple[Node, ...]:
        args: list[Node] = []
        self.skip()
        if self.i < self.n and self.text[self.i] == ")":
            self.i += 1
            return ()
        while True:
            args.append(self.parse_expr(depth + 1))
            self.skip()
            if self.i >= self.n:
                raise self.error("missing ')' to close the argument list")
            ch = self.text[self.i]
            self.i += 1
            if ch == ")":
                return tuple(args)
            if ch != ",":
                raise self.error(f"expected ',' or ')' but found {ch!r}", self.i - 1)

    def read_ident(self, chars: frozenset[str] = _IDENT_CHARS) -> str:
        text, i, n = self.text, self.i, self.n
        start = i
        while i < n and text[i] in chars:
            i += 1
        self.i = i
        return text[start:i]

    def read_string(self) -> str:
        text, n = self.text, self.n
        start = self.i
        i = start + 1
        parts: list[str] = []
        while True:
            j = text.find("'", i)
            if j == -1:
                raise self.error("unterminated string literal", start)
            parts.append(text[i:j])
            if j + 1 < n and text[j + 1] == "'":
                parts.append("'")
                i = j + 2
                continue
            self.i = j + 1
            return "".join(parts)

    def read_number(self) -> int | float:
        text, i, n = self.text, self.i, self.n
        start = i
        if text[i] == "-":
            i += 1
        while i < n and text[i] in _DIGITS:
            i += 1
        is_float = False
        if i + 1 < n and text[i] == "." and text[i + 1] in _DIGITS:
            is_float = True
            i += 1
            while i < n and text[i] in _DIGITS:
                i += 1
        self.i = i
        raw = text[start:i]
        return float(raw) if is_float else int(raw)


# --------------------------------------------------------------------------------------------------
# ARM template functions: lower-case name → (min args, max args or None for variadic). Source:
# https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions plus the
# policy-only functions of https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule

_V = None
ARM_FUNCTIONS: dict[str, tuple[int, int | None]] = {
    # any
    "any": (1, 1),
    # array
    "array": (1, 1),
    "concat": (1, _V),
    "contains": (2, 2),
    "createarray": (0, _V),
    "createobject": (0, _V),
    "empty": (1, 1),
    "first": (1, 1),
    "indexfromend": (2, 2),
    "indexof": (2, 2),
    "intersection": (2, _V),
    "last": (1, 1),
    "lastindexof": (2, 2),
    "length": (1, 1),
    "max": (1, _V),
    "min": (1, _V),
    "range": (2, 2),
    "skip": (2, 2),
    "take": (2, 2),
    "tryget": (2, _V),
    "tryindexfromend": (2, 2),
    "union": (2, _V),
    # cidr
    "cidrhost": (2, 2),
    "cidrsubnet": (3, 3),
    "parsecidr": (1, 1),
    # comparison
    "coalesce": (1, _V),
    "equals": (2, 2),
    "greater": (2, 2),
    "greaterorequals": (2, 2),
    "less": (2, 2),
    "lessorequals": (2, 2),
    # date
    "datetimeadd": (2, 3),
    "datetimefromepoch": (1, 1),
    "datetimetoepoch": (1, 1),
    "utcnow": (0, 1),
    # deployment
    "deployment": (0, 0),
    "environment": (0, 0),
    "parameters": (1, 1),
    "variables": (1, 1),
    # lambda
    "filter": (2, 2),
    "groupby": (2, 2),
    "lambda": (2, _V),
    "lambdavariables": (1, 1),
    "map": (2, 2),
    "mapvalues": (2, 2),
    "reduce": (3, 3),
    "sort": (2, 2),
    "toobject": (2, 3),
    # logical
    "and": (2, _V),
    "bool": (1, 1),
    "false": (0, 0),
    "if": (3, 3),
    "not": (1, 1),
    "or": (2, _V),
    "true": (0, 0),
    # numeric
    "add": (2, 2),
    "copyindex": (0, 2),
    "div": (2, 2),
    "float": (1, 1),
    "int": (1, 1),
    "mod": (2, 2),
    "mul": (2, 2),
    "sub": (2, 2),
    # object
    "items": (1, 1),
    "json": (1, 1),
    "null": (0, 0),
    "objectkeys": (1, 1),
    "shallowmerge": (1, 1),
    # resource
    "extensionresourceid": (3, _V),
    "listaccountsas": (2, 3),
    "listkeys": (2, 3),
    "listsecrets": (2, 3),
    "managementgroup": (0, 1),
    "managementgroupresourceid": (2, _V),
    "pickzones": (3, 5),
    "providers": (1, 2),
    "reference": (1, 3),
    "resourcegroup": (0, 1),
    "resourceid": (2, _V),
    "subscription": (0, 1),
    "subscriptionresourceid": (2, _V),
    "tenant": (0, 0),
    "tenantresourceid": (2, _V),
    # string
    "base64": (1, 1),
    "base64tojson": (1, 1),
    "base64tostring": (1, 1),
    "datauri": (1, 1),
    "datauritostring": (1, 1),
    "endswith": (2, 2),
    "format": (1, _V),
    "guid": (1, _V),
    "newguid": (0, 0),
    "padleft": (2, 3),
    "replace": (3, 3),
    "split": (2, 2),
    "startswith": (2, 2),
    "string": (1, 1),
    "substring": (2, 3),
    "tolower": (1, 1),
    "toupper": (1, 1),
    "trim": (1, 1),
    "uniquestring": (1, _V),
    "uri": (2, 2),
    "uricomponent": (1, 1),
    "uricomponenttostring": (1, 1),
    "join": (2, 2),
    # Azure Policy only
    "field": (1, 1),
    "current": (0, 1),
    "adddays": (2, 2),
    "requestcontext": (0, 0),
    "policy": (0, 0),
    "iprangecontains": (2, 2),
    "claims": (0, 0),  # the token of externalEvaluationEnforcementSettings (api 2025-03-01)
}


def function_arity(name: str) -> tuple[int, int | None] | None:
    """(min, max) argument counts of an ARM function (case-insensitive); `list*` functions included."""
    key = name.lower()
    spec = ARM_FUNCTIONS.get(key)
    if spec is None and key.startswith("list"):
        return (2, 3)
    return spec
