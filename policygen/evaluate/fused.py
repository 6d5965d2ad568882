"""One function per rule for the untraced hot path: `allOf` / `anyOf` / `not` over field tests fused into
a single Python expression, instead of a closure call per node.

The compiled closures (evaluate.conditions) stay the definition of a rule's meaning; they mark how they
were built (`FUSE` attribute: ("all" | "any" | "not", children) or ("leaf", getter, test)). `fuse`
turns such a tree into `t0(g0(s)) and (t1(g1(s)) or not t2(g2(s)))`: the same calls in the same order
(Python's `and` / `or` short-circuit exactly as the closures' loops do), without the per-node calls
and trace checks. Anything else (counts, value conditions, computed right-hand sides) is called as
it is. A traced evaluation (`scope.trace` set, `evaluate` explaining itself) runs the closures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FUSE = "_fuse"  # attribute name on compiled predicates
MAX_NODES = 512  # larger rules keep their closures (the expression would be long to compile)
MAX_DEPTH = 48  # Python's parser refuses deeply nested parentheses


def mark(pred: Callable, how: tuple) -> Callable:
    setattr(pred, FUSE, how)
    return pred


def fuse(pred: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """`pred` as one function when it is a tree of logical nodes and field tests; else `pred`."""
    names: dict[str, Any] = {}
    count = [0]

    def name(obj: Any, prefix: str) -> str:
        n = f"{prefix}{len(names)}"
        names[n] = obj
        return n

    def expr(p: Callable, depth: int) -> str | None:
        count[0] += 1
        if count[0] > MAX_NODES:
            return None
        how = getattr(p, FUSE, None)
        if how is None or depth > MAX_DEPTH:
            return f"{name(p, 'p')}(s)"
        kind = how[0]
        if kind == "leaf":
            return f"{name(how[2], 't')}({name(how[1], 'g')}(s))"
        parts = [expr(c, depth + 1) for c in how[1]]
        if any(x is None for x in parts):
            return None
        if kind == "not":
            return f"(not {parts[0]})"
        return "(" + (" and " if kind == "all" else " or ").join(parts) + ")"  # type: ignore[arg-type]

    if getattr(pred, FUSE, None) is None:
        return pred
    body = expr(pred, 0)
    if body is None:
        return pred
    names["orig"] = pred
    # the parts are closure variables of a generated factory (our own objects, never text from a rule)
    code = f"def make({', '.join(names)}):\n    return lambda s: orig(s) if s.trace is not None else bool({body})\n"
    scope: dict[str, Any] = {"__builtins__": {"bool": bool}}
    exec(code, scope)  # noqa: S102
    return scope["make"](**names)
