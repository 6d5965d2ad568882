"""Property tests for the issue #12 semantics: missing values, `field()` over `[*]`, deep `not`, and one
applicability answer for evaluate and impact.

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#conditions,
https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays,
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics#resource-manager-modes
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.evaluate import compile_policy, evaluate_inventory
from tests.evaluate.helpers import definition

SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T = "Microsoft.Test/resourceType"
texts = st.text(alphabet="ab*#?. ", max_size=4)
scalars = st.one_of(texts, st.integers(-3, 3), st.booleans())
PATTERN_OPS = [("like", "notLike"), ("match", "notMatch"), ("matchInsensitively", "notMatchInsensitively"),
               ("contains", "notContains")]


@SLOW
@given(st.sampled_from(PATTERN_OPS), texts)
def test_pattern_operators_never_hold_for_a_missing_value(ops, rhs) -> None:
    pos, neg = ops
    res = {"type": T, "name": "r", "properties": {}}
    assert compile_policy(definition({"field": f"{T}/absent", pos: rhs})).evaluate(res).matched is False
    assert compile_policy(definition({"field": f"{T}/absent", neg: rhs})).evaluate(res).matched is True


@SLOW
@given(st.sampled_from(PATTERN_OPS), texts, st.one_of(texts, st.integers(-3, 3)))
def test_negated_operator_is_not_of_the_operator_on_present_values(ops, rhs, value) -> None:
    pos, neg = ops
    res = {"type": T, "name": "r", "properties": {"p": value}}
    a = compile_policy(definition({"field": f"{T}/p", pos: rhs})).evaluate(res)
    b = compile_policy(definition({"field": f"{T}/p", neg: rhs})).evaluate(res)
    assert a.error is None and b.error is None
    assert a.matched is not b.matched


@SLOW
@given(st.lists(st.one_of(st.just({}), st.fixed_dictionaries({"v": scalars})), max_size=6))
def test_field_function_over_star_leaves_out_members_lacking_the_property(items) -> None:
    res = {"type": T, "name": "r", "properties": {"items": items}}
    have = sum(1 for m in items if "v" in m)
    cond = {"value": f"[length(field('{T}/items[*].v'))]", "equals": have}
    assert compile_policy(definition(cond)).evaluate(res).matched
    counted = {"count": {"field": f"{T}/items[*]", "where": {"field": f"{T}/items[*].v", "exists": True}},
               "equals": f"[length(field('{T}/items[*].v'))]"}
    assert compile_policy(definition(counted)).evaluate(res).matched


@SLOW
@given(st.integers(0, 127), st.sampled_from(["a", "b"]))
def test_not_not_is_identity_at_any_allowed_depth(n, name) -> None:
    cond: dict = {"field": "name", "equals": "a"}
    for _ in range(n):
        cond = {"not": cond}
    out = compile_policy(definition(cond)).evaluate({"type": T, "name": name})
    assert out.matched is ((name == "a") == (n % 2 == 0))


TYPES = ["Microsoft.Resources/resourceGroups", "microsoft.resources/subscriptions/resourcegroups",
         "Microsoft.Resources/subscriptions", "Microsoft.Network/routeTables", "Microsoft.Network/routeTables/routes"]
resources = st.builds(
    lambda t, loc, i: {"id": f"/subscriptions/s/resourceGroups/rg/providers/x/{i}", "type": t, "name": f"r{i}",
                       **({"location": loc} if loc is not None else {})},
    st.sampled_from(TYPES), st.sampled_from([None, "", "westeurope"]), st.integers(0, 10_000),
)


@SLOW
@given(st.sampled_from(["All", "Indexed"]), st.lists(resources, max_size=6, unique_by=lambda r: r["id"]))
def test_impact_lists_exactly_the_pairs_evaluate_finds_applicable(mode, inventory) -> None:
    d = definition({"field": "tags['owner']", "exists": False})
    d["properties"]["mode"] = mode
    pol = compile_policy(d)
    listed = {r.resource_id for r in evaluate_inventory([("p", pol)], inventory)}
    assert listed == {r["id"] for r in inventory if pol.evaluate(r).applicable}
