"""Property-based tests of the parsers #13 added to the emulator: OData `$apply` and `$filter` on query results,
and ARM's envelope check (https://learn.microsoft.com/rest/api/policyinsights/policy-states/list-query-results-for-subscription
documents `$apply` as `groupby((...), aggregate($count as Name))`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policygen.emulator import envelope, insights
from policygen.emulator.core import ArmError

STATES = st.sampled_from(["Compliant", "NonCompliant", "Exempt"])
EFFECTS = st.sampled_from(["audit", "deny", "modify"])
DOCS = st.lists(st.fixed_dictionaries({"complianceState": STATES, "policyDefinitionAction": EFFECTS}), max_size=30)


@given(DOCS)
def test_groupby_counts_partition_the_documents(docs):
    rows = insights.apply(docs, "groupby((ComplianceState, PolicyDefinitionAction), aggregate($count as N))")
    assert sum(r["N"] for r in rows) == len(docs)
    keys = [(r["complianceState"], r["policyDefinitionAction"]) for r in rows]
    assert len(keys) == len(set(keys)) == len({(d["complianceState"], d["policyDefinitionAction"]) for d in docs})


@given(DOCS)
def test_aggregate_alone_counts_everything(docs):
    (row,) = insights.apply(docs, "aggregate($count as Total)")
    assert row["Total"] == len(docs)


@given(DOCS, STATES, EFFECTS)
def test_an_or_group_is_the_union_of_its_clauses(docs, state, effect):
    either = insights._filter(docs, f"(complianceState eq '{state}' or policyDefinitionAction eq '{effect}')")
    assert either == [d for d in docs if d["complianceState"] == state or d["policyDefinitionAction"] == effect]
    both = insights._filter(docs, f"complianceState eq '{state}' and policyDefinitionAction ne '{effect}'")
    assert both == [d for d in docs if d["complianceState"] == state and d["policyDefinitionAction"] != effect]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


@given(st.sampled_from(["properties", "tags", "identity", "sku"]), JSON)
def test_envelope_objects_must_be_objects(field, value):
    body = {field: value}
    wrong = value is not None and not isinstance(value, dict)
    wrong = wrong or (
        field == "tags" and isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values())
    )
    wrong = wrong or (
        field == "identity"
        and isinstance(value, dict)
        and value.get("userAssignedIdentities") is not None
        and not isinstance(value["userAssignedIdentities"], dict)
    )
    try:
        envelope.check(body)
    except ArmError as err:
        assert wrong and (err.status, err.code) == (400, "InvalidRequestContent")
    else:
        assert not wrong
