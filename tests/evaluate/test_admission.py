"""`policygen.evaluate.admission.decide`, the one answer of check, the emulator's deny and checkPolicyRestrictions.

A property test with an oracle written from the Learn pages: for any mix of a deny, a modify and an audit
assignment on `publicNetworkAccess` — each enforced or DoNotEnforce, exempt or not, the deny's effect
overridden per location — the request is denied exactly when an enforced, unexempt deny still sees public
access after an enforced, unexempt modify ran, whatever order the assignments come in.
- order of evaluation (modify before deny):
  https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics#order-of-evaluation
- overrides change the effect only, first matching override wins; enforcementMode DoNotEnforce:
  https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
- exemptions: https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policygen.evaluate.admission import InForce, Member, decide, with_effect

SUB = "/subscriptions/11111111-1111-1111-1111-111111111111"
AUTH = "/providers/Microsoft.Authorization"
FIELD = "Microsoft.Storage/storageAccounts/publicNetworkAccess"
PUBLIC = {"allOf": [{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                    {"field": FIELD, "notEquals": "Disabled"}]}


def _definition(name: str, effect: str, details: object = None) -> dict:
    then: dict = {"effect": "[parameters('effect')]"}
    if details is not None:
        then["details"] = details
    return {"id": f"{SUB}{AUTH}/policyDefinitions/{name}", "name": name, "properties": {
        "mode": "Indexed", "parameters": {"effect": {"type": "String", "defaultValue": effect}},
        "policyRule": {"if": PUBLIC, "then": then}}}


DENY = _definition("deny-public", "Deny")
# audits by default; the modify assignment's override makes it Modify, with the details written here
MODIFY = _definition("modify-public", "Audit", {
    "roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/17d1049b-9a84-46fb-8f53-869881c3d3ab"],
    "operations": [{"operation": "addOrReplace", "field": FIELD, "value": "Disabled"}]})
AUDIT = _definition("audit-public", "Audit")


def _assignment(name: str, definition: dict, enforced: bool, exempt: bool, overrides: list) -> InForce:
    aid = f"{SUB}{AUTH}/policyAssignments/{name}"
    body = {"id": aid, "name": name, "properties": {
        "scope": SUB, "policyDefinitionId": definition["id"], "overrides": overrides,
        "enforcementMode": "Default" if enforced else "DoNotEnforce",
        "nonComplianceMessages": [{"message": f"{name} says no"}]}}
    exemptions = [{"id": f"{SUB}{AUTH}/policyExemptions/{name}-waiver", "name": f"{name}-waiver",
                   "properties": {"policyAssignmentId": aid, "exemptionCategory": "Waiver"}}] if exempt else []
    return InForce(body, [Member(definition, {})], exemptions)


def _request(access: str, location: str) -> dict:
    return {"id": f"{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st", "name": "st",
            "type": "Microsoft.Storage/storageAccounts", "location": location,
            "properties": {"publicNetworkAccess": access}}


@given(access=st.sampled_from(["Enabled", "Disabled"]), location=st.sampled_from(["westeurope", "northeurope"]),
       deny=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       modify=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       deny_override=st.sampled_from([None, "Audit", "Disabled"]), order=st.permutations([0, 1, 2]))
def test_denied_exactly_when_an_enforced_deny_still_sees_public_access(
        access: str, location: str, deny: tuple[bool, bool, bool], modify: tuple[bool, bool, bool],
        deny_override: str | None, order: list[int]) -> None:
    (deny_on, deny_enforced, deny_exempt), (modify_on, modify_enforced, modify_exempt) = deny, modify
    # the deny's override applies in westeurope only; the modify assignment overrides Audit -> Modify everywhere
    deny_overrides = [{"kind": "policyEffect", "value": deny_override,
                       "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}] if deny_override else []
    entries = [_assignment("deny", DENY, deny_enforced, deny_exempt, deny_overrides) if deny_on else None,
               _assignment("modify", MODIFY, modify_enforced, modify_exempt,
                           [{"kind": "policyEffect", "value": "Modify"}]) if modify_on else None,
               _assignment("audit", AUDIT, True, False, [])]
    in_force = [e for e in (entries[i] for i in order) if e is not None]
    decision = decide(_request(access, location), in_force)

    fixed = modify_on and modify_enforced and not modify_exempt and access != "Disabled"
    deny_effect = deny_override if deny_override and location == "westeurope" else "Deny"
    seen = "Disabled" if fixed else access
    denies = deny_on and deny_enforced and not deny_exempt and deny_effect == "Deny" and seen != "Disabled"
    assert (decision.denial is not None) == denies
    if denies:
        assert decision.denial.message == "deny says no" and decision.denial.label == "deny"
    assert decision.request["properties"]["publicNetworkAccess"] == seen
    outcomes = {v.label: v.outcome for v in decision.verdicts}
    # the audit assignment sees the request as modify left it
    assert ("audit" in outcomes) == (seen != "Disabled")
    if modify_on and access != "Disabled":
        assert outcomes["modify"] == ("exempt" if modify_exempt else "modified" if modify_enforced else "notEnforced")
    if deny_on and seen != "Disabled" and deny_effect != "Disabled":
        expected = "denied" if deny_effect == "Deny" else "audited"
        if deny_exempt:
            expected = "exempt"
        elif not deny_enforced and expected == "denied":
            expected = "notEnforced"
        assert outcomes["deny"] == expected


def test_override_keeps_the_definitions_details() -> None:
    """An override only replaces `then.effect`: Audit -> Modify runs the operations the definition wrote."""
    overridden = with_effect(MODIFY, "Modify")
    assert overridden["properties"]["policyRule"]["then"]["details"] == MODIFY["properties"]["policyRule"]["then"][
        "details"]
    assert overridden["properties"]["policyRule"]["then"]["effect"] == "Modify"
    assert MODIFY["properties"]["policyRule"]["then"]["effect"] == "[parameters('effect')]", "input untouched"
    decision = decide(_request("Enabled", "westeurope"),
                      [_assignment("modify", MODIFY, True, False, [{"kind": "policyEffect", "value": "Modify"}])])
    (verdict,) = decision.verdicts
    assert verdict.outcome == "modified" and verdict.effect == "modify"
    assert verdict.changes == [{"path": "/properties/publicNetworkAccess", "before": "Enabled", "after": "Disabled"}]
