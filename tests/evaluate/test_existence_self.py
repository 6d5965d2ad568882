"""auditIfNotExists / deployIfNotExists whose `details.type` is the `if` type (issue #12): the existence
condition reads the evaluated resource itself.

https://learn.microsoft.com/azure/governance/policy/concepts/effect-audit-if-not-exists ("When the condition
values for `if.field.type` and `then.details.type` match, then `name` becomes required and must be
`[field('name')]`, or `[field('fullName')]` for a child resource").
"""

from __future__ import annotations

import pytest

from policygen.evaluate import compile_policy, evaluate_inventory

KV = "Microsoft.KeyVault/vaults"


def _policy(name: str = "[field('name')]", effect: str = "auditIfNotExists") -> dict:
    return {"name": "kv-purge", "properties": {"mode": "Indexed", "policyRule": {
        "if": {"field": "type", "equals": KV},
        "then": {"effect": effect, "details": {
            "type": KV, "name": name,
            "existenceCondition": {"field": f"{KV}/enablePurgeProtection", "equals": True}}}}}}


def _vault(name: str, purge: bool | None) -> dict:
    props = {} if purge is None else {"enablePurgeProtection": purge}
    return {"id": f"/subscriptions/s/resourceGroups/rg/providers/{KV}/{name}", "name": name, "type": KV,
            "location": "westeurope", "properties": props}


@pytest.mark.parametrize(("purge", "compliant"), [(True, True), (False, False), (None, False)])
def test_existence_condition_reads_the_evaluated_resource(purge: bool | None, compliant: bool) -> None:
    out = compile_policy(_policy()).evaluate(_vault("kv1", purge))  # nothing supplied as related
    assert out.matched and out.compliant is compliant


def test_another_vault_does_not_satisfy_it() -> None:
    pol = compile_policy(_policy())
    assert pol.evaluate(_vault("kv1", False), related=[_vault("kv2", True)]).compliant is False


def test_impact_agrees() -> None:
    pol = compile_policy(_policy())
    inventory = [_vault("kv1", False), _vault("kv2", True)]
    rows = {r.resource_id.rsplit("/", 1)[-1]: r.compliant for r in evaluate_inventory([("p", pol)], inventory)}
    assert rows == {"kv1": False, "kv2": True}
