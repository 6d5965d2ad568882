"""A policy's `if` verdict remembered by the values it reads (the impact hot path).

Compiling a rule records what its `if` can read (`Reads`): each field a condition or `field()` reads of
the resource; the member of the request context it reads (`requestContext().apiVersion`,
`resourceGroup().managedBy`); `utcNow()` (remembered only when the context fixes the instant, as
`impact` does); for a field count, the number of members and what `where` reads of each. A rule whose
field name is computed per resource is *opaque* and always evaluated.

The verdict (true, false, or the evaluation failure's message) is a function of those values alone,
so resources that agree on them share it. Keys freeze the values exactly (`true` is not `1`, `1.0` is
not `1`, `-0.0` is not `0.0`, a missing property is not null). Values are read once per resource for
all the policies of its type (`Slots`). Reading them can cost more than a condition that stops at its
first leaf, so each policy times both ways on its first resources and keeps the cheaper (`Memo`); a
memo that mostly misses (a rule reading `name` or `id`) switches itself off. Bounded: `LIMIT` entries
per policy, keys only from values of at most `BUDGET` nodes. Either way the verdict is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from time import thread_time_ns
from typing import Any

from policygen.evaluate.errors import EvaluationFailure
from policygen.evaluate.values import MISSING

Getter = Callable[[Any], Any]
LIMIT = 4096  # entries per policy
BUDGET = 64  # JSON nodes per key: larger values are evaluated, never remembered
WARMUP = 1024  # lookups before a cache that mostly misses is switched off
MIN_WORK = 4  # conditions cheaper than this are evaluated, not looked up
WARM, TIMED = 128, 64  # a policy's first lookups, then lookups and evaluations timed (CPU time) to choose
TRIAL, MEMO, PLAIN = "trial", "memo", "plain"


class Reads:
    """What a compiled `if` reads of the resource: getters (scope -> value), or opaque."""

    __slots__ = ("keys", "getters", "opaque", "work")

    def __init__(self) -> None:
        self.keys: list[Any] = []  # what each getter reads (equal keys read the same, in any policy)
        self.getters: list[Getter] = []
        self.opaque = False
        self.work = 0  # a rough cost of evaluating the condition (leaves, counts, computed values)

    def add(self, key: Any, getter: Getter) -> None:
        if key not in self.keys:
            self.keys.append(key)
            self.getters.append(getter)


class _Tag:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


_TRUE, _FALSE, _FLOAT, _LIST, _DICT = (_Tag(n) for n in ("true", "false", "float", "list", "dict"))


class TooBig(Exception):
    """A value over the key budget (or of a type JSON does not produce): evaluate, do not remember."""


def freeze(value: Any, budget: list[int]) -> Any:
    """A hashable form equal only for values every operator treats alike (see module docstring)."""
    t = type(value)
    if t is str or t is int or value is None or value is MISSING:
        return value
    budget[0] -= 1
    if budget[0] < 0:
        raise TooBig
    if t is bool:
        return _TRUE if value else _FALSE
    if t is float:
        return (_FLOAT, repr(value))
    if t is list:
        budget[0] -= len(value)
        if budget[0] < 0:
            raise TooBig
        return (_LIST, *[freeze(v, budget) for v in value])
    if t is dict:
        budget[0] -= len(value)
        if budget[0] < 0:
            raise TooBig
        out: list[Any] = [_DICT]
        for k, v in value.items():
            if type(k) is not str:
                raise TooBig
            out.append(k)
            out.append(freeze(v, budget))
        return tuple(out)
    raise TooBig


class Memo:
    """One policy's remembered verdicts (shared by every type plan the policy is in).

    Reading the values for a key can cost more than evaluating a condition that short-circuits on its
    first leaf, so each policy tries both on the resources it first meets (`WARM` lookups, then `TIMED`
    of each way, timed) and keeps the cheaper. Either way gives the same verdicts: only speed differs."""

    __slots__ = ("reads", "pred", "verdicts", "lookups", "misses", "mode", "calls", "t_memo", "t_plain")

    def __init__(self, pred: Callable[[Any], bool], reads: Reads):
        self.reads = reads
        self.pred = pred
        self.verdicts: dict[Any, Any] = {}
        self.lookups = 0
        self.misses = 0
        self.mode = TRIAL
        self.calls = 0
        self.t_memo = self.t_plain = 0

    def miss(self, key: Any, scope: Any) -> Any:
        """Evaluate, remember (True, False, or the failure's message); switch off when mostly missing."""
        try:
            r: Any = bool(self.pred(scope))
        except EvaluationFailure as exc:
            r = str(exc)
        if len(self.verdicts) < LIMIT:
            self.verdicts[key] = r
        self.misses += 1
        if self.lookups >= WARMUP and self.misses * 2 > self.lookups:
            self.off()
        return r

    def off(self) -> None:
        self.mode = PLAIN
        self.verdicts.clear()

    def trial(self, scope: Any, looked_up: Callable[[Any], bool]) -> bool:
        n = self.calls
        self.calls = n + 1
        if n < WARM:
            return looked_up(scope)
        memo_turn = n < WARM + TIMED
        t0 = thread_time_ns()
        try:
            return looked_up(scope) if memo_turn else self.pred(scope)
        finally:
            dt = thread_time_ns() - t0
            if memo_turn:
                self.t_memo += dt
            else:
                self.t_plain += dt
                if n == WARM + 2 * TIMED - 1 and self.mode == TRIAL:
                    if self.t_memo * 5 < self.t_plain * 4:  # a clear gain only
                        self.mode = MEMO
                    else:
                        self.off()


def memo_for(pred: Callable[[Any], bool], reads: Reads | None) -> Memo | None:
    """A memo for `pred` when its verdicts can be remembered: it reads only what `reads` names."""
    if reads is None or reads.opaque or not reads.getters:
        return None  # opaque, or a constant verdict: nothing to look up
    if reads.work < MIN_WORK:
        return None  # a few plain field tests cost no more than reading their values for a key
    return Memo(pred, reads)


_UNSET: Any = _Tag("unset")
_BIG: Any = _Tag("big")


def _frozen(getter: Getter, scope: Any) -> Any:
    try:
        v = getter(scope)
        t = type(v)
        if t is str or t is int or v is None or v is MISSING:
            return v
        if t is bool:
            return _TRUE if v else _FALSE
        return freeze(v, [BUDGET])
    except TooBig:
        return _BIG


class Slots:
    """The values the policies of one type plan read, each read once per resource (`scope.memo`)."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.getters: list[Getter] = []

    def slot(self, key: Any, getter: Getter) -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.getters)
            self.getters.append(getter)
        return i

    def fresh(self) -> list[Any]:
        return [_UNSET] * len(self.getters)

    def pred(self, memo: Memo | None, plain: Callable[[Any], bool]) -> Callable[[Any], bool]:
        """The plan's predicate for one policy: `plain`, or its verdict looked up by the slot values."""
        if memo is None:
            return plain
        reads = memo.reads
        idx = [self.slot(k, g) for k, g in zip(reads.keys, reads.getters, strict=True)]
        getters = self.getters
        verdicts = memo.verdicts

        def value(scope: Any, i: int) -> Any:
            m = scope.memo
            v = m[i]
            if v is _UNSET:
                v = m[i] = _frozen(getters[i], scope)
            return v

        if len(idx) == 1:
            (i0,) = idx

            def key(scope: Any) -> Any:
                v = scope.memo[i0]
                if v is _UNSET:
                    v = scope.memo[i0] = _frozen(getters[i0], scope)
                return v

        elif len(idx) == 2:
            i0, i1 = idx

            def key(scope: Any) -> Any:
                m = scope.memo
                a = m[i0]
                if a is _UNSET:
                    a = m[i0] = _frozen(getters[i0], scope)
                b = m[i1]
                if b is _UNSET:
                    b = m[i1] = _frozen(getters[i1], scope)
                return (a, b)

        elif len(idx) == 3:
            i0, i1, i2 = idx

            def key(scope: Any) -> Any:
                m = scope.memo
                a = m[i0]
                if a is _UNSET:
                    a = m[i0] = _frozen(getters[i0], scope)
                b = m[i1]
                if b is _UNSET:
                    b = m[i1] = _frozen(getters[i1], scope)
                c = m[i2]
                if c is _UNSET:
                    c = m[i2] = _frozen(getters[i2], scope)
                return (a, b, c)

        elif len(idx) == 4:
            i0, i1, i2, i3 = idx

            def key(scope: Any) -> Any:
                m = scope.memo
                a = m[i0]
                if a is _UNSET:
                    a = m[i0] = _frozen(getters[i0], scope)
                b = m[i1]
                if b is _UNSET:
                    b = m[i1] = _frozen(getters[i1], scope)
                c = m[i2]
                if c is _UNSET:
                    c = m[i2] = _frozen(getters[i2], scope)
                d = m[i3]
                if d is _UNSET:
                    d = m[i3] = _frozen(getters[i3], scope)
                return (a, b, c, d)

        else:

            def key(scope: Any) -> Any:
                return tuple([value(scope, i) for i in idx])

        def looked_up(scope: Any) -> bool:
            k = key(scope)
            if k is _BIG or (type(k) is tuple and _BIG in k):
                return plain(scope)
            memo.lookups += 1
            r = verdicts.get(k, _UNSET)
            if r is _UNSET:
                r = memo.miss(k, scope)
            if r is True:
                return True
            if r is False:
                return False
            raise EvaluationFailure(r)

        def verdict(scope: Any) -> bool:
            mode = memo.mode
            if mode is PLAIN:
                return plain(scope)
            if mode is MEMO:
                return looked_up(scope)
            return memo.trial(scope, looked_up)

        verdict.looked_up = looked_up  # type: ignore[attr-defined] # the same verdicts, for a settled MEMO
        return verdict
