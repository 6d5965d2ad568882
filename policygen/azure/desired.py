"""The desired state of an environment: the build's objects with ids, plus what each assignment implies.

Besides the three object kinds this derives, per assignment, the role assignments its identity needs (the
`roleDefinitionIds` of its deployIfNotExists/modify members, at the assignment scope and at the scopes named
by parameters marked `assignPermissions`) and the members a remediation task can act on. Which members
remediate comes from policygen.assignment_effects, the rule the exporters use too (effects resolved through
the parameter chain, so a member this assignment sets to Disabled or Audit gets no role and no task)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policygen.arm.scopes import is_scope, key, name_of_id
from policygen.artefacts import Artefact, Build
from policygen.assignment_effects import UNKNOWN, Lookup, Member, member_effect, members, remediates, role_ids
from policygen.azure.target import Target


@dataclass(frozen=True)
class RoleNeed:
    """One role the identity of `assignment` must hold at `scope`."""

    assignment: str  # assignment name
    scope: str
    role_definition_id: str  # as the definitions name it (usually the tenant form)
    because: tuple[str, ...] = ()  # reference ids / definition names that need it

    @property
    def role_guid(self) -> str:
        return name_of_id(self.role_definition_id).lower()

    @property
    def triple_key(self) -> tuple[str, str]:
        return key(self.scope), self.role_guid


@dataclass(frozen=True)
class RemediationNeed:
    """A deployIfNotExists/modify member of an assignment: one remediation task each."""

    assignment: str
    assignment_id: str
    scope: str
    reference_id: str | None  # None when the assignment assigns a single definition
    definition_id: str
    effect: str


@dataclass
class DesiredObject:
    kind: str  # definition | initiative | assignment
    name: str
    id: str
    scope: str
    body: dict[str, Any]  # the REST body to PUT
    source: str = ""
    remediation: dict[str, Any] = field(default_factory=dict)  # assignments: intent's remediation settings
    label: str = ""  # the build's key: `name@scope-label` for one scope's copy of a multi-scope assignment

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.label or self.name}"


@dataclass
class Desired:
    target: Target
    definitions: dict[str, DesiredObject] = field(default_factory=dict)  # key(id) -> object
    initiatives: dict[str, DesiredObject] = field(default_factory=dict)
    assignments: dict[str, DesiredObject] = field(default_factory=dict)
    roles: dict[str, list[RoleNeed]] = field(default_factory=dict)  # key(assignment id) -> needs
    remediations: dict[str, list[RemediationNeed]] = field(default_factory=dict)  # key(assignment id) -> members
    exemptions: dict[str, DesiredObject] = field(default_factory=dict)  # key(id) -> exemption
    rollouts: dict[str, dict[str, Any]] = field(default_factory=dict)  # key(assignment id) -> rollout summary

    def objects(self) -> list[DesiredObject]:
        return [*self.definitions.values(), *self.initiatives.values(), *self.assignments.values(),
                *self.exemptions.values()]

    def builtin_references(self) -> set[str]:
        """Ids of built-in definitions/initiatives the pack references (their bodies are read from Azure)."""
        local = set(self.definitions) | set(self.initiatives)
        refs: set[str] = set()
        for obj in self.initiatives.values():
            for ref in obj.body["properties"].get("policyDefinitions") or []:
                refs.add(ref.get("policyDefinitionId", ""))
        for obj in self.assignments.values():
            refs.add(obj.body["properties"].get("policyDefinitionId", ""))
        return {r for r in refs if r and key(r) not in local}


def _put_body(art: Artefact) -> dict[str, Any]:
    """The REST body without fields ARM sets itself (name comes from the URL, policyType is server-set)."""
    body = dict(art.body)  # shallow: nested values are shared with the build and never mutated
    body.pop("name", None)
    if isinstance(body.get("properties"), dict):
        body["properties"] = {k: v for k, v in body["properties"].items() if k != "policyType"}
    return body


def desired_state(build: Build, target: Target) -> Desired:
    """Ids and bodies of everything the build deploys to `target` (roles/remediation come from `derive`)."""
    out = Desired(target=target)
    for kind, group, dest in (("definition", build.definitions, out.definitions),
                              ("initiative", build.initiatives, out.initiatives)):
        for name in sorted(group):
            art = group[name]
            oid = build.definition_id(kind, name)  # type: ignore[arg-type]
            dest[key(oid)] = DesiredObject(kind, name, oid, build.pack.definition_scope, _put_body(art),
                                           str(art.source))
    for label in sorted(build.assignments):  # the build's key: the name, or name@scope for a multi-scope copy
        art = build.assignments[label]
        scope = (art.scope or "").rstrip("/")
        oid = art.assignment_id
        out.assignments[key(oid)] = DesiredObject("assignment", art.name, oid, scope, _put_body(art), str(art.source),
                                                  dict(art.remediation or {}), label)
        if art.rollout:
            out.rollouts[key(oid)] = dict(art.rollout)
    for label in sorted(build.exemptions):  # the build's key: name@scope for one scope of a multi-scope one
        art = build.exemptions[label]
        scope = (art.scope or "").rstrip("/")
        oid = art.arm_id
        out.exemptions[key(oid)] = DesiredObject("exemption", art.name, oid, scope, _put_body(art), str(art.source),
                                                 label=label)
    return out


# --------------------------------------------------------------------------- role and remediation needs


def _permission_scopes(member: Member) -> list[str]:
    """Values of the member's parameters marked `assignPermissions` that are ARM scopes."""
    out = []
    for name, spec in ((member.definition.get("properties") or {}).get("parameters") or {}).items():
        if isinstance(spec, dict) and (spec.get("metadata") or {}).get("assignPermissions") is True:
            value = member.parameters.get(name)
            for v in value if isinstance(value, list) else [value]:
                if is_scope(v):
                    out.append(str(v).rstrip("/"))
    return out


def derive(desired: Desired, lookup: Lookup) -> list[str]:
    """Fill `desired.roles` and `desired.remediations`; returns warnings (unresolvable references)."""
    local: dict[str, dict[str, Any]] = {k: o.body for k, o in {**desired.definitions, **desired.initiatives}.items()}

    def find(object_id: str) -> dict[str, Any] | None:
        return local.get(key(object_id)) or lookup(object_id)

    warnings: list[str] = []
    for akey, assignment in desired.assignments.items():
        runs = members(assignment.body, find)
        if runs is None:
            target_id = assignment.body["properties"].get("policyDefinitionId")
            warnings.append(f"{assignment.address}: cannot read {target_id}: cannot derive its roles and remediation")
            runs = []
        has_identity = str((assignment.body.get("identity") or {}).get("type", "None")).lower() != "none"
        needs: dict[tuple[str, str], RoleNeed] = {}
        remediation: list[RemediationNeed] = []
        for member in runs:
            if not remediates(member):  # an UNKNOWN effect keeps the roles the definition asks for
                continue
            effect = member_effect(member)
            effect_name = "unknown" if effect is UNKNOWN else str(effect)
            roles = role_ids(member)
            label = member.reference_id or name_of_id(member.definition_id)
            remediation.append(RemediationNeed(assignment.label or assignment.name, assignment.id, assignment.scope,
                                               member.reference_id,
                                               member.definition_id, effect_name))
            if not has_identity:
                continue
            for scope in [assignment.scope, *_permission_scopes(member)]:
                for role in roles:
                    need = RoleNeed(assignment.label or assignment.name, scope, role, (label,))
                    prev = needs.get(need.triple_key)
                    needs[need.triple_key] = need if prev is None else RoleNeed(
                        prev.assignment, prev.scope, prev.role_definition_id, tuple(sorted({*prev.because, label})))
        desired.roles[akey] = [needs[k] for k in sorted(needs)]
        desired.remediations[akey] = sorted(remediation, key=lambda r: r.reference_id or "")
    return warnings
