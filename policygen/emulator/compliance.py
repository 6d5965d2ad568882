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

from policygen.arm import effects
from policygen.emulator import assignments as assignments_mod
from policygen.emulator import attestations, effective, exemptions, hierarchy
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, copy_json, key, parse_scope
from policygen.emulator.inventory import resources_under
from policygen.emulator.store import public
from policygen.evaluate import assignment_gate

log = logging.getLogger("policygen.emulator")
_CACHE: dict[tuple, Any] = {}
_CACHE_LOCK = threading.Lock()
DATA_PLANE_MODES = ("microsoft.",)
EXISTENCE = effects.EXISTENCE  # only these read related resources


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


def _applicable(cp: Any, mode: str, resource: dict) -> bool:
    """The evaluator's one applicability answer (mode, type index), as `evaluate`/`test`/`impact` give it."""
    return bool(cp.applies_to(resource))


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


def _selected(selectors: list[dict] | None, resource: dict, member: effective.Member) -> bool:
    """Assignment selectors hold for this resource and member (the one matcher, evaluate.assignment_gate)."""
    return assignment_gate.selected(selectors, resource, member.reference_id)


def _effect_override(assignment: dict, resource: dict, member: effective.Member) -> str | None:
    for override in assignment["properties"].get("overrides") or []:
        if str(override.get("kind", "")).lower() == "policyeffect" and _selected(
            override.get("selectors"), resource, member
        ):
            return str(override.get("value"))
    return None


def may_have_effect(assignment: dict, member: effective.Member, effects: set[str]) -> bool:
    """Cheap pre-filter: the member's effect, or any effect when the assignment overrides effects."""
    return member.effect.lower() in effects or bool(assignment["properties"].get("overrides"))


def _compiled_for(member: effective.Member, override: str | None) -> Any | None:
    """The member's compiled policy (None when the evaluator cannot run it), once per member and effect."""
    from policygen.evaluate.errors import UnsupportedError

    if override not in member.compiled:
        definition = member.definition
        if override:
            definition = copy_json(definition)
            definition["id"] = f"{definition['id']}#effect={override}"
            definition["properties"]["policyRule"]["then"]["effect"] = override
        try:
            member.compiled[override] = compiled(definition, member.parameters)
        except UnsupportedError:
            member.compiled[override] = None
    return member.compiled[override]


def evaluate_one(emu: Context, resource: dict, assignment: dict, member: effective.Member) -> Any | None:
    """The evaluator's Outcome, or None when the policy does not apply to the resource (resource selectors,
    applicability, mode, disabled). Assignment `overrides` replace the effect."""
    resource_selectors = assignment["properties"].get("resourceSelectors") or []
    if resource_selectors and not any(_selected(rs.get("selectors"), resource, member) for rs in resource_selectors):
        return None
    cp = _compiled_for(member, _effect_override(assignment, resource, member))
    if cp is None:
        return None
    if not _applicable(cp, str(member.definition["properties"].get("mode", "All")), resource):
        return None
    try:
        outcome = cp.evaluate(
            resource,
            related=related_for(emu, resource) if cp.effect in EXISTENCE else (),
            context=context(emu, resource, assignment, member),
            explain=False,
        )
    except Exception:  # an evaluator bug must not take the whole query down; it is logged
        log.exception("evaluating %s against %s failed", member.definition.get("id"), resource.get("id"))
        return None
    if outcome.compliant is None and outcome.matched and str(outcome.effect).lower() == "manual":
        return outcome  # a manual policy applies; its state comes from attestations
    return outcome if outcome.compliant is not None else None


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


def admission(emu: Context, candidate: dict) -> dict:
    """Request-time policy: enforced deny → 403 RequestDisallowedByPolicy; enforced modify/append applied."""
    result = candidate
    for a in assignments_mod.in_force(emu, candidate["id"]):
        if str(a["properties"].get("enforcementMode", "Default")).lower() != "default":
            continue
        for member in effective.members(emu, a["properties"]):
            if not may_have_effect(a, member, {"deny", "modify", "append"}):
                continue
            if exemptions.exempting(emu, candidate["id"], a["id"], member.reference_id, candidate):
                continue
            outcome = evaluate_one(emu, result, a, member)
            if outcome is None or not outcome.matched or outcome.effect not in ("deny", "modify", "append"):
                continue
            if outcome.denied:
                err = ArmError(
                    403,
                    "RequestDisallowedByPolicy",
                    denial_message(candidate, a, member),
                    target=candidate.get("name"),
                    details=[],
                    headers={},
                )
                err.denial = (a, member, outcome)  # type: ignore[attr-defined]  # events record what was denied
                raise err
            if outcome.modified is not None:
                result = {**outcome.modified, "id": candidate["id"]}
    return result


def non_compliance_message(assignment: dict, reference_id: str | None) -> str | None:
    """The assignment's message for this member: the one naming its reference id, else the default one."""
    messages = assignment["properties"].get("nonComplianceMessages") or []
    for m in messages:
        if reference_id and str(m.get("policyDefinitionReferenceId") or "").lower() == reference_id.lower():
            return m.get("message")
    return next((m.get("message") for m in messages if not m.get("policyDefinitionReferenceId")), None)


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
