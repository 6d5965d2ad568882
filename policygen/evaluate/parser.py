"""ARM template expressions as the evaluator compiles them: tuples built from the shared parser.

`policygen/expressions.py` (shared with the validator) is the grammar of record; its AST is converted to
the small tuples `expr.py` compiles. A fallback parser here accepts the one extension seen in
hand-written rules that the shared grammar rejects: bare `true` / `false` / `null` (ARM wants `true()`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from policygen.evaluate.errors import UnsupportedError

# AST nodes are tuples:
#   ("lit", value) | ("call", lower-name, name, (args...)) | ("member", base, name) | ("index", base, expr)
Node = tuple


def is_expression(s: Any) -> bool:
    return isinstance(s, str) and len(s) >= 2 and s[0] == "[" and s[-1] == "]" and not s.startswith("[[")


def unescape(s: str) -> str:
    """`[[x]` → `[x]` (ARM's escape for a literal leading `[`)."""
    return s[1:] if s.startswith("[[") else s


@lru_cache(maxsize=8192)
def parse(expression: str) -> Node:
    """Parse a full `"[ … ]"` string (shared grammar first, then the lenient fallback)."""
    from policygen import expressions as shared

    try:
        return _convert(shared.parse_expression(expression[1:-1], 1))
    except shared.ExpressionError as exc:
        try:
            return _fallback(expression)
        except UnsupportedError:
            raise UnsupportedError(f"invalid expression {expression!r}: {exc}") from None


def _convert(node: Any) -> Node:
    from policygen import expressions as shared

    t = type(node)
    if t is shared.Literal:
        return ("lit", node.value)
    if t is shared.Call:
        return ("call", node.name.lower(), node.name, tuple(_convert(a) for a in node.args))
    if t is shared.Member:
        return ("member", _convert(node.target), node.name)
    if t is shared.Index:
        return ("index", _convert(node.target), _convert(node.index))
    raise UnsupportedError(f"unexpected expression node {t.__name__}")


def _fallback(expression: str) -> Node:
    p = _Parser(expression[1:-1])
    node = p.expr()
    p.ws()
    if p.i != len(p.s):
        raise UnsupportedError(f"unexpected {p.s[p.i : p.i + 10]!r} in expression {expression!r}")
    return node


class _Parser:
    def __init__(self, s: str):
        self.s = s
        self.i = 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def peek(self) -> str:
        self.ws()
        return self.s[self.i] if self.i < len(self.s) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise UnsupportedError(f"expected {ch!r} at position {self.i + 1} of expression [{self.s}]")
        self.i += 1

    def expr(self) -> Node:
        node = self.primary()
        while True:
            ch = self.peek()
            if ch == ".":
                self.i += 1
                self.ws()
                start = self.i
                while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] in "_$-"):
                    self.i += 1
                if start == self.i:
                    raise UnsupportedError(f"expected a property name after '.' in [{self.s}]")
                node = ("member", node, self.s[start : self.i])
            elif ch == "[":
                self.i += 1
                idx = self.expr()
                self.expect("]")
                node = ("index", node, idx)
            else:
                return node

    def primary(self) -> Node:
        ch = self.peek()
        if ch == "'":
            return ("lit", self.string())
        if ch.isdigit() or ch == "-":
            start = self.i
            self.i += 1
            while self.i < len(self.s) and (self.s[self.i].isdigit() or self.s[self.i] == "."):
                self.i += 1
            text = self.s[start : self.i]
            try:
                return ("lit", float(text) if "." in text else int(text))
            except ValueError:
                raise UnsupportedError(f"bad number {text!r} in [{self.s}]") from None
        if ch.isalpha() or ch == "_":
            start = self.i
            while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] in "_"):
                self.i += 1
            name = self.s[start : self.i]
            if self.peek() != "(":
                low = name.lower()
                if low in ("true", "false"):
                    return ("lit", low == "true")
                if low == "null":
                    return ("lit", None)
                raise UnsupportedError(f"expected '(' after {name!r} in [{self.s}]")
            self.i += 1
            args: list[Node] = []
            if self.peek() == ")":
                self.i += 1
            else:
                while True:
                    args.append(self.expr())
                    ch = self.peek()
                    if ch == ",":
                        self.i += 1
                        continue
                    self.expect(")")
                    break
            return ("call", name.lower(), name, tuple(args))
        raise UnsupportedError(f"unexpected {ch or 'end of expression'!r} in [{self.s}]")

    def string(self) -> str:
        self.i += 1  # opening quote
        out = []
        while True:
            if self.i >= len(self.s):
                raise UnsupportedError(f"unterminated string in [{self.s}]")
            ch = self.s[self.i]
            if ch == "'":
                if self.i + 1 < len(self.s) and self.s[self.i + 1] == "'":
                    out.append("'")
                    self.i += 2
                    continue
                self.i += 1
                return "".join(out)
            out.append(ch)
            self.i += 1
