"""Policy exemptions (`Microsoft.Authorization/policyExemptions`, azure-mgmt-resource <= 24 or raw REST).

An unexpired exemption at or above a resource turns that resource's state for the exempted assignment (or
for the listed initiative members) into `Exempt`: not evaluated for compliance, deny or remediation.
"""

from __future__ import annotations

import re
from datetime import datetime

from policygen.arm.exemptions import is_expired
from policygen.emulator import effective, envelope, hierarchy
from policygen.emulator.collection import Collection, Item
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Response, bad_request, copy_json, key, system_data
from policygen.emulator.store import public
from policygen.evaluate.assignment_gate import selected_any

TYPE = "Microsoft.Authorization/policyExemptions"
SEGMENT = "/providers/Microsoft.Authorization/policyExemptions/"


def _missing(name: str) -> ArmError:
    return ArmError(404, "PolicyExemptionNotFound", f"The policy exemption '{name}' is not found.")


def expired(exemption: dict) -> bool:
    return is_expired(exemption["properties"])


def _put(item: Item) -> Response:
    obj = put_exemption(item.emu, item.scope, item.name, item.rid, item.existing, envelope.body(item.req))
    return Response(200 if item.existing else 201, public(obj))


def _patch(item: Item) -> Response:
    obj = copy_json(item.existing)
    for field_name in ("resourceSelectors", "assignmentScopeValidation"):
        if field_name in (envelope.body(item.req).get("properties") or {}):
            obj["properties"][field_name] = envelope.body(item.req)["properties"][field_name]
    return Response(200, public(item.emu.store.put("policyExemptions", item.rid, obj)))


def put_exemption(emu: Context, scope: str, name: str, rid: str, existing: dict | None, body: dict) -> dict:
    props = copy_json(body.get("properties") or {})
    aid = props.get("policyAssignmentId")
    if not aid:
        raise bad_request("InvalidCreatePolicyExemptionRequest", "The policyAssignmentId property is required.")
    assignment = emu.store.get("policyAssignments", aid)
    if not assignment:
        raise ArmError(404, "PolicyAssignmentNotFound", f"The policy assignment '{aid}' is not found.")
    if str(props.get("exemptionCategory", "")).lower() not in ("waiver", "mitigated"):
        raise bad_request("InvalidCreatePolicyExemptionRequest", "exemptionCategory must be 'Waiver' or 'Mitigated'.")
    validate = str(props.get("assignmentScopeValidation", "Default")).lower() != "donotvalidate"
    if validate and not hierarchy.in_scope(emu, assignment["properties"]["scope"], scope):
        raise bad_request(
            "InvalidCreatePolicyExemptionRequest",
            f"The exemption scope '{scope}' is not at or below the assignment scope "
            f"'{assignment['properties']['scope']}'.",
        )
    refs = {(mm.reference_id or "").lower() for mm in effective.members(emu, assignment["properties"])}
    for ref in props.get("policyDefinitionReferenceIds") or []:
        if ref.lower() not in refs:
            raise bad_request(
                "InvalidCreatePolicyExemptionRequest",
                f"'{ref}' is not a policy definition reference id of the assigned initiative.",
            )
    if props.get("expiresOn"):
        try:
            datetime.fromisoformat(str(props["expiresOn"]).replace("Z", "+00:00"))
        except ValueError:
            raise bad_request("InvalidCreatePolicyExemptionRequest", "expiresOn must be an ISO 8601 date.") from None
    obj = {
        "id": existing["id"] if existing else rid,
        "name": existing["name"] if existing else name,
        "type": TYPE,
        "systemData": system_data(existing),
        "properties": props,
    }
    return emu.store.put("policyExemptions", rid, obj)


def _list(emu: Context, m: Match, flt: str | None) -> list[dict]:
    scope = m.scope_text
    chain = {key(s) for s in hierarchy.scope_chain(emu, m.scope)}
    text = (flt or "").lower()
    want_assignment = re.search(r"policyassignmentid\s+eq\s+'([^']*)'", text)
    out = []
    for ex in emu.store.values("policyExemptions"):
        ex_scope = ex["id"].rsplit(SEGMENT, 1)[0]
        above = key(ex_scope) in chain
        if "atexactscope()" in text:
            keep = key(ex_scope) == key(scope)
        elif "atscope()" in text:
            keep = above
        else:
            keep = above or hierarchy.in_scope(emu, m.scope, ex_scope)
        if keep and "excludeexpired()" in text and expired(ex):
            keep = False
        if keep and want_assignment and key(ex["properties"]["policyAssignmentId"]) != key(want_assignment.group(1)):
            keep = False
        if keep:
            out.append(public(ex))
    return sorted(out, key=lambda e: e["id"].lower())


def exempting(emu: Context, resource_id: str, assignment_id: str, reference_id: str | None,
              resource: dict | None = None) -> dict | None:
    """The unexpired exemption that covers this resource for this assignment (and initiative member); an
    exemption with `resourceSelectors` covers only the resources one of them selects (given `resource`)."""
    chain = {key(s) for s in hierarchy.scope_chain(emu, resource_id)}
    for ex in emu.store.values("policyExemptions"):
        props = ex["properties"]
        if key(props.get("policyAssignmentId", "")) != key(assignment_id) or expired(ex):
            continue
        if key(ex["id"].rsplit(SEGMENT, 1)[0]) not in chain:
            continue
        refs = [r.lower() for r in props.get("policyDefinitionReferenceIds") or []]
        if refs and (reference_id or "").lower() not in refs:
            continue
        if resource is not None and not selected_any(props.get("resourceSelectors"), resource, reference_id):
            continue
        return ex
    return None


handle = Collection(
    "policyExemptions",
    SEGMENT,
    "policy exemptions",
    _missing,
    _list,
    _put,
    patch=_patch,
    delete_echoes=False,
)
