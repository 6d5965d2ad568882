"""A resource type's policies as one generated function over a resource (the impact hot path).

`evaluate.inventory.iter_pairs` meets each resource with the policies its type can match. Looping over
them in Python costs a tuple unpacking, a handful of branches and a predicate call per pair; here the
loop is unrolled once per type into straight-line code: each policy's fused `if` is inlined (the same
getters and tests, in the same order, as `evaluate.fused`), its effect kind, location requirement and
row constants are decided while generating, and a field tested by several policies of the type is read
once per resource (a local filled by the first leaf that reads it; reads are pure). Policies whose
verdicts are remembered (`evaluate.verdicts`), counts and value conditions are called as they are.

The function appends what the plain loop (`inventory._iter_pairs_plain`, which `--why` still uses)
would yield: rows to `out`, quiet outcomes to `rq`; the hypothesis tests compare the two.
Generated code holds only generated names; every policy name, getter, test and constant is a closure
variable of the generated factory, never text from a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from policygen.arm.effects import EXISTENCE
from policygen.evaluate.errors import EvaluationFailure
from policygen.evaluate.fused import FUSE, GLOBALS, ORIG, Emitter, compiled, share_keys
from policygen.evaluate.verdicts import MEMO, PLAIN, Slots

SIMPLE, DENY, DISABLED, IF_EXISTS, OTHER = range(5)
BY_TYPE_KIND = "type+kind"  # a truthy check_applicable: the answer is cached per (type, kind)
_SIMPLE = frozenset(
    {"audit", "deny", "disabled", "auditaction", "mutate", "enforcesetting", "enforceregopolicy", "addtonetworkgroup"}
)
CACHE_LIMIT = 256  # plans kept across calls (one per type and policy list)


def plan_entry(name: str, pol: Any, slots: Slots) -> tuple:
    """(name, policy, kind, needs location, predicate, applicability check, effect, unmatched outcome)."""
    effect = pol.effect
    if effect == "deny":
        kind = DENY
    elif effect == "disabled":
        kind = DISABLED
    elif effect in EXISTENCE:
        kind = IF_EXISTS
    elif effect in _SIMPLE:
        kind = SIMPLE
    else:
        kind = OTHER  # modify, append, manual, denyAction: the outcome needs the policy's details
    check_applicable: Any = pol._applicability is not None
    if check_applicable and getattr(pol._applicability, "type_and_kind_only", False):
        check_applicable = BY_TYPE_KIND
    if pol.identity_ops and not check_applicable:
        check_applicable = BY_TYPE_KIND  # an identity.type operation: depends on the type only
    unmatched = (name, None if kind == DISABLED else True, False, None)  # outcome of an unmatched pair
    return (name, pol, kind, pol.needs_location, slots.pred(pol.memo, pol.indexed_if), check_applicable, effect,
            unmatched)


class TypePlan:
    """The policies one resource type meets: their entries, the values their verdicts read, and `run`."""

    __slots__ = ("entries", "slots", "run", "keep_quiet", "modes")

    def __init__(self, entries: list[tuple], slots: Slots, keep_quiet: bool):
        self.entries = entries
        self.slots = slots
        self.keep_quiet = keep_quiet
        self.modes: Any = None
        self.run: Callable[..., None] = _nothing  # (scope, resource, label, type, has location, kind, out, rq,
        self.refresh()  # applicable, env)

    def refresh(self) -> None:
        """(Re)generate `run` when policies have settled how their verdicts are reached: plain evaluation
        (inlined from then on) or looked up (called without the trial's dispatch)."""
        modes = tuple(e[1].memo.mode for e in self.entries if e[1].memo is not None)
        if modes != self.modes:
            self.modes = modes
            self.run = _generate(self.entries, self.keep_quiet)


def _nothing(*args: Any) -> None:
    return None


_CACHE: dict[tuple, TypePlan | None] = {}


def plan_for(key: str, policies: Sequence[tuple[str, Any]], keep_quiet: bool) -> TypePlan | None:
    """The plan of lower-case type `key` (None: no policy applies), generated once per policy list."""
    chosen = tuple((name, pol) for name, pol in policies if pol.applies_to_type(key))
    ck = (keep_quiet, chosen)
    if ck in _CACHE:
        plan = _CACHE[ck]
        if plan is not None:
            plan.refresh()
        return plan
    plan = None
    if chosen:
        slots = Slots()
        plan = TypePlan([plan_entry(name, pol, slots) for name, pol in chosen], slots, keep_quiet)
    if len(_CACHE) >= CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[ck] = plan
    return plan


_UNSET: Any = object()


def _always(pred: Callable) -> bool:
    return getattr(pred, FUSE, None) == ("true",)


def _generate(entries: list[tuple], keep_quiet: bool) -> Callable[..., None]:
    trees: list[Any] = []
    counts: dict[Any, int] = {}
    for _name, pol, _kind, _loc, _pred, _check, _effect, _unmatched in entries:
        tree = getattr(pol.indexed_if, ORIG, None) if pol.memo is None or pol.memo.mode is PLAIN else None
        trees.append(tree)
        if tree is not None:
            share_keys(tree, counts)
    shared = {k: f"v{i}" for i, k in enumerate(k for k, n in counts.items() if n > 1)}
    em = Emitter(shared)
    body: list[str] = []
    if any(e[5] is BY_TYPE_KIND and e[2] != IF_EXISTS for e in entries):
        # applicability of unmatched pairs answered per (type, kind): `app` is the type's, `ka` the kind's
        body += ["if type(rk) is str or rk is None:", "    ka = app.get(rk)", "    if ka is None:",
                 "        ka = app[rk] = {}", "else:", "    ka = {}"]
    for i, ((name, pol, kind, needs_location, pred, check, effect, unmatched), tree) in enumerate(
        zip(entries, trees, strict=True)
    ):
        n, e = em.name(name, "n"), em.name(effect, "e")
        lines = _entry(em, i, n, e, pol, kind, pred, tree, check, unmatched, keep_quiet)
        if needs_location:
            lines = ["if hl:", *("    " + x for x in lines)]
        body.extend(lines)
    if em.locals:
        body.insert(0, " = ".join(em.locals) + " = U")
    names = em.names
    names["EF"] = EvaluationFailure
    names["U"] = _UNSET
    code = (
        f"def make({', '.join(names)}):\n"
        "    def run(s, r, label, rt, hl, rk, out, rq, app, env):\n"
        + "".join(f"        {x}\n" for x in body or ["pass"])
        + "    return run\n"
    )
    scope: dict[str, Any] = dict(GLOBALS)
    exec(compiled(code), scope)  # noqa: S102 - generated names only (see module docstring)
    return scope["make"](**names)


def _entry(em: Emitter, i: int, n: str, e: str, pol: Any, kind: int, pred: Callable, tree: Any, check: Any,
           unmatched: tuple, keep_quiet: bool) -> list[str]:
    """The lines of one policy: its `if`, then what the plain loop does with the verdict."""
    if keep_quiet:
        c = em.name(unmatched[1], "c")
        quiet_unmatched = f"out.append(({n}, label, rt, {e}, False, {c}, False, None, None, None))"
        quiet_disabled = f"out.append(({n}, label, rt, {e}, True, None, False, None, None, None))"
    else:
        quiet_unmatched = quiet_disabled = f"rq.append({em.name(unmatched, 'q')})"
    if kind == SIMPLE:
        matched = [f"out.append(({n}, label, rt, {e}, True, False, False, None, None, None))"]
    elif kind == DENY:
        matched = [f"out.append(({n}, label, rt, {e}, True, False, True, None, None, None))"]
    elif kind == DISABLED:
        matched = [quiet_disabled]
    else:
        helper = em.name(_outcome(pol, kind, em.names[n], keep_quiet), "o")
        matched = [f"{helper}(s, r, label, rt, out, rq, env)"]
    if kind == IF_EXISTS:
        unmatched_lines = ["pass"]  # Azure records no state for this pair (policy-applicability page)
    elif check is BY_TYPE_KIND:
        a = em.name(pol.is_applicable, "a")
        unmatched_lines = [f"ok = ka.get({i})", "if ok is None:", f"    ok = ka[{i}] = {a}(s)", "if ok:",
                           f"    {quiet_unmatched}"]
    elif check:
        unmatched_lines = [f"if {em.name(pol.is_applicable, 'a')}(s):", f"    {quiet_unmatched}"]
    else:
        unmatched_lines = [quiet_unmatched]
    if tree is not None and _always(tree):
        return matched  # the type index already guarantees the whole `if`
    expr = em.expr(tree) if tree is not None else None
    if expr is None:
        if pol.memo is not None and pol.memo.mode is MEMO:
            pred = getattr(pred, "looked_up", pred)  # gives the plain verdict too once it switches itself off
        expr = f"{em.name(pred, 'p')}(s)"
    return [
        "try:",
        f"    m = {expr}",
        "except EF as exc:",
        "    s.members.clear()",
        f"    out.append(({n}, label, rt, {e}, False, False, True, str(exc), None, None))",
        "else:",
        "    if m:",
        *("        " + x for x in matched),
        "    else:",
        *("        " + x for x in unmatched_lines),
    ]


def _outcome(pol: Any, kind: int, name: str, keep_quiet: bool) -> Callable[..., None]:
    """A matched pair whose outcome needs the policy's details (existence, modify, append, manual)."""
    effect = pol.effect

    def outcome(s: Any, r: dict, label: str, rt: str, out: list, rq: list, env: tuple) -> None:
        related: Sequence[dict] = ()
        if kind == IF_EXISTS and env[0] is not None:
            related = env[0].candidates(pol, r, env[1])
        o = pol.outcome_for(True, s, related)
        if not o.applicable:
            return  # e.g. modify of identity.type on a type other than VMs / scale sets
        if not keep_quiet and o.compliant is not False and not o.denied and o.error is None:
            rq.append((name, o.compliant, o.denied, None))
            return
        out.append((name, label, rt, effect, True, o.compliant, o.denied, o.error, o.modified, None))

    return outcome
