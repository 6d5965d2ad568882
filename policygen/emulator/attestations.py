"""Microsoft.PolicyInsights attestations: the compliance of a `manual`-effect policy, stated by a person.

An attestation names an assignment (and, for an initiative, the member's reference id) at a subscription,
resource group or resource. Policy states read it: the resource is Compliant or NonCompliant as attested until
`expiresOn`; without one a manual policy reports its `details.defaultState` (Unknown by default).
https://learn.microsoft.com/azure/governance/policy/concepts/attestation-structure
"""

from __future__ import annotations

from policygen.arm.exemptions import expires_at, is_expired
from policygen.emulator import effective, envelope
from policygen.emulator.collection import Collection, Item
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Response, bad_request, copy_json, key, now_iso, system_data
from policygen.emulator.store import public

TYPE = "Microsoft.PolicyInsights/attestations"
SEGMENT = "/providers/Microsoft.PolicyInsights/attestations/"
STATES = {"compliant": "Compliant", "noncompliant": "NonCompliant", "unknown": "Unknown"}


def _missing(name: str) -> ArmError:
    return ArmError(404, "AttestationNotFound", f"The attestation '{name}' could not be found.")


def _put(item: Item) -> Response:
    body = envelope.body(item.req)
    props = copy_json(body.get("properties") or {})
    aid = props.get("policyAssignmentId")
    if not isinstance(aid, str) or not aid:
        raise bad_request("InvalidAttestation", "The policyAssignmentId property is required.")
    assignment = item.emu.store.get("policyAssignments", aid)
    if not assignment:
        raise ArmError(404, "PolicyAssignmentNotFound", f"The policy assignment '{aid}' is not found.")
    members = effective.members(item.emu, assignment["properties"])
    ref = props.get("policyDefinitionReferenceId")
    in_set = bool(members and members[0].set_definition)
    if in_set and not any((m.reference_id or "").lower() == str(ref or "").lower() for m in members):
        raise bad_request(
            "InvalidAttestation",
            f"The policy definition reference id '{ref}' is not part of the assigned initiative; an attestation "
            "of an initiative assignment names the member it attests.",
        )
    if props.get("expiresOn") and expires_at(props) is None:
        raise bad_request("InvalidAttestation", "expiresOn must be an ISO 8601 date-time.")
    state = STATES.get(str(props.get("complianceState") or "Unknown").lower())
    if state is None:
        raise bad_request("InvalidAttestation", "complianceState must be Compliant, NonCompliant or Unknown.")
    props["complianceState"] = state
    old = (item.existing or {}).get("properties") or {}
    changed = old.get("complianceState") != state
    props["lastComplianceStateChangeAt"] = now_iso() if changed else old.get("lastComplianceStateChangeAt")
    props["provisioningState"] = "Succeeded"
    obj = {
        "id": item.existing["id"] if item.existing else item.rid,
        "name": item.existing["name"] if item.existing else item.name,
        "type": TYPE,
        "systemData": system_data(item.existing),
        "properties": props,
    }
    item.emu.store.put("attestations", item.rid, obj)
    return Response(200 if item.existing else 201, public(obj))


def _list(emu: Context, m: Match, flt: str | None) -> list[dict]:
    """Attestations at the scope and below (`$filter` on policyAssignmentId / policyDefinitionReferenceId)."""
    prefix = key(m.scope_text)
    out = [public(a) for k, a in emu.store.items("attestations") if k.startswith(prefix)]
    for clause in (flt or "").split(" and "):
        name, _, value = clause.strip().partition(" eq ")
        if value:
            out = [a for a in out if key(str(a["properties"].get(name.strip(), ""))) == key(value.strip("' "))]
    return sorted(out, key=lambda a: a["id"].lower())


def attested(emu: Context, resource_id: str, assignment_id: str, reference_id: str | None) -> str | None:
    """The complianceState attested for this resource and policy (nearest scope first), unless expired."""
    best: tuple[int, str] | None = None
    for k, a in emu.store.items("attestations"):
        scope = k.rsplit(key(SEGMENT), 1)[0]
        props = a["properties"]
        if not (key(resource_id) == scope or key(resource_id).startswith(scope + "/")):
            continue
        if key(props.get("policyAssignmentId", "")) != key(assignment_id):
            continue
        if (props.get("policyDefinitionReferenceId") or "").lower() != (reference_id or "").lower():
            continue
        if is_expired(props):  # compared as instants: `expiresOn` may carry any UTC offset
            continue
        if best is None or len(scope) > best[0]:
            best = (len(scope), props["complianceState"])
    return best[1] if best else None


handle = Collection("attestations", SEGMENT, "attestations", _missing, _list, _put)
