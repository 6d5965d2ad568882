"""Property tests: `not` duality, De Morgan, negated operators, and `[*]` field conditions versus count."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.evaluate import compile_policy
from tests.evaluate.helpers import definition

A = "Microsoft.Test/resourceType/items"
scalars = st.one_of(st.sampled_from(["a", "A", "b", "ab", "", "10", "x*"]), st.integers(-2, 12), st.booleans())
members = st.lists(st.fixed_dictionaries({"v": scalars}), max_size=5)
OPS = ["equals", "notEquals", "like", "notLike", "contains", "notContains", "in", "notIn", "exists"]
ORDER_OPS = ["less", "lessOrEquals", "greater", "greaterOrEquals"]
NEG = {
    "equals": "notEquals",
    "like": "notLike",
    "contains": "notContains",
    "in": "notIn",
    "match": "notMatch",
    "matchInsensitively": "notMatchInsensitively",
    "containsKey": "notContainsKey",
}

_cache: dict[str, object] = {}


def ev(cond: dict, resource: dict):
    key = repr(cond)
    pol = _cache.get(key)
    if pol is None:
        pol = _cache[key] = compile_policy(definition(cond))
    return pol.evaluate(resource, explain=False)  # type: ignore[attr-defined]


def resource(items: list[dict], scalar=None) -> dict:
    props: dict = {"items": items}
    if scalar is not None:
        props["s"] = scalar
    return {"type": "Microsoft.Test/resourceType", "name": "r", "properties": props}


@st.composite
def condition(draw, field: str):
    op = draw(st.sampled_from(OPS))
    if op == "exists":
        rhs = draw(st.sampled_from([True, False, "true", "False"]))
    elif op in ("in", "notIn"):
        rhs = draw(st.lists(scalars, min_size=1, max_size=3))
    else:
        rhs = draw(st.sampled_from(["a", "b", "a*", "*b", "10", "x"]))
    return {"field": field, op: rhs}


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(items=members, data=st.data())
def test_not_is_the_complement(items, data) -> None:
    cond = data.draw(condition(f"{A}[*].v"))
    res = resource(items)
    assert ev({"not": cond}, res).matched is (not ev(cond, res).matched)


@SETTINGS
@given(scalar=scalars, data=st.data())
def test_de_morgan(scalar, data) -> None:
    a = data.draw(condition("Microsoft.Test/resourceType/s"))
    b = data.draw(condition("Microsoft.Test/resourceType/s"))
    res = resource([], scalar)
    left = ev({"not": {"allOf": [a, b]}}, res).matched
    right = ev({"anyOf": [{"not": a}, {"not": b}]}, res).matched
    assert left is right


@SETTINGS
@given(scalar=st.one_of(st.none(), scalars), op=st.sampled_from(sorted(NEG)), rhs=st.sampled_from(["a", "1", "a*"]))
def test_negated_operator_is_not_of_the_operator_on_a_single_value(scalar, op, rhs) -> None:
    field = "Microsoft.Test/resourceType/s"
    if op in ("in",):
        rhs = [rhs]
    res = resource([], scalar)
    pos = ev({"field": field, op: rhs}, res)
    neg = ev({"field": field, NEG[op]: rhs}, res)
    assert pos.error is None and neg.error is None
    assert neg.matched is (not pos.matched)


@SETTINGS
@given(items=members, data=st.data())
def test_star_condition_equals_count_of_failures_is_zero(items, data) -> None:
    """`field x[*].v op r` ⟺ count(x[*] where not(field x[*].v op r)) == 0 ⟺ count(where cond) == length."""
    cond = data.draw(condition(f"{A}[*].v"))
    res = resource(items)
    direct = ev(cond, res).matched
    none_fail = ev({"count": {"field": f"{A}[*]", "where": {"not": cond}}, "equals": 0}, res).matched
    all_pass = ev({"count": {"field": f"{A}[*]", "where": cond}, "equals": f"[length(field('{A}[*]'))]"}, res)
    assert direct is none_fail is all_pass.matched


@SETTINGS
@given(items=members, n=st.integers(0, 6))
def test_count_without_where_is_the_array_length(items, n) -> None:
    res = resource(items)
    assert ev({"count": {"field": f"{A}[*]"}, "equals": n}, res).matched is (len(items) == n)
    assert ev({"value": f"[length(field('{A}[*].v'))]", "equals": len(items)}, res).matched


@SETTINGS
@given(
    items=st.lists(st.fixed_dictionaries({"v": st.integers(-5, 5)}), max_size=5),
    op=st.sampled_from(ORDER_OPS),
    r=st.integers(-5, 5),
)
def test_ordering_over_members_matches_python(items, op, r) -> None:
    py = {
        "less": lambda x: x < r,
        "lessOrEquals": lambda x: x <= r,
        "greater": lambda x: x > r,
        "greaterOrEquals": lambda x: x >= r,
    }[op]
    res = resource(items)
    assert ev({"field": f"{A}[*].v", op: r}, res).matched is all(py(m["v"]) for m in items)
    counted = ev({"count": {"field": f"{A}[*]", "where": {"field": f"{A}[*].v", op: r}}, "greater": 0}, res)
    assert counted.matched is any(py(m["v"]) for m in items)


@SETTINGS
@given(scalar=st.one_of(st.none(), scalars))
def test_exists_true_is_not_exists_false(scalar) -> None:
    res = resource([], scalar)
    field = "Microsoft.Test/resourceType/s"
    assert ev({"field": field, "exists": "true"}, res).matched is (
        not ev({"field": field, "exists": False}, res).matched
    )
