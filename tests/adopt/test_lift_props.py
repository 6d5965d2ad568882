"""Property: any definition whose `then` is an effect and details imports as a `custom` intent that renders the
same rule and parameters, exactly (#15).

`then` as Microsoft Learn defines it: `effect` (a fixed effect name in any case, or an expression) and
`details` (an object, or for append an array of field/value pairs):
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#then
Parameter types are read case-insensitively:
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
(An empty parameter `metadata: {}` is written as none: ARM and `plan` treat them alike.)
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policygen.adopt.lift import custom, render_one

keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEF._*[]", min_size=1, max_size=8)
values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=8)
effects = st.sampled_from(["Audit", "deny", "DenyAction", "append", "Modify", "deployIfNotExists", "disabled",
                           "[parameters('effect')]", "[parameters('policyEffect')]"])
details = st.dictionaries(keys, values, max_size=3) | st.lists(
    st.fixed_dictionaries({"field": keys, "value": values}), min_size=1, max_size=3)
types = st.sampled_from(["String", "string", "Array", "array", "Object", "Integer", "integer", "Boolean", "Float",
                         "DateTime", "dateTime"])
param = st.fixed_dictionaries({"type": types}, optional={
    "defaultValue": values, "allowedValues": st.lists(st.text(max_size=5), min_size=1, max_size=3),
    "metadata": st.fixed_dictionaries({"displayName": st.text(max_size=6)}, optional={
        "description": st.text(max_size=6), "strongType": st.sampled_from(["location", "existingResourceGroups"]),
        "assignPermissions": st.booleans()})})
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC", min_size=1, max_size=8)


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    then: dict[str, Any] = {"effect": draw(effects)}
    if draw(st.booleans()):
        then["details"] = draw(details)
    params = draw(st.dictionaries(names | st.just("effect"), param, max_size=3))
    return {"name": "d", "properties": {
        "displayName": "D", "mode": draw(st.sampled_from(["All", "Indexed"])), "parameters": params,
        "policyRule": {"if": {"field": draw(keys), "equals": draw(values)}, "then": then}}}


@given(definitions())
def test_a_custom_import_renders_the_rule_and_parameters_exactly(src: dict[str, Any]) -> None:
    data = custom(src, {"displayName": "D"})
    assert data is not None
    art = render_one(data, "d", "definitions/d.yaml", "owner", "General")
    assert art is not None
    props, want = art.properties, src["properties"]
    assert props["policyRule"] == want["policyRule"]
    assert props["parameters"] == want["parameters"]
    assert props["mode"] == want["mode"]
