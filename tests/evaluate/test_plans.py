"""Per-type plans (evaluate.plans): a type's policies generated into one function give exactly the rows and
quiet outcomes of the plain loop over them (`inventory._iter_pairs_plain`), and the verdicts of the traced
closures (`CompiledPolicy.evaluate`), whatever the rules read, their effects, modes and applicability.

Semantics under test: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
(conditions, `count`), https://learn.microsoft.com/azure/governance/policy/concepts/policy-applicability
(which pairs get a compliance state) and https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.evaluate import compile_policy
from policygen.evaluate.inventory import _iter_pairs_plain, iter_pairs
from policygen.evaluate.runtime import EvalContext
from policygen.evaluate.verdicts import MEMO
from tests.evaluate.helpers import definition
from tests.evaluate.test_verdicts import T, conditions, resources, scalars

T2 = "Microsoft.Test/otherType"
RELATED = "Microsoft.Test/related"
CONTEXT = EvalContext(utc_now=datetime(2020, 1, 1, tzinfo=UTC))
MODIFY = {"roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/x"],
          "operations": [{"operation": "addOrReplace", "field": "tags['owner']", "value": "x"}]}
EXISTS = {"type": RELATED, "existenceCondition": {"field": "name", "like": "rel*"}}
# what decides applicability of a pair whose `if` is false: type, name and kind leaves (policy-applicability)
SPECIAL = st.sampled_from([
    {"field": "kind", "equals": "a"}, {"field": "kind", "notIn": ["A", "b"]}, {"field": "name", "like": "r1*"},
    {"field": "location", "in": ["westeurope", "East US"]}, {"field": "location", "notEquals": "eastus"},
])


@st.composite
def policies(draw) -> list[tuple[str, object]]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        cond = draw(st.one_of(conditions(), SPECIAL, st.lists(st.one_of(conditions(), SPECIAL), min_size=1,
                                                              max_size=3).map(lambda c: {"anyOf": c})))
        typed = draw(st.sampled_from(["one", "both", "any"]))
        if typed == "one":
            cond = {"allOf": [{"field": "type", "equals": T}, cond]}
        elif typed == "both":
            cond = {"allOf": [{"field": "type", "in": [T, T2]}, cond]}
        effect = draw(st.sampled_from(["audit", "deny", "disabled", "auditIfNotExists", "modify", "manual"]))
        details = {"modify": MODIFY, "auditIfNotExists": EXISTS}.get(effect)
        d = definition(cond, effect, details=details)
        d["properties"]["mode"] = draw(st.sampled_from(["All", "Indexed"]))
        pol = compile_policy(d)
        settle = draw(st.sampled_from(["trial", "plain", "memo"]))
        if pol.memo is not None and settle == "plain":
            pol.memo.off()  # settled on plain evaluation: inlined into the plan
        elif pol.memo is not None and settle == "memo":
            pol.memo.mode = MEMO  # settled on looking verdicts up (what a clear gain in its trial decides)
        out.append((f"p{i}", pol))
    return out


inventories = st.lists(
    st.tuples(resources, st.sampled_from([T, T, T2, RELATED]), st.booleans(), scalars).map(
        lambda x: {**x[0], "type": x[1], **({} if x[2] else {"location": ""}),
                   **({"name": "rel1"} if x[1] == RELATED else {}), "tags": {"t": x[3]}}
    ),
    min_size=1, max_size=10,
)


def both(pols, inventory, quiet: bool):
    """(rows, quiet outcomes) of the generated plans and of the plain loop."""
    qa: list | None = [] if quiet else None
    qb: list | None = [] if quiet else None
    fast = list(iter_pairs(pols, inventory, context=CONTEXT, quiet=qa))
    plain = list(_iter_pairs_plain(pols, inventory, context=CONTEXT, quiet=qb))
    return (fast, qa), (plain, qb)


@settings(max_examples=200, deadline=None)
@given(policies(), inventories, st.booleans())
def test_generated_plans_give_what_the_plain_loop_gives(pols, inventory, quiet) -> None:
    inventory = inventory * 2  # met twice: remembered verdicts are looked up the second time
    fast, plain = both(pols, inventory, quiet)
    assert fast == plain
    for _, pol in pols:  # every memo settles on plain evaluation: the next call regenerates the plans
        if pol.memo is not None:
            pol.memo.off()
    fast, plain = both(pols, inventory, quiet)
    assert fast == plain


@settings(max_examples=150, deadline=None)
@given(st.lists(conditions(), min_size=1, max_size=4), st.lists(resources, min_size=1, max_size=8),
       st.sampled_from(["audit", "deny"]))
def test_generated_plans_agree_with_the_traced_closures(conds, inventory, effect) -> None:
    """Every applicable pair's row holds what `CompiledPolicy.evaluate` (the closures, traced) says."""
    pols = []
    for i, c in enumerate(conds):
        pol = compile_policy(definition({"allOf": [{"field": "type", "equals": T}, c]}, effect))
        if pol.memo is not None:
            pol.memo.off()
        pols.append((f"p{i}", pol))
    rows = list(iter_pairs(pols, inventory, context=CONTEXT))
    want = []
    for r in inventory:
        for name, pol in pols:
            o = pol.evaluate(r, context=CONTEXT)
            if o.applicable:
                want.append((name, o.matched, o.compliant, o.denied, o.error))
    assert [(x[0], x[4], x[5], x[6], x[7]) for x in rows] == want


def test_rule_text_is_never_code() -> None:
    """Names and values that look like Python stay data: the generated plan names them only."""
    odd = "x')) or __import__('os').system('exit 3') or (('"
    d = definition({"allOf": [{"field": "type", "equals": T}, {"field": f"{T}/p", "equals": odd},
                              {"field": f"{T}/p", "notIn": [odd + "\n    raise SystemExit"]}]})
    pols = [(odd, compile_policy(d)), ("n\n    raise SystemExit", compile_policy(d))]
    inventory = [{"type": T, "name": "a", "properties": {"p": odd}}, {"type": T, "name": "b", "properties": {}}]
    rows = list(iter_pairs(pols, inventory))
    assert [(r[0], r[4]) for r in rows] == [(odd, True), ("n\n    raise SystemExit", True), (odd, False),
                                            ("n\n    raise SystemExit", False)]
