"""Compliance per assignment, from policy states: one `summarize` call per assignment scope.

Lists the assignments this pack owns as deployed (owner marker), so `status` reports what is really in
force, including assignments the current pack no longer declares.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from policygen.arm.scopes import key, name_of_id, parse_scope
from policygen.azure.remote import RemoteObject


@dataclass
class MemberCompliance:
    reference_id: str | None
    definition: str
    effect: str
    noncompliant_resources: int
    compliant_resources: int
    exempt_resources: int = 0


@dataclass
class AssignmentCompliance:
    name: str
    id: str
    scope: str
    noncompliant_resources: int = 0
    compliant_resources: int = 0
    noncompliant_policies: int = 0
    policies: int = 0
    exempt_resources: int = 0  # covered by an unexpired exemption (Azure's "Exempt" compliance state)
    members: list[MemberCompliance] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return self.noncompliant_resources + self.compliant_resources

    @property
    def percent(self) -> float | None:
        return 100.0 * self.compliant_resources / self.evaluated if self.evaluated else None


def _detail(details: list[dict[str, Any]] | None, state: str) -> int:
    for d in details or []:
        if str(d.get("complianceState", "")).lower() == state:
            return int(d.get("count") or 0)
    return 0


def compliance(arm: Any, assignments: list[RemoteObject], concurrency: int = 8) -> list[AssignmentCompliance]:
    """Summaries for the given (deployed) assignments."""
    scopes = sorted({key(a.scope): a.scope for a in assignments}.values(), key=str.lower)

    def summarize(scope: str) -> tuple[str, dict[str, Any]]:
        return scope, arm.summarize(scope)

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(scopes) or 1))) as pool:
        summaries = dict(pool.map(summarize, scopes))
    out = []
    named = Counter(a.name.lower() for a in assignments)  # one name at several scopes: shown with its scope
    for a in sorted(assignments, key=lambda x: (x.name, x.scope.lower())):
        label = a.name if named[a.name.lower()] == 1 else f"{a.name}@{parse_scope(a.scope).short}"
        row = AssignmentCompliance(label, a.id, a.scope)
        summary = summaries.get(a.scope) or {}
        for value in summary.get("value") or []:
            for pa in value.get("policyAssignments") or []:
                if key(pa.get("policyAssignmentId")) != key(a.id):
                    continue
                res = pa.get("results") or {}
                row.noncompliant_resources = int(res.get("nonCompliantResources") or 0)
                row.compliant_resources = _detail(res.get("resourceDetails"), "compliant")
                row.exempt_resources = _detail(res.get("resourceDetails"), "exempt")
                row.noncompliant_policies = int(res.get("nonCompliantPolicies") or 0)
                members = pa.get("policyDefinitions") or []
                row.policies = len(members)
                for m in members:
                    mres = m.get("results") or {}
                    row.members.append(MemberCompliance(
                        m.get("policyDefinitionReferenceId"), name_of_id(str(m.get("policyDefinitionId") or "")),
                        str(m.get("effect") or ""), int(mres.get("nonCompliantResources") or 0),
                        _detail(mres.get("resourceDetails"), "compliant"),
                        _detail(mres.get("resourceDetails"), "exempt")))
        out.append(row)
    return out


def totals(rows: list[AssignmentCompliance]) -> dict[str, int]:
    return {"noncompliant_resources": sum(r.noncompliant_resources for r in rows),
            "compliant_resources": sum(r.compliant_resources for r in rows),
            "noncompliant_policies": sum(r.noncompliant_policies for r in rows),
            "exempt_resources": sum(r.exempt_resources for r in rows)}
