"""Exemption intents -> policy exemptions (`Microsoft.Authorization/policyExemptions`, REST form).

Checked at build time, so nothing Azure would refuse (or that would silently exempt nothing) reaches a plan:
the assignment must exist (an intent of this pack, or a full assignment id), the reference ids must be
members of its initiative, the scope must be at or below the assignment's scope and outside its notScopes
(unless `assignmentScopeValidation: DoNotValidate`; below a management group only Azure knows the
hierarchy), and `expiresOn` must lie in the future.
Source: https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import Any

from policygen.arm.scopes import ScopeError, ScopeKind, parse_scope
from policygen.artefacts import Artefact, SourceRef
from policygen.errors import DiagnosticSink
from policygen.intents.lifecycle import ExemptionIntent, iso_utc
from policygen.intents.load import Loaded
from policygen.intents.models import EnvironmentSpec
from policygen.intents.yamlload import to_plain
from policygen.render.assignments import resolve_scope, scope_label

ASSIGNMENT_SEGMENT = "/providers/microsoft.authorization/policyassignments/"


def render_exemptions(loaded: Loaded[ExemptionIntent], env: EnvironmentSpec | None, env_name: str | None,
                      assignments: dict[str, Artefact], initiatives: dict[str, Artefact], owner_id: str,
                      sink: DiagnosticSink, now: datetime | None = None) -> list[Artefact]:
    """One exemption per scope of the intent, all with its name (ARM names an exemption per scope, as EPAC's
    `scopes` list deploys them); each copy keyed `name@label` when there are several. Empty after a problem."""
    intent = loaded.model
    if isinstance(intent.scope, str):
        art = render_exemption(loaded, env, env_name, assignments, initiatives, owner_id, sink, now)
        return [] if art is None else [art]
    labels = [scope_label(s) for s in intent.scope]
    if len(set(labels)) != len(labels):
        sink.add(loaded.file, *loaded.pos("scope"), "two scopes of this exemption end alike: use scope keys")
        return []
    out = []
    for i, value in enumerate(intent.scope):
        art = render_exemption(loaded, env, env_name, assignments, initiatives, owner_id, sink, now,
                               at=(value, ("scope", i)), key=f"{loaded.name}@{labels[i]}")
        if art is None:
            return []
        out.append(art)
    return out


def render_exemption(loaded: Loaded[ExemptionIntent], env: EnvironmentSpec | None, env_name: str | None,
                     assignments: dict[str, Artefact], initiatives: dict[str, Artefact], owner_id: str,
                     sink: DiagnosticSink, now: datetime | None = None,
                     at: tuple[str, tuple[Any, ...]] | None = None, key: str | None = None) -> Artefact | None:
    """One scope of an exemption intent (`at`: the scope as written and where; default its only scope)."""
    intent, file = loaded.model, loaded.file
    ok = True
    value, where = at or (str(intent.scope), ("scope",))

    def add(loc: tuple[Any, ...], message: str) -> None:
        nonlocal ok
        sink.add(file, *(loaded.pos(*loc) if loc and loc[0] in loaded.data else loaded.pos()), message)
        ok = False

    scope = resolve_scope(value, env)
    if scope is None:
        keys = ", ".join(sorted(env.scopes)) if env else "none (no environment)"
        add(where, f"scope {value!r} is neither an ARM id nor a scope key of environment "
            f"{env_name!r} (keys: {keys})")
    else:
        try:
            parse_scope(scope)
        except ScopeError as exc:
            add(where, f"scope {value!r} is not an ARM scope or resource id: {exc}")
            scope = None
    assignment_id, asg, ambiguous = _assignment(intent.assignment, assignments, scope)
    if ambiguous:
        add(("assignment",), ambiguous)
        assignment_id = None
    elif assignment_id is None:
        hint = difflib.get_close_matches(intent.assignment, assignments, n=1)
        add(("assignment",), f"no assignment named {intent.assignment!r}" +
            (f"; did you mean {hint[0]!r}?" if hint else "") + " (an assignment intent name or a full id)")
    if asg is not None:
        refs = _reference_ids(asg, initiatives)
        for i, ref in enumerate(intent.policyDefinitionReferenceIds):
            if refs is None:
                add(("policyDefinitionReferenceIds", i),
                    f"{asg.name} assigns a single definition: it has no policyDefinitionReferenceIds")
                break
            if ref not in refs:
                hint = difflib.get_close_matches(ref, sorted(refs), n=1)
                add(("policyDefinitionReferenceIds", i), f"{asg.name} has no member {ref!r}" +
                    (f"; did you mean {hint[0]!r}?" if hint else ""))
        if scope is not None and intent.assignmentScopeValidation == "Default":
            problem = _outside(scope, asg)
            if problem:
                add(where, problem)
    expires = intent.expires
    if expires is not None and expires <= (now or datetime.now(UTC)):
        add(("expiresOn",), f"expiresOn {iso_utc(expires)} is in the past: renew it with a new date or delete "
            "the exemption")
    if not ok or scope is None or assignment_id is None:
        return None
    props: dict[str, Any] = {
        "displayName": intent.displayName,
        "description": intent.description,
        "policyAssignmentId": assignment_id,
        "exemptionCategory": intent.category,
        "assignmentScopeValidation": intent.assignmentScopeValidation,
        "metadata": {
            "pacOwnerId": owner_id,
            "policygen": {"intent": loaded.name, "source": loaded.rel, "scope": intent.scope},
            **to_plain(intent.metadata),
        },
    }
    if intent.policyDefinitionReferenceIds:
        props["policyDefinitionReferenceIds"] = list(intent.policyDefinitionReferenceIds)
    if expires is not None:
        props["expiresOn"] = iso_utc(expires)
    if intent.resourceSelectors:
        props["resourceSelectors"] = [s.to_azure() for s in intent.resourceSelectors]
    return Artefact("exemption", loaded.name, {"name": loaded.name, "properties": props},
                    SourceRef(file, *loaded.pos()), loaded.name, scope=scope, key=key or loaded.name,
                    placement={"scope": value, "assignment": asg.key if asg else None},
                    pointers={"/properties/expiresOn": SourceRef(file, *loaded.pos("expiresOn"))}
                    if "expiresOn" in loaded.data else {})


def _assignment(value: str, assignments: dict[str, Artefact],
                scope: str | None) -> tuple[str | None, Artefact | None, str | None]:
    """(policy assignment id, our artefact when it is ours, why it is ambiguous) for an intent name, a build
    key (`name@label`) or a full id. A name assigned at several scopes resolves to the copy at or above the
    exemption's scope (the nearest); when the scope ids cannot tell, the intent must say which."""
    if value in assignments:
        art = assignments[value]
        return art.assignment_id, art, None
    copies = [assignments[k] for k in sorted(assignments) if assignments[k].name == value]
    if copies:
        return _nearest(value, copies, scope)
    low = value.lower()
    if ASSIGNMENT_SEGMENT in low:
        for art in assignments.values():
            if art.assignment_id.lower() == low.rstrip("/"):
                return art.assignment_id, art, None
        return value.rstrip("/"), None, None  # another pack's (or a portal) assignment: Azure checks it at apply
    return None, None, None


def _nearest(value: str, copies: list[Artefact],
             scope: str | None) -> tuple[str | None, Artefact | None, str | None]:
    if len(copies) == 1:
        return copies[0].assignment_id, copies[0], None
    above: list[tuple[int, Artefact]] = []
    if scope is not None:
        target = parse_scope(scope)
        for art in copies:
            at = parse_scope(art.scope or "")
            if at.contains(target):
                above.append((len(at.chain()), art))
    if above:
        above.sort(key=lambda pair: pair[0])
        if len(above) == 1 or above[-1][0] != above[-2][0]:
            art = above[-1][1]
            return art.assignment_id, art, None
    keys = ", ".join(a.key for a in copies)
    return None, None, (f"assignment {value!r} is assigned at {len(copies)} scopes and the exemption's scope does not "
                        f"tell which copy it exempts: name one ({keys}) or give the full assignment id")


def _reference_ids(asg: Artefact, initiatives: dict[str, Artefact]) -> set[str] | None:
    """The members of the assignment's initiative, or None when it assigns a single definition."""
    definition_id = str(asg.properties.get("policyDefinitionId", ""))
    if "/policysetdefinitions/" not in definition_id.lower():
        return None
    art = initiatives.get(definition_id.rsplit("/", 1)[-1])
    if art is None:
        return None
    return {m["policyDefinitionReferenceId"] for m in art.properties["policyDefinitions"]}


def _outside(scope: str, asg: Artefact) -> str | None:
    """Why `scope` is not covered by the assignment (None when it is, or when only the management-group
    hierarchy could tell: an id does not say which management group a subscription sits in, so that case is
    left to Azure, which checks it at apply)."""
    target = parse_scope(scope)
    at = parse_scope(asg.scope or "")
    decidable = at.kind is not ScopeKind.MANAGEMENT_GROUP or target.kind is ScopeKind.TENANT
    if decidable and not at.contains(target):
        return (f"scope {scope} is outside assignment {asg.name}'s scope {asg.scope} (set "
                "assignmentScopeValidation: DoNotValidate only for a scope moving between management groups)")
    for ns in asg.properties.get("notScopes") or []:
        if parse_scope(ns).contains(target):
            return f"scope {scope} is already excluded from {asg.name} by notScope {ns}"
    return None


def place_exemption(art: Artefact, assignment_scope: str | None, env_name: str, env: dict[str, Any]) -> \
        tuple[str, str]:
    """(scope, policyAssignmentId) of a rendered exemption in environment `env_name` (its raw spec), given
    where its assignment lands there (None: an assignment outside the pack, whose id is kept)."""
    from policygen.errors import InputError

    spec = EnvironmentSpec.model_validate(env)
    raw = (art.placement or {}).get("scope") or art.scope or ""
    scope = resolve_scope(raw, spec)
    if scope is None:
        raise InputError(f"{art.source}: scope {raw!r} is not a scope key of environment {env_name!r} "
                         f"(keys: {', '.join(sorted(spec.scopes)) or 'none'})")
    asg = (art.placement or {}).get("assignment")
    assignment_id = art.properties["policyAssignmentId"]
    if asg and assignment_scope:
        name = assignment_id.rstrip("/").rsplit("/", 1)[-1]  # `asg` is the build key (name@label for a copy)
        assignment_id = f"{assignment_scope.rstrip('/')}/providers/Microsoft.Authorization/policyAssignments/{name}"
    return scope, assignment_id
