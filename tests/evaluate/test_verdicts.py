"""Remembered verdicts (evaluate.verdicts): the impact fast path gives exactly what the plain evaluator
gives, whatever the rule reads (fields, `[*]` collections, counts with `where`, `current()`, `field()`,
the request context, a fixed `utcNow()`), on resources whose values differ only in ways Azure's
comparison rules care about (`true` / `1` / `1.0` / `"1"` / `"True"`, `-0.0` / `0.0`, null / missing).

Semantics under test: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
(conditions, `count`, policy functions) and
https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays (`[*]`, `current()`).
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.arm.aliases import default_catalogue
from policygen.evaluate import compile_policy, evaluate_inventory
from policygen.evaluate.conditions import compile_condition
from policygen.evaluate.errors import EvaluationFailure
from policygen.evaluate.expr import CompileCtx
from policygen.evaluate.fused import fuse
from policygen.evaluate.runtime import EvalContext, Scope
from policygen.evaluate.verdicts import TooBig, freeze
from tests.evaluate.helpers import definition

T = "Microsoft.Test/resourceType"
AT = "2020-01-01T00:00:00Z"
# values that are equal in Python but not to Azure's operators (and some that are)
scalars = st.sampled_from([True, False, 1, 0, 1.0, 0.0, -0.0, 2.5, "1", "0", "true", "True", "", "a", "A", None,
                           "2019-12-31T00:00:00Z", "2020-01-02T00:00:00Z"])
members = st.one_of(
    st.fixed_dictionaries({}, optional={"v": scalars, "w": scalars, "n": st.lists(scalars, max_size=2)}),
    scalars,
)
props = st.fixed_dictionaries(
    {},
    optional={
        "p": st.one_of(scalars, st.lists(scalars, max_size=2), st.fixed_dictionaries({}, optional={"q": scalars})),
        "P": scalars,  # the same property in another case: case-insensitive lookups
        "items": st.lists(members, max_size=3),
        "other": st.lists(members, max_size=2),
    },
)
resources = st.builds(
    lambda i, loc, api, p, kind: {
        "id": f"/subscriptions/s/resourceGroups/rg{i % 2}/providers/Microsoft.Test/resourceType/r{i}",
        "type": T, "name": f"r{i % 3}", "location": loc, "kind": kind, "properties": p,
        **({"apiVersion": api} if api else {}),
    },
    st.integers(0, 5), st.sampled_from(["westeurope", "West Europe", "eastus"]),
    st.sampled_from([None, "2019-01-01", "2021-01-01"]), props, st.sampled_from([None, "a", "A"]),
)

FIELDS = [f"{T}/p", f"{T}/p.q", f"{T}/P", f"{T}/items[*].v", f"{T}/items[*]", f"{T}/items", "name", "kind",
          "location", "id"]
OPS = [("equals", scalars), ("notEquals", scalars), ("in", st.lists(scalars, max_size=3)),
       ("exists", st.booleans()), ("greater", scalars), ("lessOrEquals", scalars),
       ("like", st.sampled_from(["a*", "*1", "r?"])), ("contains", st.sampled_from(["a", "1", "T"]))]
VALUES = ["[field('{f}')]", "[length(field('{f}'))]", "[string(field('{f}'))]",
          "[requestContext().apiVersion]", "[resourceGroup().name]", "[utcNow()]",
          "[if(empty(field('{f}')), 'x', 'y')]", "[toLower(string(field('{f}')))]"]


@st.composite
def leaves(draw, inside: str | None = None) -> dict:
    op, rhs = draw(st.sampled_from(OPS))
    kind = draw(st.sampled_from(["field", "value", "count", "count"] if inside is None else
                                ["field", "value", "current", "field"]))
    if kind == "field":
        fields = FIELDS + ([f"{inside}.v", f"{inside}.n[*]", f"{T}/other[*].w"] if inside else [])
        return {"field": draw(st.sampled_from(fields)), op: draw(rhs)}
    if kind == "current":
        return {"value": f"[current('{inside}')]" if draw(st.booleans()) else f"[current('{inside}.v')]",
                op: draw(rhs)}
    if kind == "value":
        f = draw(st.sampled_from(FIELDS if inside is None else [*FIELDS, f"{inside}.w"]))
        return {"value": draw(st.sampled_from(VALUES)).format(f=f), op: draw(rhs)}
    array = draw(st.sampled_from([f"{T}/items[*]", f"{T}/other[*]", f"{T}/items[*].n[*]"]))
    count: dict = {"field": array}
    if draw(st.integers(0, 3)):
        count["where"] = draw(conditions(inside=array, depth=1))
    return {"count": count, draw(st.sampled_from(["equals", "greater", "less"])): draw(st.integers(0, 2))}


@st.composite
def conditions(draw, inside: str | None = None, depth: int = 0) -> dict:
    if depth >= 2 or draw(st.booleans()):
        return draw(leaves(inside))
    key = draw(st.sampled_from(["allOf", "anyOf", "not"]))
    if key == "not":
        return {"not": draw(conditions(inside, depth + 1))}
    return {key: draw(st.lists(conditions(inside, depth + 1), min_size=1, max_size=3))}


def rows(policies, inventory, context) -> list[tuple]:
    return [(r.policy, r.matched, r.compliant, r.denied, r.error)
            for r in evaluate_inventory(policies, inventory, context=context)]


@settings(max_examples=200)
@given(st.lists(conditions(), min_size=1, max_size=3), st.lists(resources, min_size=2, max_size=12),
       st.sampled_from(["audit", "deny"]))
def test_remembered_verdicts_agree_with_the_plain_evaluator(conds, inventory, effect) -> None:
    context = EvalContext(utc_now=datetime(2020, 1, 1, tzinfo=UTC))
    policies = []
    for i, c in enumerate(conds):
        d = definition({"allOf": [{"field": "type", "equals": T}, c]})
        d["properties"]["policyRule"]["then"]["effect"] = effect
        policies.append((f"p{i}", compile_policy(d)))
    inventory = inventory * 2  # every resource met twice: the second time its verdicts are looked up
    fast = rows(policies, inventory, context)
    for _, pol in policies:
        pol.memo = None  # the plain evaluator
    assert fast == rows(policies, inventory, context)


@settings(max_examples=100)
@given(st.sampled_from(OPS).flatmap(lambda o: st.tuples(st.just(o[0]), o[1])), st.integers(0, 2),
       st.sampled_from([f"{T}/items[*].v", f"{T}/items[*].n[*]", f"{T}/items[*]"]),
       st.lists(st.lists(members, max_size=3), min_size=2, max_size=10))
def test_a_count_is_remembered_by_what_its_where_reads_of_each_member(op_rhs, n, where_field, arrays) -> None:
    """Resources that differ only inside the counted members (the count's `where` reads them)."""
    op, rhs = op_rhs
    count = {"count": {"field": f"{T}/items[*]", "where": {"field": where_field, op: rhs}}, "equals": n}
    pol = compile_policy(definition({"allOf": [{"field": "type", "equals": T}, count]}))
    inventory = [{"type": T, "name": f"r{i}", "properties": {"items": a}} for i, a in enumerate(arrays)] * 2
    fast = rows([("p", pol)], inventory, None)
    pol.memo = None
    assert fast == rows([("p", pol)], inventory, None)


def test_policies_of_one_type_never_share_what_their_counts_read() -> None:
    """Forty rules counting different groupIds of the same private endpoints (as the built-in private DNS
    zone policies do), compiled one after another, evaluated in one type plan."""
    pe = "Microsoft.Network/privateEndpoints"
    ids = f"{pe}/privateLinkServiceConnections[*].groupIds[*]"
    policies = []
    for i in range(40):
        count = {"count": {"field": ids, "where": {"field": ids, "equals": f"g{i}"}}, "greaterOrEquals": 1}
        policies.append((f"p{i}", compile_policy(definition({"allOf": [{"field": "type", "equals": pe}, count]}))))
        gc.collect()  # what one compilation leaves behind is gone before the next
    inventory = [{"type": pe, "name": f"e{i}", "properties": {"privateLinkServiceConnections": [
        {"name": "c", "properties": {"groupIds": [f"g{i}"]}}]}} for i in range(40)] * 2
    fast = rows(policies, inventory, None)
    assert sum(matched for _, matched, *_ in fast) == 80  # each endpoint matches its own rule only
    for _, pol in policies:
        pol.memo = None
    assert fast == rows(policies, inventory, None)


@settings(max_examples=150)
@given(conditions(), st.lists(resources, min_size=1, max_size=6))
def test_a_fused_rule_gives_what_its_closures_give(cond, inventory) -> None:
    """evaluate.fused: one generated function per rule, same verdict and same failure as the closures."""
    pred = compile_condition(cond, CompileCtx({}, {}, default_catalogue()))
    fast = fuse(pred)
    context = EvalContext(utc_now=datetime(2020, 1, 1, tzinfo=UTC))

    def outcome(p, r):
        try:
            return bool(p(Scope(r, context)))
        except EvaluationFailure as exc:
            return str(exc)

    assert [outcome(fast, r) for r in inventory] == [outcome(pred, r) for r in inventory]


def test_a_remembered_verdict_tells_true_from_one_and_minus_zero_from_zero() -> None:
    """`equals` compares by string form: true != 1, 1.0 != 1, -0.0 != 0.0 (semantics page, reference 2.4)."""
    misses = [{"field": f"{T}/p", "equals": x} for x in ("x", "y", "z")]  # enough work to be remembered
    pol = compile_policy(definition({"allOf": [{"field": "type", "equals": T},
                                               {"anyOf": [{"field": f"{T}/p", "equals": "1"}, *misses]}]}))
    values = [1, True, 1.0, "1", -0.0, 0.0, 0, None, "True", "true"]
    inventory = [{"type": T, "name": f"r{i}", "properties": {"p": v}} for i, v in enumerate(values)] * 2
    fast = rows([("p", pol)], inventory, None)
    assert pol.memo is not None  # the rule is one whose verdicts are remembered
    pol.memo = None
    assert fast == rows([("p", pol)], inventory, None)
    assert [m for _, m, *_ in fast[:len(values)]] == [True, False, False, True, False, False, False, False, False,
                                                       False]


def test_freeze_keeps_apart_what_python_equates_and_refuses_what_it_cannot_hold() -> None:
    keys = [freeze(v, [64]) for v in (True, 1, 1.0, -0.0, 0.0, "1", [1], {"a": 1}, ["a", 1])]
    assert len(set(keys)) == len(keys)
    try:
        freeze(list(range(100)), [64])
    except TooBig:
        pass
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("a value over the budget must not become a key")
