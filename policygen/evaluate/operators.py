"""The 19 condition operators, each built once per right-hand value into a test `left -> bool`.

Semantics (RULE page; reference section 2.4): string comparisons are case-insensitive except `match` /
`notMatch`; scalars compare by string form; `in` needs an array; ordering operators compare numbers
with numbers and strings (including ISO dates) with strings and fail on anything else; a null right-hand
value fails the evaluation.

A missing value (a field absent from the payload, or an array member lacking the property) is null, not
the empty string: the pattern operators `like`, `match`, `matchInsensitively` and `contains` never hold
for it (so their `not…` forms do) — built-in 83a86a26-fd1f-447c-b59d-e51f44264114 ("Network interfaces
should not have public IPs", `not(ipconfigurations[*].publicIpAddress.id notLike "*")`) depends on it.
`equals` / `notEquals` / `in` compare null as "" (built-in "Subscriptions should have a contact email
address", existenceCondition `email notEquals ""`, flags a contact without email), `containsKey` needs
an object, `exists` tells absence apart, and ordering operators never hold for null (ambiguity: the docs
only say mismatched *types* throw; absence as "no match" is what every built-in's guard pattern assumes).
Learn: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#conditions
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from policygen.arm.conditions import OPERATORS
from policygen.arm.like import like_matcher
from policygen.evaluate.errors import EvaluationFailure, UnsupportedError
from policygen.evaluate.functions import parse_datetime
from policygen.evaluate.values import MISSING, canon, loose_equals, normalize_location, show, type_name

Test = Callable[[Any], bool]

NEGATED = {
    "notequals": "equals",
    "notlike": "like",
    "notmatch": "match",
    "notmatchinsensitively": "matchinsensitively",
    "notcontains": "contains",
    "notin": "in",
    "notcontainskey": "containskey",
}
ORDERING = frozenset({"less", "lessorequals", "greater", "greaterorequals"})


def exists_flag(rhs: Any) -> bool:
    """`exists` takes true/false or the strings "true"/"false" in any case."""
    if isinstance(rhs, bool):
        return rhs
    if isinstance(rhs, str) and rhs.strip().lower() in ("true", "false"):
        return rhs.strip().lower() == "true"
    raise UnsupportedError(f"exists expects true or false, got {show(rhs)}")


# How a test may be written inline by generated code (evaluate.fused): INLINE attribute of the test,
# ("present",) / ("absent",) for `exists`, ("not", inner test), ("location", inner test) (normalised
# left side), ("lower", operator, constant, result for a missing value) for a test that compares a
# string's lower-case form with `==` / `in` (a missing value reads as ""), or ("int", operator, int
# constant) for an ordering of ints (the test itself answers any other left side). Same results as
# calling the test.
INLINE = "_inline"


def _inline(test: Test, how: tuple) -> Test:
    setattr(test, INLINE, how)
    return test


def make_test(op: str, rhs: Any, *, location: bool = False) -> Test:
    """Build the test for lower-case operator `op` against right-hand value `rhs`."""
    if op == "exists":
        want = exists_flag(rhs)
        if want:
            return _inline(lambda v: v is not MISSING and v is not None, ("present",))
        return _inline(lambda v: v is MISSING or v is None, ("absent",))
    if rhs is None or rhs is MISSING:
        raise EvaluationFailure(f"the right-hand value of '{OPERATORS.get(op, op)}' evaluated to null")
    base = NEGATED.get(op)
    if base is not None:
        inner = make_test(base, rhs, location=location)
        return _inline(lambda v: not inner(v), ("not", inner))
    if location:
        rhs = normalize_location(rhs)
        t = _BUILDERS[op](rhs)
        return _inline(lambda v: t(normalize_location(v)), ("location", t))
    builder = _BUILDERS.get(op)
    if builder is None:
        raise UnsupportedError(f"unknown operator {op!r}")
    return builder(rhs)


def _equals(rhs: Any) -> Test:
    c = canon(rhs)
    if c is None:
        return lambda v: loose_equals(v, rhs)

    def t(v: Any) -> bool:
        if type(v) is str:
            return v.lower() == c
        return canon(v) == c

    return _inline(t, ("lower", "==", c, c == ""))


def _like(rhs: Any) -> Test:
    """One linear-time matcher (policygen.arm.like), shared with the emulator's request-time evaluation."""
    pat = canon(rhs)
    if pat is None:
        raise EvaluationFailure(f"like expects a string pattern, got {type_name(rhs)}")
    match = like_matcher(pat)

    def t(v: Any) -> bool:
        if type(v) is str:
            return match(v)
        if v is MISSING or v is None:
            return False  # a missing value is not the empty string: `like "*"` does not hold for it
        c = canon(v)
        return c is not None and match(c)

    return t


def match_regex(pattern: str, insensitive: bool) -> re.Pattern:
    """`#` digit, `?` letter, `.` any character, anything else literal; whole string."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append("[0-9]")
        elif ch == "?":
            out.append("[^\\W\\d_]")
        elif ch == ".":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if insensitive else 0))


def _matcher(insensitive: bool) -> Callable[[Any], Test]:
    def build(rhs: Any) -> Test:
        if not isinstance(rhs, str):
            raise EvaluationFailure(f"match expects a string pattern, got {type_name(rhs)}")
        rx = match_regex(rhs, insensitive)

        def t(v: Any) -> bool:
            if isinstance(v, list | dict) or v is MISSING or v is None:
                return False
            s = v if type(v) is str else canon(v) or ""
            return rx.fullmatch(s) is not None

        return t

    return build


def _contains(rhs: Any) -> Test:
    c = canon(rhs)

    def t(v: Any) -> bool:
        if type(v) is list:
            return any(loose_equals(x, rhs) for x in v)
        if type(v) is dict or c is None or v is MISSING or v is None:
            return False
        cv = canon(v)
        return cv is not None and c in cv

    return t


def _in(rhs: Any) -> Test:
    if not isinstance(rhs, list):
        raise EvaluationFailure(f"'in' expects an array, got {type_name(rhs)}")
    scalars = {c for c in (canon(x) for x in rhs) if c is not None}
    containers = [x for x in rhs if isinstance(x, list | dict)]

    def t(v: Any) -> bool:
        if type(v) is str:
            return v.lower() in scalars
        c = canon(v)
        if c is not None:
            return c in scalars
        return any(loose_equals(v, x) for x in containers)

    return _inline(t, ("lower", "in", scalars, "" in scalars))


def _containskey(rhs: Any) -> Test:
    key = canon(rhs)
    if key is None:
        raise EvaluationFailure(f"containsKey expects a key name, got {type_name(rhs)}")

    def t(v: Any) -> bool:
        return type(v) is dict and (key in v or any(str(k).lower() == key for k in v))

    return t


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def compare(v: Any, rhs: Any, op: str) -> int | None:
    """-1/0/1 ordering of v against rhs; None when v is missing; failure on a type mismatch."""
    if v is MISSING or v is None:
        return None
    if _is_number(v) and _is_number(rhs):
        return (v > rhs) - (v < rhs)
    if isinstance(v, str) and isinstance(rhs, str):
        dv, dr = parse_datetime(v), parse_datetime(rhs)
        if dv is not None and dr is not None:
            return (dv > dr) - (dv < dr)
        a, b = v.lower(), rhs.lower()
        return (a > b) - (a < b)
    raise EvaluationFailure(
        f"'{OPERATORS[op]}' cannot compare {type_name(v)} {show(v, 40)} with {type_name(rhs)} {show(rhs, 40)}"
    )


_PY_OP = {"less": "<", "lessorequals": "<=", "greater": ">", "greaterorequals": ">="}


def _ordering(op: str) -> Callable[[Any], Test]:
    accept = {"less": (-1,), "lessorequals": (-1, 0), "greater": (1,), "greaterorequals": (1, 0)}[op]

    def build(rhs: Any) -> Test:
        if isinstance(rhs, (bool, list | dict)):
            raise EvaluationFailure(f"'{OPERATORS[op]}' expects a number, string or date, got {type_name(rhs)}")
        if _is_number(rhs):

            def t_num(v: Any) -> bool:
                t = type(v)
                if t is int or t is float or (t is not bool and isinstance(v, int | float)):
                    return (v > rhs) - (v < rhs) in accept
                return compare(v, rhs, op) in accept

            if type(rhs) is int:  # an int against an int: the plain comparison (a count, most often)
                return _inline(t_num, ("int", _PY_OP[op], rhs))
            return t_num
        if isinstance(rhs, str):
            low = rhs.lower()
            dr = parse_datetime(rhs)
            if dr is None:

                def t_str(v: Any) -> bool:  # a non-date string: no date parsing of the left side
                    if type(v) is str:
                        a = v.lower()
                        return (a > low) - (a < low) in accept
                    return compare(v, rhs, op) in accept

                return t_str

            def t_date(v: Any) -> bool:  # `compare` with the right side's date parsed once
                if type(v) is str:
                    dv = parse_datetime(v)
                    if dv is not None:
                        return (dv > dr) - (dv < dr) in accept
                    a = v.lower()
                    return (a > low) - (a < low) in accept
                return compare(v, rhs, op) in accept

            return t_date
        return lambda v: compare(v, rhs, op) in accept

    return build


_BUILDERS: dict[str, Callable[[Any], Test]] = {
    "equals": _equals,
    "like": _like,
    "match": _matcher(False),
    "matchinsensitively": _matcher(True),
    "contains": _contains,
    "in": _in,
    "containskey": _containskey,
    "less": _ordering("less"),
    "lessorequals": _ordering("lessorequals"),
    "greater": _ordering("greater"),
    "greaterorequals": _ordering("greaterorequals"),
}
