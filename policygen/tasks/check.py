"""`policygen check`: what the pack's assignments would do to a deployment before it is sent to Azure.

Each resource is placed at its ARM id under `--scope`; every assignment of the pack whose scope holds that id
(and no notScope does) is evaluated through `evaluate_inventory`, the function `impact` uses, with the
assignment's parameter values (`policies_from_build`), effect overrides, resource selectors, exemptions and
enforcement mode applied around it. A verdict that reads a value only a real deployment knows
(`reference()`, `list*()`) is reported as undecidable, never guessed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from policygen.arm.scopes import MG_PREFIX, key, subscription_and_group
from policygen.errors import InputError
from policygen.tasks.check_deployment import SYMBOLIC, Placed

OUTCOMES = ("denied", "undecidable", "modified", "deployIfNotExists", "audited", "notEnforced", "exempt")


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

    @property
    def denied(self) -> bool:
        return any(f.outcome == "denied" for f in self.findings)


def run(deployment: list[Path], *, pack: Path, env: str | None, scope: str, parameters: Path | None = None,
        location: str = "westeurope", management_groups: list[str] | None = None) -> CheckResult:
    from policygen.arm.aliases import load_catalogue
    from policygen.evaluate.sources import load_parameters
    from policygen.render import compile_pack
    from policygen.tasks import check_deployment

    scope = _resource_group_or_subscription(scope)
    build = compile_pack(pack, env=env)
    chain = _chain(build, env, scope, management_groups or [])
    placed = check_deployment.load(deployment, scope=scope, location=location,
                                   parameters=load_parameters(parameters))
    evaluator = _Evaluator(build, load_catalogue([]), placed)
    findings: list[Finding] = []
    in_force: set[str] = set()
    for p in placed:
        if p.unplaced:
            findings.append(Finding("undecidable", p, "", "", "", detail=p.unplaced))
            continue
        rchain = {*(key(s) for s in chain), key(p.id)}
        for name in sorted(build.assignments):
            art = build.assignments[name]
            props = art.properties
            if key(art.scope) not in rchain or any(key(ns) in rchain for ns in props.get("notScopes") or []):
                continue
            in_force.add(name)
            findings.extend(evaluator.findings(name, p, rchain))
    order = {o: i for i, o in enumerate(OUTCOMES)}
    findings.sort(key=lambda f: (f.resource.source, f.resource.line, f.resource.id, order[f.outcome], f.member))
    return CheckResult(placed, findings, sorted(in_force), chain, evaluator.skipped)


def _resource_group_or_subscription(scope: str) -> str:
    sub, rg = subscription_and_group(scope) if scope.startswith("/") else (None, None)
    if not sub or "/providers/" in scope.lower():
        raise InputError(f"--scope must be a subscription (/subscriptions/ID) or a resource group "
                         f"(/subscriptions/ID/resourceGroups/NAME), not {scope!r}")
    return f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")


def _chain(build: Any, env: str | None, scope: str, management_groups: list[str]) -> list[str]:
    """The scopes above and at `scope`: management groups from `--management-group` or from the
    environment's seed hierarchy (the subscription's ancestors), then the subscription and group."""
    sub, rg = subscription_and_group(scope)
    groups = [m.rsplit("/", 1)[-1] for m in management_groups] or _seed_ancestors(build, env, str(sub))
    out = [MG_PREFIX + g for g in groups] + [f"/subscriptions/{sub}"]
    if rg:
        out.append(scope)
    return out


def _seed_ancestors(build: Any, env: str | None, subscription: str) -> list[str]:
    from policygen.emulator import seed

    envs = build.pack.environments
    for e in [envs.get(env)] if env else list(envs.values())[:1]:
        path = (e or {}).get("seed") if isinstance(e, dict) else None
        if not path:
            continue
        data, _ = seed.load(Path(build.pack.root) / path)
        root = str(data.get("tenantId") or "")

        def walk(groups: list, above: list[str]) -> list[str] | None:
            for g in groups or []:
                here = [*above, str(g.get("name"))]
                if any(str(s.get("id", "")).lower() == subscription.lower() for s in g.get("subscriptions") or []):
                    return here
                found = walk(g.get("children") or [], here)
                if found:
                    return found
            return None

        found = walk(data.get("managementGroups") or [], [root] if root else [])
        if found:
            return found
    return []


class _Evaluator:
    """Members of each assignment compiled once (and once per overriding effect)."""

    def __init__(self, build: Any, catalogue: Any, placed: list[Placed]):
        from policygen.evaluate.inventory import RelatedIndex

        self.build, self.catalogue = build, catalogue
        self.resources = [p.resource for p in placed if not p.unplaced]
        self.index = {id(r): i for i, r in enumerate(self.resources)}
        self.members: dict[str, list[tuple[str, Any]]] = {}
        self.skipped: list[str] = []
        self.related = RelatedIndex(self.resources)

    def _members(self, name: str) -> list[tuple[str, Any]]:
        from policygen.evaluate.sources import policies_from_build

        if name not in self.members:
            found, skipped = policies_from_build(self.build, {}, self.catalogue, name)
            self.members[name] = found
            self.skipped.extend(skipped)
        return self.members[name]

    @staticmethod
    def _with_effect(pol: Any, effect: str) -> Any:
        """The member with an assignment override's effect (Azure replaces the effect, keeps the rule);
        the details stay those compiled for the definition's own effect."""
        if effect.lower() == pol.effect:
            return pol
        out = copy.copy(pol)
        out.effect = effect.lower()
        return out

    def findings(self, name: str, p: Placed, chain: set[str]) -> list[Finding]:
        from policygen.evaluate.assignment_gate import selected
        from policygen.evaluate.inventory import evaluate_inventory

        art = self.build.assignments[name]
        props = art.properties
        exempt = _exempted(self.build, name, p.resource, chain)
        policies = []
        for label, pol in self._members(name):
            member = SimpleNamespace(reference_id=label.split("/", 1)[1] if "/" in label else None)
            selectors = props.get("resourceSelectors") or []
            if selectors and not any(selected(s.get("selectors"), p.resource, member.reference_id) for s in selectors):
                continue
            for o in props.get("overrides") or []:
                if str(o.get("kind", "")).lower() == "policyeffect" and selected(o.get("selectors"), p.resource,
                                                                                  member.reference_id):
                    pol = self._with_effect(pol, str(o.get("value")))
                    break
            policies.append((label, pol))
        i = self.index[id(p.resource)]
        rows = evaluate_inventory(policies, self.resources, related_index=self.related, start=i, stop=i + 1)
        compiled = dict(policies)
        out = []
        enforced = str(props.get("enforcementMode", "Default")).lower() != "donotenforce"
        for row in rows:
            outcome = _outcome(row)
            if outcome is None:
                continue
            f = Finding(outcome, p, name, row.policy, row.effect, _message(props, row.policy))
            if row.error:
                f.detail = f"evaluation failed (Azure denies the request): {row.error}"
            if outcome == "modified" and row.modified is not None:
                f.changes = _changes(p.resource, row.modified)
            if p.symbolic and _reads_symbolic(compiled[row.policy], p.resource):
                f.outcome, f.detail = "undecidable", "the outcome reads " + ", ".join(p.symbolic) + \
                    ", known only during deployment (reference()/list*())"
            ref = label_ref(row.policy)
            if exempt is not None and (not exempt[0] or ref in exempt[0]):
                f.outcome, f.detail = "exempt", f"exemption {exempt[1]} ({f.outcome} otherwise)"
            elif not enforced and f.outcome in ("denied", "modified", "deployIfNotExists"):
                f.detail = f"enforcementMode DoNotEnforce ({f.outcome} otherwise)"
                f.outcome = "notEnforced"
            out.append(f)
        return out


def label_ref(label: str) -> str | None:
    return label.split("/", 1)[1] if "/" in label else None


def _outcome(row: Any) -> str | None:
    if row.denied:
        return "denied"
    if row.compliant is not False:
        return None
    effect = row.effect.lower()
    if effect in ("modify", "append"):
        return "modified"
    if effect == "deployifnotexists":
        return "deployIfNotExists"
    return "audited"  # audit, auditIfNotExists, manual, and effects the resource provider enforces


def _message(props: dict, label: str) -> str:
    ref = label_ref(label)
    general = ""
    for m in props.get("nonComplianceMessages") or []:
        mref = m.get("policyDefinitionReferenceId")
        if mref and ref and mref.lower() == ref.lower():
            return str(m.get("message", ""))
        if not mref:
            general = str(m.get("message", ""))
    return general


def _changes(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """The fields modify/append would change, as JSON paths."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for k in sorted({*before, *after}):
            if k == "id":
                continue
            out.extend(_changes(before.get(k), after.get(k), f"{path}/{k}"))
        return out
    if before == after:
        return []
    return [{"path": path, "before": before, "after": after}]


def _reads_symbolic(pol: Any, resource: dict) -> bool:
    """Does the verdict read a placeholder? Its traced evaluation shows the value, or the verdict changes
    when the placeholders are replaced by another value."""
    traced = pol.evaluate(resource, explain=True)
    if any(SYMBOLIC in line for line in traced.reasons):
        return True
    for probe in ("", "Disabled", "Enabled", None):
        other = pol.evaluate(_replace_symbolic(resource, probe), explain=False)
        if (other.compliant, other.denied) != (traced.compliant, traced.denied):
            return True
    return False


def _replace_symbolic(value: Any, probe: Any) -> Any:
    if isinstance(value, str) and value.startswith(SYMBOLIC):
        return probe
    if isinstance(value, dict):
        return {k: _replace_symbolic(v, probe) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_symbolic(v, probe) for v in value]
    return value


def _exempted(build: Any, name: str, resource: dict, chain: set[str]) -> tuple[list[str], str] | None:
    """(policyDefinitionReferenceIds, exemption name) of an unexpired exemption of `name` covering the resource."""
    from policygen.evaluate.assignment_gate import selected

    now = datetime.now(UTC).isoformat()
    for art in build.exemptions_for(name):
        props = art.properties
        if key(art.scope) not in chain:
            continue
        if props.get("expiresOn") and str(props["expiresOn"]) < now:
            continue
        selectors = props.get("resourceSelectors") or []
        if selectors and not any(selected(s.get("selectors"), resource, None) for s in selectors):
            continue
        return [str(r) for r in props.get("policyDefinitionReferenceIds") or []], art.name
    return None

