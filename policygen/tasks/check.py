"""`policygen check`: what the assignments in force at a scope would do to a deployment before it is sent.

Each resource is placed at its ARM id under `--scope`; the assignments in force there are read from the pack
(offline) or from a live environment (`check_assignments`), and `policygen.evaluate.admission.decide` — the
function the emulator's request-time deny and its checkPolicyRestrictions call too — says what they do:
denied, modified, deployIfNotExists, audited, exempt, notEnforced, or undecidable when a verdict reads a
value only a real deployment knows (`reference()`, `list*()`), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.arm.scopes import MG_PREFIX, subscription_and_group
from policygen.errors import InputError
from policygen.evaluate.admission import OUTCOMES, Verdict
from policygen.tasks.check_deployment import SYMBOLIC, Placed


@dataclass
class Finding:
    """What one assignment member would do to one resource."""

    outcome: str  # one of OUTCOMES
    resource: Placed
    assignment: str
    member: str  # the assignment name, or assignment/policyDefinitionReferenceId
    effect: str
    message: str = ""  # the assignment's non-compliance message for this member
    changes: list[dict[str, Any]] = field(default_factory=list)  # modify/append: {path, before, after}
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        out = {"outcome": self.outcome, "resourceId": self.resource.id,
               "resourceType": self.resource.resource.get("type"), "file": self.resource.source,
               "line": self.resource.line, "assignment": self.assignment,
               "member": self.member, "effect": self.effect}
        for k, v in (("message", self.message), ("changes", self.changes), ("detail", self.detail)):
            if v:
                out[k] = v
        return out


@dataclass
class CheckResult:
    resources: list[Placed]
    findings: list[Finding]
    assignments: list[str]  # in force at some resource, by name
    chain: list[str]  # the scopes above --scope that assignments were matched against
    skipped: list[str] = field(default_factory=list)
    source: str = "pack"  # where the assignments were read: "pack" or "environment NAME"

    @property
    def denied(self) -> bool:
        return any(f.outcome == "denied" for f in self.findings)


def run(deployment: list[Path], *, scope: str, pack: Path | None = None, env: str | None = None,
        parameters: Path | None = None, location: str = "westeurope",
        management_groups: list[str] | None = None) -> CheckResult:
    """Check against the pack (`pack` given; `env` is its environment) or the live environment `env`."""
    from policygen.evaluate.sources import load_parameters
    from policygen.tasks import check_assignments, check_deployment

    scope = _resource_group_or_subscription(scope)
    placed = check_deployment.load(deployment, scope=scope, location=location,
                                   parameters=load_parameters(parameters))
    if pack is not None:
        found = check_assignments.from_pack(pack, env, scope, management_groups or [])
    elif env:
        found = check_assignments.from_environment(env, scope, management_groups or [],
                                                   [p.id for p in placed if not p.unplaced])
    else:
        raise InputError("name the environment whose assignments apply (--env NAME) or a pack (--pack PATH)")
    return evaluate(placed, found, location)


def evaluate(placed: list[Placed], found: Any, location: str) -> CheckResult:
    """The verdicts of the assignments in force at each placed resource (`found`: check_assignments.Assignments)."""
    from policygen.evaluate.admission import decide

    resources = [p.resource for p in placed if not p.unplaced]
    findings: list[Finding] = []
    in_force: set[str] = set()
    for p in placed:
        if p.unplaced:
            findings.append(Finding("undecidable", p, "", "", "", detail=p.unplaced))
            continue
        entries = found.in_force(p.id)
        in_force.update(str(e.assignment.get("name")) for e in entries)
        decision = decide(p.resource, entries, related=resources, context=_context(p, location),
                          placeholder=SYMBOLIC)
        findings.extend(_finding(p, v) for v in decision.verdicts)
        for why in decision.skipped:  # the same member fails to compile for every resource: say it once
            if why not in found.skipped:
                found.skipped.append(why)
    order = {o: i for i, o in enumerate(OUTCOMES)}
    findings.sort(key=lambda f: (f.resource.source, f.resource.line, f.resource.id, order[f.outcome], f.member))
    return CheckResult(placed, findings, sorted(in_force), found.chain, found.skipped, found.source)


def _context(p: Placed, location: str) -> Any:
    """What subscription(), resourceGroup() and policy() return for this resource and assignment member."""
    from policygen.evaluate.runtime import EvalContext

    sub, rg = subscription_and_group(p.id)

    def make(assignment: dict, member: Any) -> EvalContext:
        return EvalContext(subscription_id=sub, resource_group=rg, location=location,
                           assignment_id=str(assignment.get("id", "")),
                           definition_id=str(member.definition.get("id", "")),
                           set_definition_id=str((member.set_definition or {}).get("id", "")),
                           definition_reference_id=member.reference_id or "")
    return make


def _finding(p: Placed, v: Verdict) -> Finding:
    return Finding(v.outcome, p, str(v.assignment.get("name", "")), v.label, v.effect, v.message, v.changes,
                   v.detail)


def _resource_group_or_subscription(scope: str) -> str:
    """--scope as ARM prints it: a resource group or subscription; a management group or the tenant (`/`) for
    templates whose $schema deploys there."""
    if scope.strip() == "/":
        return "/"
    parts = scope.strip("/").split("/")
    if len(parts) == 4 and "/".join(parts[:3]).lower() == MG_PREFIX.strip("/").lower():
        return MG_PREFIX + parts[3]
    sub, rg = subscription_and_group(scope) if scope.startswith("/") else (None, None)
    if not sub or "/providers/" in scope.lower():
        raise InputError(f"--scope must be a subscription (/subscriptions/ID), a resource group "
                         f"(/subscriptions/ID/resourceGroups/NAME), or for a management-group or tenant template "
                         f"{MG_PREFIX}NAME or /, not {scope!r}")
    return f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
