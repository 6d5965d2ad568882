"""Compile a policy condition tree (`allOf` / `anyOf` / `not` / field / value / count) into a predicate
`scope -> bool`.

Every decision that can be made at compile time is: keys are matched case-insensitively once, aliases
resolved once, right-hand values folded and their tests (sets, regexes) built once. When a trace list is
attached to the scope, leaves record what they saw, so `evaluate` can say which condition decided.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policygen.arm.conditions import OPERATORS
from policygen.arm.expressions import is_expression
from policygen.evaluate.errors import EvaluationFailure, UnsupportedError
from policygen.evaluate.expr import CompileCtx, Compiled, compile_value
from policygen.evaluate.fused import fuse, mark
from policygen.evaluate.operators import Test, make_test
from policygen.evaluate.paths import STAR, find_binding, make_frame_for_field, walk_chains, walk_single
from policygen.evaluate.runtime import Scope
from policygen.evaluate.values import show, type_name
from policygen.evaluate.verdicts import Reads, TooBig

Pred = Callable[[Scope], bool]


def lower_keys(d: dict) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in d.items()}


# Azure's documented limits (definition-structure-policy-rule#policy-rule-limits): condition expressions
# in `if` / in the `then` block's existenceCondition, value-count iterations; and how deep a rule may nest
# (the validator's RULE-04: evaluation fails on objects deeper than 128 levels).
MAX_IF_CONDITIONS = 4096
MAX_THEN_CONDITIONS = 128
MAX_DEPTH = 128
MAX_VALUE_COUNT_ITERATIONS = 100


def check_limits(cond: Any, where: str, max_conditions: int) -> None:
    """Refuse a rule over Azure's limits before compiling it (iterative: a 100,000-deep rule is refused,
    never a RecursionError). https://learn.microsoft.com/azure/governance/policy/concepts/
    definition-structure-policy-rule#policy-rule-limits"""
    stack: list[tuple[Any, int]] = [(cond, 1)]
    leaves = 0
    while stack:
        c, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UnsupportedError(f"{where}: conditions nested more than {MAX_DEPTH} levels deep (Azure's limit)")
        if not isinstance(c, dict):
            continue
        d = lower_keys(c)
        for key in ("allof", "anyof"):
            if isinstance(d.get(key), list):
                stack.extend((x, depth + 1) for x in d[key])
        if "not" in d:
            stack.append((d["not"], depth + 1))
        if isinstance(d.get("count"), dict):
            where_c = lower_keys(d["count"]).get("where")
            if where_c is not None:
                stack.append((where_c, depth + 1))
        if "field" in d or "value" in d or "count" in d:
            leaves += 1
            if leaves > max_conditions:
                raise UnsupportedError(
                    f"{where}: more than {max_conditions} condition expressions (Azure's limit)"
                )


def compile_condition(cond: Any, cc: CompileCtx, where: str = "if") -> Pred:
    if not isinstance(cond, dict):
        raise UnsupportedError(f"{where}: a condition must be an object, got {type_name(cond)}")
    d = lower_keys(cond)
    if "allof" in d or "anyof" in d:
        key = "allof" if "allof" in d else "anyof"
        items = d[key]
        if not isinstance(items, list) or not items:
            raise UnsupportedError(f"{where}.{key}: expected a non-empty array")
        preds = [compile_condition(c, cc, f"{where}.{key}[{i}]") for i, c in enumerate(items)]
        return _all(preds) if key == "allof" else _any(preds)
    if "not" in d:
        return _not(compile_condition(d["not"], cc, f"{where}.not"))
    ops = [k for k in d if k in OPERATORS]
    operands = [k for k in ("field", "value", "count") if k in d]
    if len(operands) != 1:
        if "source" in d:
            raise UnsupportedError(f"{where}: the legacy 'source' operand is no longer supported")
        raise UnsupportedError(f"{where}: a condition needs exactly one of field, value or count")
    if len(ops) != 1:
        raise UnsupportedError(f"{where}: a condition needs exactly one operator, found {len(ops)}")
    op = ops[0]
    rhs = compile_value(d[op], cc)
    if operands[0] == "field":
        return _field_leaf(d["field"], op, rhs, cc, where)
    if operands[0] == "value":
        return _value_leaf(d["value"], op, rhs, cc)
    return _count_leaf(d["count"], op, rhs, cc, where)


# ---- logical --------------------------------------------------------------------------------------


def _all(preds: list[Pred]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        p0, p1 = preds

        def all2(scope: Scope) -> bool:
            if scope.trace is not None:
                return _traced("allOf", preds, scope, all)
            return p0(scope) and p1(scope)

        return mark(all2, ("all", preds))

    def all_(scope: Scope) -> bool:
        if scope.trace is not None:
            return _traced("allOf", preds, scope, all)
        for p in preds:  # noqa: SIM110 - a plain loop is faster than all(<genexpr>)
            if not p(scope):
                return False
        return True

    return mark(all_, ("all", preds))


def _any(preds: list[Pred]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        p0, p1 = preds

        def any2(scope: Scope) -> bool:
            if scope.trace is not None:
                return _traced("anyOf", preds, scope, any)
            return p0(scope) or p1(scope)

        return mark(any2, ("any", preds))

    def any_(scope: Scope) -> bool:
        if scope.trace is not None:
            return _traced("anyOf", preds, scope, any)
        for p in preds:  # noqa: SIM110 - a plain loop is faster than any(<genexpr>)
            if p(scope):
                return True
        return False

    return mark(any_, ("any", preds))


def _traced(name: str, preds: list[Pred], scope: Scope, combine: Callable) -> bool:
    """Short-circuiting like the fast path, but recording each child at depth+1."""
    scope.trace.append((scope.depth, name))  # type: ignore[union-attr]
    pos = len(scope.trace)  # type: ignore[arg-type]
    scope.depth += 1
    try:
        stop = combine is any
        result = not stop
        for p in preds:
            if p(scope) == stop:
                result = stop
                break
    finally:
        scope.depth -= 1
    scope.trace[pos - 1] = (scope.depth, f"{name} → {str(result).lower()}")  # type: ignore[index]
    return result


def _not(p: Pred) -> Pred:
    def not_(scope: Scope) -> bool:
        if scope.trace is None:
            return not p(scope)
        scope.trace.append((scope.depth, "not"))
        pos = len(scope.trace)
        scope.depth += 1
        try:
            r = not p(scope)
        finally:
            scope.depth -= 1
        scope.trace[pos - 1] = (scope.depth, f"not → {str(r).lower()}")
        return r

    return mark(not_, ("not", [p]))


# ---- leaves ---------------------------------------------------------------------------------------


def _test_for(op: str, rhs: Compiled, location: bool = False) -> Callable[[Scope], Test]:
    """A function giving the operator test for this evaluation (built once when the rhs is constant)."""
    if rhs.const:
        try:
            test = make_test(op, rhs.value, location=location)
        except EvaluationFailure as exc:
            msg = str(exc)

            def failing(scope: Scope) -> Test:
                raise EvaluationFailure(msg)

            return failing
        return lambda scope: test
    f = rhs.fn
    return lambda scope: make_test(op, f(scope), location=location)


def _rhs_text(op: str, rhs: Compiled, scope: Scope) -> str:
    try:
        val = rhs.value if rhs.const else rhs.fn(scope)
    except EvaluationFailure:
        val = "<error>"
    return f"{OPERATORS[op]} {show(val)}"


def _field_leaf(raw: Any, op: str, rhs: Compiled, cc: CompileCtx, where: str) -> Pred:
    if not isinstance(raw, str):
        raise UnsupportedError(f"{where}: field must be a string")
    if is_expression(raw):
        c = compile_value(raw, cc)
        if not c.const:
            cc.opaque()
            return _dynamic_field_leaf(c, op, rhs, cc)
        if not isinstance(c.value, str):
            raise UnsupportedError(f"{where}: field expression must produce a string")
        raw = c.value
    acc = cc.field(raw)
    cc.work(1 if rhs.const and not acc.collection else 2)
    get = acc.cond
    test_for = _test_for(op, rhs, acc.is_location)
    label = acc.name

    if rhs.const and not acc.collection:
        test0 = None
        try:
            test0 = test_for(None)  # type: ignore[arg-type]
        except EvaluationFailure:
            test0 = None
        if test0 is not None:
            t = test0

            def leaf_fast(scope: Scope) -> bool:
                v = get(scope)
                r = t(v)
                if scope.trace is not None:
                    scope.note(f"field '{label}' = {show(v)}; {_rhs_text(op, rhs, scope)} → {str(r).lower()}")
                return r

            # what the leaf reads, for plans that read a field once for all the policies of a type
            share = None if cc.frames else ("field", acc.name, cc.catalogue)
            return mark(leaf_fast, ("leaf", get, t, share))

    if not acc.collection:

        def leaf(scope: Scope) -> bool:
            v = get(scope)
            r = test_for(scope)(v)
            if scope.trace is not None:
                scope.note(f"field '{label}' = {show(v)}; {_rhs_text(op, rhs, scope)} → {str(r).lower()}")
            return r

        return leaf

    def leaf_all(scope: Scope) -> bool:
        vals = get(scope)
        t = test_for(scope)
        r = True
        for v in vals:
            if not t(v):
                r = False
                break
        if scope.trace is not None:
            scope.note(
                f"field '{label}' selects {len(vals)} value(s) {show(vals)}; "
                f"every one {_rhs_text(op, rhs, scope)}"
                f" → {str(r).lower()}" + (" (empty collection: vacuously true)" if not vals else "")
            )
        return r

    if rhs.const:
        try:
            t_all = test_for(None)  # type: ignore[arg-type]
        except EvaluationFailure:
            return leaf_all
        share = None if cc.frames else ("field", acc.name, cc.catalogue)
        mark(leaf_all, ("every", get, t_all, share))
    return leaf_all


def _dynamic_field_leaf(name_expr: Compiled, op: str, rhs: Compiled, cc: CompileCtx) -> Pred:
    """`"field": "[concat('tags[', parameters('x'), ']')]"` that depends on the resource: resolve per call."""

    def leaf(scope: Scope) -> bool:
        name = name_expr.fn(scope)
        if not isinstance(name, str):
            raise EvaluationFailure("field expression must produce a string")
        acc = cc.field(name)
        t = make_test(op, rhs.fn(scope), location=acc.is_location)
        v = acc.cond(scope)
        r = all(t(x) for x in v) if acc.collection else t(v)
        scope.note(f"field '{name}' = {show(v)}; {_rhs_text(op, rhs, scope)} → {str(r).lower()}")
        return r

    return leaf


# String operators read a null `value` side as "" (reference 2.4: "A null `value` side is treated as empty
# string by string operators"); only a missing *field* is the "not the empty string" case (operators.py).
_NULL_AS_EMPTY = frozenset(
    {"like", "notlike", "match", "notmatch", "matchinsensitively", "notmatchinsensitively", "contains", "notcontains"}
)


def _value_leaf(raw: Any, op: str, rhs: Compiled, cc: CompileCtx) -> Pred:
    val = compile_value(raw, cc)
    cc.work(1 if rhs.const else 2)
    test_for = _test_for(op, rhs)
    text = raw if isinstance(raw, str) else show(raw)
    vf = val.fn
    # a member of the request context read by several policies is read once per resource in a plan
    share = getattr(vf, "share", None) if not cc.frames else None
    if op in _NULL_AS_EMPTY:
        inner = vf
        share = share and (*share, "null as empty")

        def vf(scope: Scope) -> Any:
            v = inner(scope)
            return "" if v is None else v

    def leaf(scope: Scope) -> bool:
        v = vf(scope)
        r = test_for(scope)(v)
        if scope.trace is not None:
            scope.note(f"value {text} = {show(v)}; {_rhs_text(op, rhs, scope)} → {str(r).lower()}")
        return r

    return _mark_const(leaf, vf, test_for, rhs, share)


def _mark_const(leaf: Pred, get: Callable[[Scope], Any], test_for: Callable[[Scope], Test], rhs: Compiled,
                share: Any = None) -> Pred:
    """A leaf `test(get(scope))` whose test is built once: fusable like a field test (evaluate.fused)."""
    if rhs.const:
        try:
            t = test_for(None)  # type: ignore[arg-type]
        except EvaluationFailure:
            return leaf  # fails when evaluated: keep the closure
        mark(leaf, ("leaf", get, t, share))
    return leaf


def _count_leaf(raw: Any, op: str, rhs: Compiled, cc: CompileCtx, where: str) -> Pred:
    if not isinstance(raw, dict):
        raise UnsupportedError(f"{where}.count: expected an object")
    d = lower_keys(raw)
    counter = _field_counter(d, cc, where) if "field" in d else _value_counter(d, cc, where)
    cc.work(4)
    test_for = _test_for(op, rhs)
    label = f"count of {d['field']!r}" if "field" in d else "value count"

    def leaf(scope: Scope) -> bool:
        n = counter(scope)
        r = test_for(scope)(n)
        if scope.trace is not None:
            scope.note(f"{label} = {n}; {_rhs_text(op, rhs, scope)} → {str(r).lower()}")
        return r

    return _mark_const(leaf, counter, test_for, rhs)


def _field_counter(d: dict, cc: CompileCtx, where: str) -> Callable[[Scope], int]:
    if "value" in d:
        raise UnsupportedError(f"{where}.count: use either field or value, not both")
    if "name" in d:  # count.name names a value count's member (definition-structure-policy-rule#value-count)
        raise UnsupportedError(f"{where}.count.name: only a value count has a name, not a field count")
    alias = d["field"]
    if isinstance(alias, str) and is_expression(alias):
        c = compile_value(alias, cc)
        if not c.const or not isinstance(c.value, str):
            raise UnsupportedError(f"{where}.count.field: must be a literal [*] alias")
        alias = c.value
    if not isinstance(alias, str):
        raise UnsupportedError(f"{where}.count.field: must be a string")
    acc = cc.field(alias, record=False)
    segs = acc.segs
    if not segs or segs[-1] is not STAR:
        raise UnsupportedError(f"{where}.count.field: {alias!r} is not a [*] alias")
    binding = find_binding(segs, cc.frames) if cc.frames else None
    frame = make_frame_for_field(alias, segs)
    # what the verdict cache keys on (evaluate.verdicts): a top-level count, what `where` reads of each
    # member; a nested one, the whole value its members come from
    member_reads = Reads() if cc.reads is not None and not cc.frames else None
    inner = cc.with_frame(frame, member_reads)
    cond = fuse(compile_condition(d["where"], inner, f"{where}.count.where")) if "where" in d else None

    if binding is None:

        def members(scope: Scope) -> list:
            # the members of a top-level count, walked once per scope for every count over the same path
            cache = scope.chains
            if cache is None:
                cache = scope.chains = {}
            out = cache.get(segs)
            if out is None:
                out = cache[segs] = []
                walk_chains(scope.resource, segs, (), out)
            return out

        if member_reads is not None:
            cc.record(("count", member_reads), _count_key(members, member_reads))
        else:
            start = segs[: segs.index(STAR)]
            cc.record(("count", start), lambda scope: walk_single(scope.resource, start))

    else:
        fi, j, plen = binding
        rest = segs[plen:]

        def members(scope: Scope) -> list:
            prefix = scope.members[fi][: j + 1]
            if not rest:
                return [prefix]
            out: list = []
            walk_chains(prefix[-1], rest, prefix, out)
            return out

        if rest:
            start = rest[: rest.index(STAR)]
            cc.record(("count", fi, j, start), lambda scope: walk_single(scope.members[fi][j], start), binding)

    if cond is None:
        return lambda scope: len(members(scope))

    def count(scope: Scope) -> int:
        n = 0
        stack = scope.members
        for chain in members(scope):
            stack.append(chain)
            try:
                if cond(scope):
                    n += 1
            finally:
                stack.pop()
        return n

    return count


def _count_key(members: Callable[[Scope], list], member_reads: Reads) -> Callable[[Scope], Any]:
    """A top-level field count's part of the verdict key: the number of members, and per member the
    values its `where` reads of it (evaluated with the member current, as the count does)."""

    def key(scope: Scope) -> Any:
        chains = members(scope)
        getters = member_reads.getters
        if not getters:
            return len(chains)
        stack = scope.members
        if stack:
            raise TooBig  # only ever keyed at the top level
        out = []
        for chain in chains:
            stack.append(chain)
            try:
                out.append([g(scope) for g in getters])
            finally:
                stack.pop()
        return out

    return key


def _value_counter(d: dict, cc: CompileCtx, where: str) -> Callable[[Scope], int]:
    if "value" not in d:
        raise UnsupportedError(f"{where}.count: needs field or value")
    arr = compile_value(d["value"], cc)
    name = d.get("name", "default")
    if not isinstance(name, str) or not name.isalnum():
        raise UnsupportedError(f"{where}.count.name: must be letters and digits")
    from policygen.evaluate.paths import Frame

    inner = cc.with_frame(Frame("value", name.lower()))
    cond = fuse(compile_condition(d["where"], inner, f"{where}.count.where")) if "where" in d else None

    def items(scope: Scope) -> list:
        v = arr.fn(scope)
        if not isinstance(v, list):
            raise EvaluationFailure(f"count.value must be an array, got {type_name(v)}")
        if len(v) * scope.iterations > MAX_VALUE_COUNT_ITERATIONS:
            raise EvaluationFailure(
                f"count.value iterates {len(v) * scope.iterations} times (nested value counts multiply): Azure "
                f"evaluates at most {MAX_VALUE_COUNT_ITERATIONS} iterations"
            )
        return v

    if cond is None:
        return lambda scope: len(items(scope))

    def count(scope: Scope) -> int:
        n = 0
        stack = scope.members
        members = items(scope)
        outer = scope.iterations
        scope.iterations = outer * max(len(members), 1)
        try:
            for item in members:
                stack.append(item)
                try:
                    if cond(scope):
                        n += 1
                finally:
                    stack.pop()
        finally:
            scope.iterations = outer
        return n

    return count


# ---- indexing ---------------------------------------------------------------------------------------


def resource_types(cond: Any, cc: CompileCtx) -> frozenset[str] | None:
    """Lower-case types the condition can match (None = any): from `type equals/in` constants under
    `allOf` (intersection) and `anyOf` (union). Anything else is conservatively 'any'."""
    if not isinstance(cond, dict):
        return None
    d = lower_keys(cond)
    if "allof" in d and isinstance(d["allof"], list):
        sets = [s for s in (resource_types(c, cc) for c in d["allof"]) if s is not None]
        if not sets:
            return None
        out = sets[0]
        for s in sets[1:]:
            out = out & s
        return out
    if "anyof" in d and isinstance(d["anyof"], list):
        parts = [resource_types(c, cc) for c in d["anyof"]]
        if any(p is None for p in parts) or not parts:
            return None
        return frozenset().union(*parts)  # type: ignore[arg-type]
    if not (isinstance(d.get("field"), str) and d["field"].strip().lower() == "type"):
        return None
    for op in ("equals", "in"):
        if op in d:
            try:
                c = compile_value(d[op], cc)
            except UnsupportedError:
                return None
            if not c.const:
                return None
            vals = c.value if op == "in" else [c.value]
            if isinstance(vals, list) and all(isinstance(v, str) for v in vals):
                return frozenset(v.lower() for v in vals)
    return None


def _is_type_leaf(cond: Any, cc: CompileCtx) -> bool:
    if not isinstance(cond, dict):
        return False
    d = lower_keys(cond)
    return (
        len(d) == 2
        and isinstance(d.get("field"), str)
        and d["field"].strip().lower() == "type"
        and ("equals" in d or "in" in d)
        and resource_types(cond, cc) is not None
    )


def residual_condition(cond: Any, cc: CompileCtx) -> Pred | None:
    """The `if` without the top-level `type equals/in` leaves that the type index already guarantees
    (a resource only meets a policy whose `resource_types` contain its type). None when nothing can be
    dropped; the always-true predicate when the whole `if` was the type test."""
    if _is_type_leaf(cond, cc):
        return _ALWAYS
    if not isinstance(cond, dict):
        return None
    d = lower_keys(cond)
    if set(d) != {"allof"} or not isinstance(d["allof"], list):
        return None
    rest = [c for c in d["allof"] if not _is_type_leaf(c, cc)]
    if len(rest) == len(d["allof"]):
        return None
    if not rest:
        return _ALWAYS
    return compile_condition({"allOf": rest}, cc)


_ALWAYS = mark(lambda scope: True, ("true",))


# ---- applicability (policy-applicability page) ----------------------------------------------------

_SPECIAL = ("type", "name", "kind")


def _leaf_kinds(cond: Any, out: set[str]) -> None:
    """Collect which leaves a condition has: 'type' / 'name' / 'kind' / 'location' / 'other'."""
    if not isinstance(cond, dict):
        return
    d = lower_keys(cond)
    for key in ("allof", "anyof"):
        if isinstance(d.get(key), list):
            for c in d[key]:
                _leaf_kinds(c, out)
            return
    if "not" in d:
        _leaf_kinds(d["not"], out)
        return
    f = d.get("field")
    low = f.strip().lower() if isinstance(f, str) else None
    if low in _SPECIAL:
        out.add(low)
    else:
        out.add("other")
        if low == "location" or "location" in str(cond).lower():
            out.add("location")


def applicability_condition(cond: Any, cc: CompileCtx) -> tuple[Pred | None, bool]:
    """(predicate, mentions location) deciding whether a non-IfNotExists policy applies to a resource.

    Only `type`, `name` and `kind` leaves are evaluated; every other leaf counts as true (false under
    an odd number of `not`s). Special cases from the page: `kind`-only or `name`-only rules apply to
    everything; with `type`, `name`/`kind` count only when other conditions exist too. The predicate is
    None when the rule applies to every resource (of the types its `type` conditions allow).
    """
    kinds: set[str] = set()
    _leaf_kinds(cond, kinds)
    others = "other" in kinds
    considered = {k for k in ("type", "name", "kind") if k in kinds and (k == "type" or others)}
    if not considered:
        return None, "location" in kinds

    def build(c: Any, positive: bool) -> Pred:
        d = lower_keys(c) if isinstance(c, dict) else {}
        if isinstance(d.get("allof"), list):
            return _all([build(x, positive) for x in d["allof"]])
        if isinstance(d.get("anyof"), list):
            return _any([build(x, positive) for x in d["anyof"]])
        if "not" in d:
            return _not(build(d["not"], not positive))
        f = d.get("field")
        if isinstance(f, str) and f.strip().lower() in considered:
            return compile_condition(c, cc)
        return (lambda scope: True) if positive else (lambda scope: False)

    pred = build(cond, True)
    # without `name` leaves the answer depends on the resource's type and kind only (impact caches it)
    setattr(pred, "type_and_kind_only", "name" not in considered)  # noqa: B010 - a fresh closure
    return pred, "location" in kinds
