"""Compliance of emulated resources, computed with policygen's evaluator (`policygen.evaluate`).

One function answers "which (assignment, member definition) pairs apply to which resources, and with what
outcome"; policy states, summaries, remediation and request-time admission (deny, modify, append) all read
it, so they cannot disagree. States are computed live from the current resources and assignments: a
triggerEvaluation scan is therefore always up to date when it completes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from policygen.emulator import assignments as assignments_mod
from policygen.emulator import attestations, effective, exemptions, hierarchy
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, key, parse_scope
from policygen.emulator.inventory import resources_under
from policygen.emulator.store import public
from policygen.evaluate import admission as verdict

log = logging.getLogger("policygen.emulator")
_CACHE: dict[tuple, Any] = {}
_CACHE_LOCK = threading.Lock()
DATA_PLANE_MODES = ("microsoft.",)


@dataclass
class State:
    resource: dict
    assignment: dict
    member: effective.Member
    outcome: Any  # policygen.evaluate Outcome
    exemption: dict | None = None  # the exemption that makes this state Exempt
    attested: str | None = None  # a manual policy's state, from an attestation

    @property
    def compliant(self) -> bool:
        """Not non-compliant: compliant, exempt, or a manual policy nobody attested yet (Unknown)."""
        if self.exemption is not None:
            return True
        if self.outcome.compliant is None:
            return self.compliance_state != "NonCompliant"
        return bool(self.outcome.compliant)

    @property
    def compliance_state(self) -> str:
        if self.exemption is not None:
            return "Exempt"
        if self.outcome.compliant is None:  # manual effect: what an attestation says, else the default state
            then = (self.member.definition["properties"].get("policyRule") or {}).get("then") or {}
            details = then.get("details")
            default = details.get("defaultState") if isinstance(details, dict) else None
            return self.attested or str(default or "Unknown")
        return "Compliant" if self.outcome.compliant else "NonCompliant"


def compiled(definition: dict, params: dict[str, Any]) -> Any:
    """The evaluator's CompiledPolicy for a definition + parameter values (cached per definition revision)."""
    from policygen.evaluate import compile_policy

    k = (
        key(definition.get("id", "")),
        (definition.get("systemData") or {}).get("lastModifiedAt"),
        json.dumps(params, sort_keys=True, default=str),
    )
    with _CACHE_LOCK:
        hit = _CACHE.get(k)
    if hit is None:
        hit = compile_policy(definition, params)
        with _CACHE_LOCK:
            if len(_CACHE) > 2048:
                _CACHE.clear()
            _CACHE[k] = hit
    return hit


def context(emu: Context, resource: dict, assignment: dict | None, member: effective.Member | None) -> Any:
    """The evaluator's EvalContext for a resource: its subscription and resource group as emulated."""
    from policygen.evaluate.runtime import EvalContext

    scope = parse_scope(resource["id"])
    values: dict[str, Any] = {"tenant_id": emu.tenant_id}
    sub_id, rg_name = scope.subscription, scope.resource_group
    if sub_id:
        sub = emu.store.get("subscriptions", sub_id) or {}
        values.update(subscription_id=sub_id, subscription_name=sub.get("displayName"))
        values["subscription_tags"] = sub.get("tags") or {}
    if rg_name:
        rg = emu.store.get("resourceGroups", f"/subscriptions/{sub_id}/resourceGroups/{rg_name}") or {}
        values.update(
            resource_group=rg.get("name", rg_name),
            location=rg.get("location"),
            resource_group_tags=rg.get("tags") or {},
            resource_group_managed_by=rg.get("managedBy"),
        )
    if assignment is not None:
        values["assignment_id"] = assignment["id"]
    if member is not None:
        values["definition_id"] = member.definition["id"]
        values["set_definition_id"] = member.set_definition["id"] if member.set_definition else ""
        values["definition_reference_id"] = member.reference_id or ""
    known = {f.name for f in dataclasses.fields(EvalContext)}
    return EvalContext(**{k: v for k, v in values.items() if k in known and v is not None})


def evaluable(emu: Context, scope_id: str) -> list[dict]:
    """Resources a scan of `scope_id` evaluates: resources plus the resource groups and subscriptions."""
    out = [public(r) for r in resources_under(emu, scope_id)]
    for rg in emu.store.values("resourceGroups"):
        if hierarchy.in_scope(emu, scope_id, rg["id"]):
            out.append(public(rg))
    for sub in emu.store.values("subscriptions"):
        if hierarchy.in_scope(emu, scope_id, sub["id"]):
            out.append(
                {
                    "id": sub["id"],
                    "name": sub["subscriptionId"],
                    "type": "Microsoft.Resources/subscriptions",
                    "properties": {"displayName": sub["displayName"], "state": sub["state"]},
                    "tags": sub.get("tags") or {},
                }
            )
    return out


def related_for(emu: Context, resource: dict) -> list[dict]:
    scope = parse_scope(resource["id"])
    if not scope.subscription:
        return []
    return [public(r) for r in resources_under(emu, f"/subscriptions/{scope.subscription}")]


def may_have_effect(assignment: dict, member: effective.Member, effects: set[str]) -> bool:
    """Cheap pre-filter: the member's effect, or any effect when the assignment overrides effects."""
    return member.effect.lower() in effects or bool(assignment["properties"].get("overrides"))


def evaluate_one(emu: Context, resource: dict, assignment: dict, member: effective.Member) -> Any | None:
    """The evaluator's Outcome, or None when the policy does not apply to the resource: the one per-member
    answer of `policygen.evaluate.admission` (resource selectors, effect overrides, applicability, mode)."""
    return verdict.evaluate_member(
        resource,
        assignment,
        member,
        related=lambda: related_for(emu, resource),
        context=context(emu, resource, assignment, member),
        compile=compiled,
    )


def compute(
    emu: Context,
    scope_id: str,
    *,
    assignment_id: str | None = None,
    definition_id: str | None = None,
    reference_id: str | None = None,
) -> list[State]:
    """Every policy state under `scope_id` (optionally one assignment / definition / initiative member)."""
    states: list[State] = []
    with emu.store.lock:
        targets = evaluable(emu, scope_id)
        all_assignments = emu.store.values("policyAssignments")
        chains = {r["id"]: {key(s) for s in hierarchy.scope_chain(emu, r["id"])} for r in targets}
    for a in sorted(all_assignments, key=lambda a: a["id"].lower()):
        if assignment_id and key(a["id"]) != key(assignment_id):
            continue
        props = a["properties"]
        members = effective.members(emu, props)
        for member in members:
            if member.effect.lower() == "disabled" and not props.get("overrides"):
                continue
            if reference_id and (member.reference_id or "").lower() != reference_id.lower():
                continue
            if definition_id and key(definition_id) not in (
                key(member.definition["id"]),
                key((member.set_definition or {}).get("id", "")),
            ):
                continue
            for r in targets:
                chain = chains[r["id"]]
                if key(props["scope"]) not in chain or any(key(ns) in chain for ns in props.get("notScopes") or []):
                    continue
                outcome = evaluate_one(emu, r, a, member)
                if outcome is not None:
                    exemption = exemptions.exempting(emu, r["id"], a["id"], member.reference_id, r)
                    attested = (
                        attestations.attested(emu, r["id"], a["id"], member.reference_id)
                        if outcome.compliant is None
                        else None
                    )
                    states.append(State(r, public(a), member, outcome, exemption, attested))
    return states


def in_force_at(emu: Context, resource: dict) -> list[verdict.InForce]:
    """The assignments in force where `resource` lands, with their members and the exemptions at or above it."""
    chain = {key(s) for s in hierarchy.scope_chain(emu, resource["id"])}
    out = []
    for a in sorted(assignments_mod.in_force(emu, resource["id"]), key=lambda a: a["id"].lower()):
        found = [
            public(ex)
            for ex in emu.store.values("policyExemptions")
            if key(ex["properties"].get("policyAssignmentId", "")) == key(a["id"])
            and key(ex["id"].rsplit(exemptions.SEGMENT, 1)[0]) in chain
        ]
        out.append(verdict.InForce(public(a), effective.members(emu, a["properties"]), found))
    return out


def decide(emu: Context, candidate: dict, only: set[str] | None = None) -> verdict.Decision:
    """policygen.evaluate.admission.decide over the emulated tenant: what policy does to this request."""
    return verdict.decide(
        candidate,
        in_force_at(emu, candidate),
        related=lambda: related_for(emu, candidate),
        context=lambda a, m: context(emu, candidate, a, m),
        compile=compiled,
        only=only,
    )


ADMISSION = {"deny"}  # besides append/modify, which always run


def admission(emu: Context, candidate: dict) -> dict:
    """Request-time policy: enforced deny → 403 RequestDisallowedByPolicy; enforced modify/append applied."""
    decision = decide(emu, candidate, ADMISSION)
    denial = decision.denial
    if denial is not None:
        err = ArmError(
            403,
            "RequestDisallowedByPolicy",
            denial_message(candidate, denial.assignment, denial.member),
            target=candidate.get("name"),
            details=[],
            headers={},
        )
        err.denial = (denial.assignment, denial.member, denial.result)  # type: ignore[attr-defined]
        raise err
    return decision.request


def non_compliance_message(assignment: dict, reference_id: str | None) -> str | None:
    """The assignment's message for this member (policygen.evaluate.admission's rule)."""
    return verdict.non_compliance_message(assignment["properties"], reference_id)


def denial_message(candidate: dict, assignment: dict, member: effective.Member) -> str:
    """ARM's RequestDisallowedByPolicy text: the assignment's non-compliance message as the reason when it has
    one (Learn, "Azure Policy assignment structure: non-compliance messages"), else the policy identifiers."""
    name = candidate.get("name")
    reason = non_compliance_message(assignment, member.reference_id)
    if reason:
        return (
            f"Resource '{name}' was disallowed by policy. Reasons: '{reason}'. "
            "See error details for policy resource IDs."
        )
    return (
        f"Resource '{name}' was disallowed by policy. Policy identifiers: "
        f'\'[{{"policyAssignment":{{"name":"{assignment["name"]}","id":"{assignment["id"]}"}},'
        f'"policyDefinition":{{"name":"{member.definition["name"]}","id":'
        f'"{member.definition["id"]}"}}}}]\'.'
    )
