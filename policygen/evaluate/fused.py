"""One function per rule for the untraced hot path: `allOf` / `anyOf` / `not` over field tests fused into
a single Python expression, instead of a closure call per node.

The compiled closures (evaluate.conditions) stay the definition of a rule's meaning; they mark how they
were built (`FUSE` attribute: ("all" | "any" | "not", children) or ("leaf", getter, test, share key)).
`fuse` turns such a tree into `t0(g0(s)) and (t1(g1(s)) or not t2(g2(s)))`: the same calls in the same
order (Python's `and` / `or` short-circuit exactly as the closures' loops do), without the per-node calls
and trace checks. Anything else (counts, value conditions, computed right-hand sides) is called as
it is. A traced evaluation (`scope.trace` set, `evaluate` explaining itself) runs the closures.

`Emitter` writes such expressions for `fuse` and for the per-type plans of `evaluate.plans`, which also
read a field tested by several leaves once per resource (a local variable filled on first use).
Generated code holds only generated names: every getter, test and constant is a closure variable.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import CodeType
from typing import Any

from policygen.evaluate.operators import INLINE
from policygen.evaluate.values import MISSING, normalize_location

FUSE = "_fuse"  # attribute name on compiled predicates
ORIG = "_fused_from"  # on a fused function: the marked tree it was generated from
MAX_NODES = 512  # larger rules keep their closures (the expression would be long to compile)
MAX_DEPTH = 48  # Python's parser refuses deeply nested parentheses


# what generated code may name besides its factory's arguments
GLOBALS: dict[str, Any] = {
    "__builtins__": {"bool": bool, "str": str, "int": int, "type": type, "all": all, "map": map},
    "M": MISSING,
    "NL": normalize_location,
}


@lru_cache(maxsize=1024)
def compiled(code: str) -> CodeType:
    """Generated source compiled once: rules of the same shape give the same text (names are positional)."""
    return compile(code, "<generated>", "exec")


def mark(pred: Callable, how: tuple) -> Callable:
    setattr(pred, FUSE, how)
    return pred


class Emitter:
    """Expression text over generated names (`names` maps each to its object)."""

    def __init__(self, shared: dict[Any, str] | None = None):
        self.names: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        self.shared = shared if shared is not None else {}  # share key -> local variable (plans only)
        self.locals: list[str] = list(self.shared.values())  # to set to U before the first use
        self._lazy: dict[str, str] = {}  # expression of a value read once -> its local
        self._normalised: dict[str, str] = {}  # such a local -> its normalised location's local

    def name(self, obj: Any, prefix: str) -> str:
        n = self._ids.get(id(obj))
        if n is None or self.names[n] is not obj:
            n = f"{prefix}{len(self.names)}"
            self.names[n] = obj
            self._ids[id(obj)] = n
        return n

    def expr(self, p: Callable, budget: list[int] | None = None, depth: int = 0) -> str | None:
        """`p(s)` as an expression (None when over `MAX_NODES`)."""
        if budget is None:
            budget = [MAX_NODES]
        budget[0] -= 1
        if budget[0] < 0:
            return None
        how = getattr(p, FUSE, None)
        if how is None or depth > MAX_DEPTH:
            return f"{self.name(p, 'p')}(s)"
        kind = how[0]
        if kind == "true":
            return "True"
        if kind == "leaf" or kind == "every":
            local = self.shared.get(how[3]) if how[3] is not None else None
            if local is None:
                value = f"{self.name(how[1], 'g')}(s)"
            else:  # read once per resource: the first leaf reading it fills the local
                value = f"({local} if {local} is not U else ({local} := {self.name(how[1], 'g')}(s)))"
                self._lazy[value] = local
            if kind == "every":  # every selected value passes (an empty selection does)
                return f"all(map({self.name(how[2], 't')}, {value}))"
            return self.test(how[2], value)
        parts = [self.expr(c, budget, depth + 1) for c in how[1]]
        if any(x is None for x in parts):
            return None
        if kind == "not":
            return f"(not {parts[0]})"
        return "(" + (" and " if kind == "all" else " or ").join(parts) + ")"  # type: ignore[arg-type]


    def test(self, t: Callable, value: str) -> str:
        """`t(value)`, written out when the test says how (operators.INLINE); `_w` holds the value."""
        how = getattr(t, INLINE, None)
        if how is None:
            return f"{self.name(t, 't')}({value})"
        kind = how[0]
        if kind == "present":
            return f"((_w := {value}) is not M and _w is not None)"
        if kind == "absent":
            return f"((_w := {value}) is M or _w is None)"
        if kind == "not":
            return f"(not {self.test(how[1], value)})"
        if kind == "location":
            shared = self._lazy.get(value)
            if shared is not None:  # a value read once per resource: normalised once too
                local = self._normalised.get(shared)
                if local is None:
                    local = self._normalised[shared] = f"w{len(self._normalised)}"
                    self.locals.append(local)
                return self.test(how[1], f"({local} if {local} is not U else ({local} := NL({value})))")
            return self.test(how[1], f"NL({value})")
        c, other = self.name(how[2], "c"), self.name(t, "t")
        if kind == "int":  # an int ordered against an int constant; the rest by the test
            return f"(_w {how[1]} {c} if type(_w := {value}) is int else {other}(_w))"
        # ("lower", "==" | "in", constant, if missing): a string compared by its lower-case form, a missing
        # value answered by a constant; the rest by the test
        missing = "True" if how[3] else "False"
        return f"(_w.lower() {how[1]} {c} if type(_w := {value}) is str else ({missing} if _w is M else {other}(_w)))"


def share_keys(pred: Callable, out: dict[Any, int], depth: int = 0) -> None:
    """Count the leaves of a marked tree by what they read (share key), as `Emitter.expr` walks them."""
    how = getattr(pred, FUSE, None)
    if how is None or depth > MAX_DEPTH:
        return
    if how[0] == "true":
        return
    if how[0] == "leaf" or how[0] == "every":
        if how[3] is not None:
            out[how[3]] = out.get(how[3], 0) + 1
        return
    for c in how[1]:
        share_keys(c, out, depth + 1)


def fuse(pred: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """`pred` as one function when it is a tree of logical nodes and field tests; else `pred`."""
    if getattr(pred, FUSE, None) is None:
        return pred
    em = Emitter()
    body = em.expr(pred)
    if body is None:
        return pred
    names = em.names
    names["orig"] = pred
    # the parts are closure variables of a generated factory (our own objects, never text from a rule)
    code = f"def make({', '.join(names)}):\n    return lambda s: orig(s) if s.trace is not None else bool({body})\n"
    scope: dict[str, Any] = dict(GLOBALS)
    exec(compiled(code), scope)  # noqa: S102
    fn = scope["make"](**names)
    setattr(fn, ORIG, pred)
    return fn
