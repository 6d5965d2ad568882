"""Microsoft.PolicyInsights policy states: triggerEvaluation (the documented 202 + Location LRO),
queryResults (OData-ish `$filter`, `$top`, `$select`, paged by `@odata.nextLink`) and summarize.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from policygen.arm.scopes import ScopeKind
from policygen.emulator import compliance, hierarchy
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response, bad_request, guid, now_iso, parse_scope

PI = "/providers/Microsoft.PolicyInsights"
_AUTH_OBJ = re.compile(
    r"^(?P<scope>.*)/providers/Microsoft\.Authorization/(?P<kind>policyAssignments|"
    r"policyDefinitions|policySetDefinitions)/(?P<name>[^/]+)$",
    re.I,
)


def _target(emu: Context, m: Match) -> dict[str, Any]:
    """Where a query looks: a scope, optionally narrowed to one assignment or (set) definition."""
    scope = m.scope_text
    obj = _AUTH_OBJ.match(scope)
    if obj:
        base = obj.group("scope")
        hierarchy.require_scope(emu, parse_scope(base))
        if obj.group("kind").lower() == "policyassignments":
            if not emu.store.get("policyAssignments", scope):
                raise ArmError(
                    404, "PolicyAssignmentNotFound", f"The policy assignment '{obj.group('name')}' is not found."
                )
            return {"scope": base, "assignment_id": scope}
        return {"scope": base, "definition_id": scope}
    hierarchy.require_scope(emu, m.scope)
    return {"scope": scope}


def metadata_url(req: Request, scope: str, collection: str = "policyStates") -> str:
    """OData's `$metadata` URL of a query (`...#latest`, `...#summary`, `.../$entity` for an element)."""
    return f"{req.base_url}{quote(scope)}{PI}/{collection}/$metadata"


def state_document(emu: Context, st: compliance.State, stamp: str, context: str | None = None) -> dict:
    r, a, mem = st.resource, st.assignment, st.member
    scope = parse_scope(r["id"])
    defn, sset = mem.definition, mem.set_definition
    return {
        "@odata.id": None,
        "@odata.context": context,
        "timestamp": stamp,
        "resourceId": r["id"],
        "policyAssignmentId": a["id"],
        "policyDefinitionId": defn["id"],
        "effectiveParameters": json.dumps(mem.parameters) if mem.parameters else "",
        "isCompliant": st.compliant,
        "subscriptionId": scope.subscription or "",
        "resourceType": r.get("type", ""),
        "resourceLocation": r.get("location", ""),
        "resourceGroup": scope.resource_group or "",
        "resourceTags": json.dumps(r.get("tags") or {}),
        "policyAssignmentName": a["name"],
        "policyAssignmentOwner": "tbd",
        "policyAssignmentParameters": json.dumps(a["properties"].get("parameters") or {}),
        "policyAssignmentScope": a["properties"]["scope"],
        "policyDefinitionName": defn["name"],
        "policyDefinitionAction": st.outcome.effect,
        "policyDefinitionCategory": str((defn["properties"].get("metadata") or {}).get("category", "tbd")),
        "policySetDefinitionId": sset["id"] if sset else "",
        "policySetDefinitionName": sset["name"] if sset else "",
        "policySetDefinitionOwner": "tbd" if sset else "",
        "policySetDefinitionCategory": str((sset["properties"].get("metadata") or {}).get("category", "tbd"))
        if sset
        else "",
        "policySetDefinitionParameters": json.dumps(a["properties"].get("parameters") or {}) if sset else "",
        "managementGroupIds": ",".join(hierarchy.management_group_ids(emu, r["id"])),
        "policyDefinitionReferenceId": mem.reference_id or "",
        "complianceState": st.compliance_state,
        "policyDefinitionGroupNames": mem.group_names,
        "policyDefinitionVersion": defn["properties"].get("version", ""),
        "policySetDefinitionVersion": (sset["properties"].get("version", "") if sset else ""),
        "policyAssignmentVersion": "",
    }


_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(true|false)|(-?\d+))\s*$", re.I)


def _filter(docs: list[dict], flt: str | None) -> list[dict]:
    if not flt or not flt.strip():
        return docs
    out = docs
    for clause in re.split(r"\s+and\s+", flt.strip(), flags=re.I):
        alternatives = [_clause(a) for a in re.split(r"\s+or\s+", clause.strip().strip("()"), flags=re.I)]
        out = [d for d in out if any(match(d) for match in alternatives)]
    return out


def _clause(clause: str) -> Any:
    """A predicate for one `Field eq|ne value` clause of a `$filter`."""
    clause = clause.strip().strip("()")
    m = _CLAUSE.match(clause)
    if not m:
        raise bad_request("InvalidFilterInQueryString", f"Unsupported $filter clause '{clause}'.")
    field_name, op = m.group(1).lower(), m.group(2).lower()
    if m.group(3) is not None:
        want: Any = m.group(3).replace("''", "'").lower()
    elif m.group(4) is not None:
        want = m.group(4).lower() == "true"
    else:
        want = int(m.group(5))

    def match(doc: dict) -> bool:
        val = next((v for k, v in doc.items() if k.lower() == field_name), None)
        eq = (str(val).lower() == want) if isinstance(want, str) else (val == want)
        return eq if op == "eq" else not eq

    return match


def _states(emu: Context, m: Match) -> list[compliance.State]:
    t = _target(emu, m)
    return compliance.compute(
        emu, t["scope"], assignment_id=t.get("assignment_id"), definition_id=t.get("definition_id")
    )


def policy_states(emu: Context, req: Request, m: Match) -> Response:
    action = m["action"].lower()
    if action == "triggerevaluation":
        return _trigger(emu, req, m)
    if req.method not in ("POST", "GET"):
        raise ArmError(405, "MethodNotAllowed", "Use POST.")
    stamp = now_iso()
    res = m["res"].lower()
    meta = metadata_url(req, _target(emu, m)["scope"])
    entity = f"{meta}#{res}/$entity"
    docs = [state_document(emu, st, stamp, entity) for st in _states(emu, m)]
    docs.sort(
        key=lambda d: (d["resourceId"].lower(), d["policyAssignmentId"].lower(), d["policyDefinitionReferenceId"])
    )
    docs = _filter(docs, req.q("$filter"))
    if action == "summarize":
        summary = {"@odata.context": f"{meta}#summary/$entity", **_summary(req, docs)}
        return Response(200, {"@odata.context": f"{meta}#summary", "@odata.count": 1, "value": [summary]})
    return query_page(emu, req, docs, f"{meta}#{res}")


def _sort_key(doc: dict, name: str) -> tuple[int, Any]:
    value = next((v for k, v in doc.items() if k.lower() == name), None)
    return (0, value) if isinstance(value, (int, float)) and not isinstance(value, bool) else (1, str(value or ""))


def query_page(emu: Context, req: Request, docs: list[dict], context: str) -> Response:
    """One page of query results: `$apply`, `$top`, `$select`, then paging by `@odata.nextLink`."""
    if req.q("$apply"):
        docs = apply(docs, req.q("$apply") or "")
    for term in reversed([t.strip() for t in (req.q("$orderby") or "").split(",") if t.strip()]):
        name, _, direction = term.partition(" ")
        docs = sorted(docs, key=lambda d, n=name.lower(): _sort_key(d, n), reverse=direction.strip().lower() == "desc")
    top = req.q("$top")
    if top:
        docs = docs[: int(top)]
    select = req.q("$select")
    if select:
        fields = {f.strip().lower() for f in select.split(",")}
        docs = [{k: v for k, v in d.items() if k.lower() in fields or k.startswith("@")} for d in docs]
    skip = int(req.q("$skiptoken") or 0)
    page = docs[skip : skip + emu.config.page_size]
    body: dict[str, Any] = {"@odata.context": context, "@odata.count": len(docs), "value": page}
    body["@odata.nextLink"] = None
    if skip + emu.config.page_size < len(docs):
        params = {k: v for k, v in parse_qsl(req.raw_query, keep_blank_values=True) if k.lower() != "$skiptoken"}
        params["$skiptoken"] = str(skip + emu.config.page_size)
        body["@odata.nextLink"] = f"{req.base_url}{quote(unquote(req.path))}?{urlencode(params)}"
    return Response(200, body)


_RANK = {"compliant": 0, "exempt": 1, "unknown": 2, "noncompliant": 3}  # a resource takes its worst state


def _counts(docs: list[dict]) -> dict:
    by_resource: dict[str, str] = {}
    by_policy: dict[tuple, str] = {}
    groups: dict[str, str] = {}

    def worse(current: str | None, state: str) -> str:
        return state if current is None or _RANK[state] > _RANK[current] else current

    for d in docs:
        state = d["complianceState"].lower()
        rk = d["resourceId"].lower()
        by_resource[rk] = worse(by_resource.get(rk), state)
        pk = (d["policyAssignmentId"].lower(), d["policyDefinitionId"].lower(), d["policyDefinitionReferenceId"])
        by_policy[pk] = worse(by_policy.get(pk), state)
        for g in d.get("policyDefinitionGroupNames") or []:
            groups[g] = worse(groups.get(g), state)

    def details(states: dict) -> list[dict]:
        counted = {s: 0 for s in ("compliant", "noncompliant")}
        for s in states.values():
            counted[s] = counted.get(s, 0) + 1
        return [{"complianceState": s, "count": n} for s, n in counted.items()]

    return {
        "nonCompliantResources": sum(1 for v in by_resource.values() if v == "noncompliant"),
        "nonCompliantPolicies": sum(1 for v in by_policy.values() if v == "noncompliant"),
        "resourceDetails": details(by_resource),
        "policyDetails": details(by_policy),
        "policyGroupDetails": details(groups),
    }


def _results_uri(req: Request, *clauses: str) -> str:
    """The queryResults URL that lists what a summary counted (as Azure links each count)."""
    path = unquote(req.path).rsplit("/summarize", 1)[0] + "/queryResults"
    flt = " and ".join(("IsCompliant eq false", *clauses))
    return f"{req.base_url}{quote(path)}?{urlencode({'api-version': req.api_version or '', '$filter': flt})}"


def _eq(name: str, value: str) -> str:
    return f"{name} eq '{value}'"


def _group_results(docs: list[dict], uri: str) -> dict:
    c = _counts(docs)
    return {
        "nonCompliantResources": c["nonCompliantResources"],
        "resourceDetails": c["resourceDetails"],
        "policyDetails": c["policyDetails"],
        "policyGroupDetails": c["policyGroupDetails"],
        "queryResultsUri": uri,
    }


def _summary(req: Request, docs: list[dict]) -> dict:
    """Summarize: totals, then per assignment its definitions and its definition groups, each with the
    queryResults link that lists what it counted."""
    assignments = []
    for aid in sorted({d["policyAssignmentId"] for d in docs}, key=str.lower):
        mine = [d for d in docs if d["policyAssignmentId"] == aid]
        on_assignment = _eq("PolicyAssignmentId", aid)
        defs = []
        for pk in sorted({(d["policyDefinitionId"], d["policyDefinitionReferenceId"]) for d in mine}):
            dd = [d for d in mine if (d["policyDefinitionId"], d["policyDefinitionReferenceId"]) == pk]
            uri = _results_uri(req, on_assignment, _eq("PolicyDefinitionId", pk[0]))
            defs.append(
                {
                    "policyDefinitionId": pk[0],
                    "policyDefinitionReferenceId": pk[1],
                    "policyDefinitionGroupNames": dd[0].get("policyDefinitionGroupNames") or [],
                    "effect": dd[0]["policyDefinitionAction"],
                    "results": _group_results(dd, uri),
                }
            )
        groups = [
            {
                "policyGroupName": group,
                "results": _group_results(
                    [d for d in mine if group in (d.get("policyDefinitionGroupNames") or [])],
                    _results_uri(req, on_assignment, f"'{group}' IN PolicyDefinitionGroupNames"),
                ),
            }
            for group in sorted({g for d in mine for g in d.get("policyDefinitionGroupNames") or []})
        ]
        assignments.append(
            {
                "policyAssignmentId": aid,
                "policySetDefinitionId": mine[0]["policySetDefinitionId"],
                "results": {**_counts(mine), "queryResultsUri": _results_uri(req, on_assignment)},
                "policyDefinitions": defs,
                "policyGroups": groups,
            }
        )
    results = {**_counts(docs), "queryResultsUri": _results_uri(req)}
    return {"@odata.id": None, "results": results, "policyAssignments": assignments}


_APPLY = re.compile(
    r"^\s*(?:groupby\(\((?P<fields>[^)]*)\)\s*(?:,\s*aggregate\((?P<agg1>[^)]*)\))?\)"
    r"|aggregate\((?P<agg2>[^)]*)\))\s*$",
    re.I,
)


def apply(docs: list[dict], expression: str) -> list[dict]:
    """OData `$apply`: `groupby((f1, f2))`, `groupby((f), aggregate($count as N))`, `aggregate($count as N)`."""
    m = _APPLY.match(expression)
    if not m:
        raise bad_request("InvalidApplyInQueryString", f"The $apply expression '{expression}' is not supported.")
    agg = m.group("agg1") or m.group("agg2")
    count_as = None
    if agg:
        am = re.fullmatch(r"\s*\$count\s+as\s+(\w+)\s*", agg, re.I)
        if not am:
            raise bad_request("InvalidApplyInQueryString", f"Only '$count as Name' aggregates are supported: '{agg}'.")
        count_as = am.group(1)
    fields = [f.strip() for f in (m.group("fields") or "").split(",") if f.strip()]

    def named(doc: dict, name: str) -> tuple[str, Any]:  # the document's own spelling of the field
        return next(((k, v) for k, v in doc.items() if k.lower() == name.lower()), (name, None))

    groups: dict[str, tuple[dict, int]] = {}
    for d in docs:
        row = {"@odata.id": None, "@odata.context": d.get("@odata.context"), **dict(named(d, f) for f in fields)}
        k = json.dumps(row, sort_keys=True, default=str)
        groups[k] = (row, groups.get(k, (row, 0))[1] + 1)
    if not groups and not fields and count_as:  # aggregate over nothing is one row counting 0
        return [{"@odata.id": None, "@odata.context": None, count_as: 0}]
    return [{**row, **({count_as: n} if count_as else {})} for row, n in groups.values()]


def _trigger(emu: Context, req: Request, m: Match) -> Response:
    if req.method != "POST":
        raise ArmError(405, "MethodNotAllowed", "triggerEvaluation is a POST.")
    scope = m.scope_text
    s = hierarchy.require_scope(emu, m.scope)
    if s.kind not in (ScopeKind.SUBSCRIPTION, ScopeKind.RESOURCE_GROUP):
        raise bad_request("InvalidScope", "On-demand evaluation is available at subscription or resource group scope.")
    op = guid("evaluation", scope)
    with emu.store.lock:
        running = emu.store.get("asyncOperations", op)
        if not running or running["doneAt"] <= time.time():
            emu.store.put(
                "asyncOperations",
                op,
                {"scope": scope, "startedAt": time.time(), "doneAt": time.time() + emu.config.evaluation_s},
            )
    return Response(202, None, _poll_headers(emu, req, scope, op))


def _poll_headers(emu: Context, req: Request, scope: str, op: str) -> dict[str, str]:
    return {
        "Location": f"{req.base_url}{scope}{PI}/asyncOperationResults/{op}?api-version={req.api_version}",
        "retry-after-ms": str(emu.config.lro_poll_ms),
    }


def operation_result(emu: Context, req: Request, m: Match) -> Response:
    op = emu.store.get("asyncOperations", m["op"])
    if not op:
        raise ArmError(404, "AsyncOperationNotFound", f"The operation '{m['op']}' could not be found.")
    if time.time() < op["doneAt"]:
        return Response(202, None, _poll_headers(emu, req, op["scope"], m["op"]))
    return Response(200, {"status": "Succeeded"})
