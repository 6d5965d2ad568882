"""What the rules need to know about one expression string, computed once per distinct text.

The expression is parsed by the one ARM expression parser (policygen.arm.expressions) and summarised
in one pass over its tree; results are cached by text because the corpus repeats
`[parameters('effect')]` thousands of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from policygen.arm.expressions import Call, ExpressionError, Index, Literal, Member, Node, parse_string


@dataclass(frozen=True, slots=True)
class ExprInfo:
    """Facts about one expression string, computed once per distinct text."""

    node: Node | None
    error: ExpressionError | None
    calls: tuple[tuple[Call, int], ...]
    params: tuple[str, ...]  # lower-case literal parameters('x') names
    fields: tuple[str, ...]  # literal field('x') arguments
    currents: tuple[str | None, ...]  # current('x') arguments (None: bare current())
    bare_param: str | None  # the whole expression is parameters('x')
    max_depth: int
    max_args: int
    whitespace_quirk: bool
    uses_identity: bool
    n_ifs: int = 0


@lru_cache(maxsize=32768)
def analyse(text: str) -> ExprInfo:
    """Parse and summarise an expression string (`[...]`)."""
    try:
        node = parse_string(text)
    except ExpressionError as exc:
        return ExprInfo(None, exc, (), (), (), (), None, 0, 0, False, False)
    calls: list[tuple[Call, int]] = []
    params: list[str] = []
    fields: list[str] = []
    currents: list[str | None] = []
    uses_identity = False
    max_depth = max_args = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        cur, depth = stack.pop()
        t = type(cur)
        if t is Call:
            calls.append((cur, depth))  # type: ignore[arg-type]
            max_depth = max(max_depth, depth)
            args = cur.args  # type: ignore[union-attr]
            max_args = max(max_args, len(args))
            key = cur.name.lower()  # type: ignore[union-attr]
            first = args[0] if args else None
            literal = first.value if type(first) is Literal and isinstance(first.value, str) else None
            if key == "parameters":
                if literal is not None:
                    params.append(literal.lower())
            elif key == "field":
                if literal is not None:
                    fields.append(literal)
            elif key == "current":
                currents.append(literal)
            stack.extend((a, depth + 1) for a in args)
        elif t is Member:
            if (
                cur.name.lower() == "identity"  # type: ignore[union-attr]
                and type(cur.target) is Call  # type: ignore[union-attr]
                and cur.target.name.lower() == "requestcontext"  # type: ignore[union-attr]
            ):
                uses_identity = True
            stack.append((cur.target, depth))  # type: ignore[union-attr]
        elif t is Index:
            stack.append((cur.target, depth))  # type: ignore[union-attr]
            stack.append((cur.index, depth))  # type: ignore[union-attr]
    bare = None
    if type(node) is Call and node.name.lower() == "parameters" and params and len(node.args) == 1:
        bare = params[0]
    quirk = text[-2].isspace() or _space_before_paren(text)
    calls.reverse()
    n_ifs = sum(1 for c, _ in calls if c.name.lower() == "if")
    return ExprInfo(
        node,
        None,
        tuple(calls),
        tuple(params),
        tuple(fields),
        tuple(currents),
        bare,
        max_depth,
        max_args,
        quirk,
        uses_identity,
        n_ifs,
    )


def _space_before_paren(text: str) -> bool:
    i = text.find(" (")
    while i != -1:
        j = i
        while j > 0 and text[j].isspace():
            j -= 1
        if text[j].isalnum():
            return True
        i = text.find(" (", i + 1)
    return False
