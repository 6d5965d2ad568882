"""Microsoft.PolicyInsights policy events: what Azure Policy decided about a resource when it was written.

Every resource PUT through the API (and every resource a deployment or remediation writes) records one event
per policy that applies to it, with the outcome at that moment; a `deny` records its NonCompliant event before
the 403. Events are the policy-state documents plus `tenantId` and `principalOid`, kept newest-last up to
`LIMIT` (older ones are dropped), and queried like states: `POST {scope}/providers/Microsoft.PolicyInsights/
policyEvents/default/queryResults` with `$from`/`$to` (default: the last day), `$filter`, `$apply`, `$top`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from policygen.emulator import compliance, hierarchy, insights
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response, bad_request, guid, key, now_iso
from policygen.emulator.store import public

LIMIT = 10_000
CALLER = guid("emulator-caller")  # the principal the emulator attributes writes to


def _record(emu: Context, docs: list[dict]) -> None:
    for doc in docs:
        n = emu.store.counter("policyEvents")
        emu.store.put("policyEvents", f"{n:012d}", doc)
        if n > LIMIT:
            emu.store.delete("policyEvents", f"{n - LIMIT:012d}")


def _document(emu: Context, st: compliance.State, stamp: str) -> dict[str, Any]:
    doc = insights.state_document(emu, st, stamp)
    doc.update(tenantId=emu.tenant_id, principalOid=CALLER)
    return doc


def after_write(emu: Context, resource: dict) -> None:
    """One event per policy that applies to a resource just written, with its outcome."""
    stamp = now_iso()
    rid = key(resource["id"])
    states = [st for st in compliance.compute(emu, resource["id"]) if key(st.resource["id"]) == rid]
    _record(emu, [_document(emu, st, stamp) for st in states])


def denied(emu: Context, resource: dict, assignment: dict, member: Any, outcome: Any) -> None:
    """The event of a request a `deny` policy refused (the resource was not written)."""
    st = compliance.State(resource, public(assignment), member, outcome)
    _record(emu, [_document(emu, st, now_iso())])


def _stamp(value: str | None, default: datetime) -> str:
    if not value:
        return default.strftime("%Y-%m-%dT%H:%M:%S")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request("InvalidQueryParameterValue", f"'{value}' is not an ISO 8601 date and time.") from None
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if parsed.tzinfo else value[:19]


def query(emu: Context, req: Request, m: Match) -> Response:
    if req.method != "POST":
        raise ArmError(405, "MethodNotAllowed", "policyEvents queryResults is a POST.")
    target = insights._target(emu, m)
    now = datetime.now(UTC)
    since, until = _stamp(req.q("$from"), now - timedelta(days=1)), _stamp(req.q("$to"), now + timedelta(seconds=1))
    scope = target["scope"]
    docs = []
    for _, doc in sorted(emu.store.items("policyEvents"), reverse=True):  # newest first, as Azure orders them
        if not since <= doc["timestamp"][:19] <= until:
            continue
        if target.get("assignment_id") and key(doc["policyAssignmentId"]) != key(target["assignment_id"]):
            continue
        if target.get("definition_id") and key(target["definition_id"]) not in (
            key(doc["policyDefinitionId"]),
            key(doc["policySetDefinitionId"]),
        ):
            continue
        if scope and not hierarchy.in_scope(emu, scope, doc["resourceId"]):
            continue
        docs.append(dict(doc))
    meta = insights.metadata_url(req, scope, "policyEvents")
    for doc in docs:
        doc["@odata.context"] = f"{meta}#default/$entity"
    return insights.query_page(emu, req, insights._filter(docs, req.q("$filter")), f"{meta}#default")
