"""Assignment intents → policy assignments (scope, parameters, identity, messages, remediation)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from policygen.arm import effects
from policygen.arm.scopes import ScopeError, ScopeKind, parse_scope
from policygen.artefacts import Artefact, SourceRef
from policygen.errors import DiagnosticSink
from policygen.intents.load import Loaded
from policygen.intents.models import AssignmentIntent, EnvironmentSpec
from policygen.intents.yamlload import to_plain
from policygen.render.rollout import lifecycle_fields

BUILTIN_PREFIX = "/providers/Microsoft.Authorization/policyDefinitions/"


def resolve_scope(value: str, env: EnvironmentSpec | None) -> str | None:
    """A full ARM scope id, or a scope key of the environment; None when it cannot be resolved."""
    if value.startswith("/"):
        return value.rstrip("/")
    if env and value in env.scopes:
        return env.scopes[value].rstrip("/")
    return None


def max_name_length(scope: str) -> int:
    """Assignment names are limited to 24 characters at management-group scope, 64 elsewhere."""
    try:
        at_mg = parse_scope(scope).kind is ScopeKind.MANAGEMENT_GROUP
    except ScopeError:
        at_mg = False
    return 24 if at_mg else 64


@dataclass(frozen=True)
class Placement:
    """Where an assignment intent goes before an environment resolves it: kept on the artefact so one
    build can be placed in every environment of the pack (EPAC's pacSelectors) without compiling again."""

    scope: str  # an ARM id or a scope key
    scope_at: SourceRef
    not_scopes: tuple[tuple[str, SourceRef], ...]
    location: str | None  # the intent's identity.location (default: the environment's identityLocation)
    name_at: SourceRef


def place(art: Artefact, env_name: str, env: dict[str, Any]) -> tuple[str, list[str], str | None]:
    """(scope, notScopes, identity location) of a rendered assignment in environment `env_name` (its raw
    `policygen.yaml` spec), checked as `render_assignment` checks them; InputError otherwise."""
    spec = EnvironmentSpec.model_validate(env)
    sink = DiagnosticSink()
    scope, not_scopes, _ = _resolve(art.placement, art.name, spec, env_name, sink)
    sink.raise_if_any()
    location = (art.placement.location or spec.identityLocation) if "location" in art.body else None
    return scope or "", not_scopes, location


def _resolve(p: Placement, name: str, env: EnvironmentSpec | None, env_name: str | None,
             sink: DiagnosticSink) -> tuple[str | None, list[str], bool]:
    ok = True
    scope = resolve_scope(p.scope, env)
    if scope is None:
        keys = ", ".join(sorted(env.scopes)) if env else "none (no environment)"
        sink.add(
            p.scope_at.file,
            p.scope_at.line,
            p.scope_at.col,
            f"scope {p.scope!r} is neither an ARM id nor a scope key of environment {env_name!r} (keys: {keys})",
        )
        ok = False
    not_scopes = []
    for ns, at in p.not_scopes:
        resolved = resolve_scope(ns, env)
        if resolved is None:
            sink.add(at.file, at.line, at.col, f"notScope {ns!r} is neither an ARM id nor a scope key")
            ok = False
        else:
            not_scopes.append(resolved)
    limit = max_name_length(scope or "")
    if len(name) > limit:
        sink.add(
            p.name_at.file,
            p.name_at.line,
            p.name_at.col,
            f"assignment name {name!r} is {len(name)} characters; Azure allows {limit} at "
            f"{'management-group' if limit == 24 else 'this'} scope",
        )
        ok = False
    return scope, not_scopes, ok


def scope_label(value: str) -> str:
    """How a copy of a multi-scope assignment is told apart in file names and plan addresses: its scope key,
    or the last segment of an ARM id (e.g. `deny-rdp@prod`)."""
    if not value.startswith("/"):
        return value
    return re.sub(r"[^A-Za-z0-9._-]+", "-", value.rstrip("/").rsplit("/", 1)[-1]).strip("-") or "root"


@dataclass(frozen=True)
class Targets:
    """What an assignment intent is rendered against: the environment, the pack's definitions and
    initiatives, how a definition's id is formed, the owner marker, and where problems are added."""

    env: EnvironmentSpec | None
    env_name: str | None
    definitions: dict[str, Artefact]
    definitions_by_intent: dict[str, list[Artefact]]
    initiatives: dict[str, Artefact]
    definition_id: Any
    owner_id: str
    sink: DiagnosticSink


def render_assignments(loaded: Loaded[AssignmentIntent], targets: Targets, keyed: bool = False) -> list[Artefact]:
    """One assignment per scope of the intent, all with the intent's name (ARM names an assignment per
    scope); the build keys a copy `name@label` when the intent has several scopes, or (`keyed`) when other
    intents assign the same name elsewhere. Empty after a problem."""
    intent, sink = loaded.model, targets.sink
    many = not isinstance(intent.scope, str) or keyed
    if isinstance(intent.notScopes, dict) and set(intent.notScopes) - set(intent.scopes):
        for extra in sorted(set(intent.notScopes) - set(intent.scopes)):  # a typo would silently exclude nothing
            sink.add(loaded.file, *loaded.key_pos("notScopes", extra),
                     f"notScopes: {extra!r} is not one of this assignment's scopes ({', '.join(intent.scopes)})")
        return []
    labels: dict[str, str] = {}
    for i, value in enumerate(intent.scopes):
        label = scope_label(value)
        if label in labels.values():
            sink.add(loaded.file, *loaded.pos("scope", i),
                     f"scope {value!r} ends like another scope of this assignment ({label!r}): use scope keys")
            return []
        labels[value] = label
    out: list[Artefact] = []
    for i, value in enumerate(intent.scopes):
        if isinstance(intent.notScopes, dict):
            not_scopes = tuple((ns, SourceRef(loaded.file, *loaded.pos("notScopes", value, j)))
                               for j, ns in enumerate(intent.notScopes.get(value, [])))
        else:
            not_scopes = tuple((ns, SourceRef(loaded.file, *loaded.pos("notScopes", j)))
                               for j, ns in enumerate(intent.notScopes))
        where = SourceRef(loaded.file, *(loaded.pos("scope") if isinstance(intent.scope, str) else
                                         loaded.pos("scope", i)))
        art = render_assignment(loaded, targets, (value, where, not_scopes),
                                f"{loaded.name}@{labels[value]}" if many else loaded.name)
        if art is None:
            return []
        out.append(art)
    return out


def render_assignment(
    loaded: Loaded[AssignmentIntent],
    targets: Targets,
    at: tuple[str, SourceRef, tuple[tuple[str, SourceRef], ...]],
    key: str,
) -> Artefact | None:
    """One scope of an assignment intent (`at`: the scope as written, where, its notScopes) as a REST body,
    or None after adding every problem it has to `targets.sink`."""
    t = targets
    env, env_name, definitions, initiatives, sink = t.env, t.env_name, t.definitions, t.initiatives, t.sink
    definitions_by_intent, definition_id, owner_id = t.definitions_by_intent, t.definition_id, t.owner_id
    intent, file = loaded.model, loaded.file
    placement = Placement(
        at[0],
        at[1],
        at[2],
        intent.identity.location if intent.identity else None,
        SourceRef(file, *(loaded.pos("name") if "name" in loaded.data else loaded.pos())),
    )
    scope, not_scopes, ok = _resolve(placement, loaded.name, env, env_name, sink)
    target = _target(loaded, definitions_by_intent, initiatives, definition_id, sink)
    if target is None or scope is None:
        return None
    policy_id, params_decl, members = target
    values, values_ok = _parameter_values(loaded, policy_id, params_decl, sink)
    problems: list[str] = []

    def add(loc: tuple[Any, ...], message: str) -> None:
        at = loaded.pos(*loc) if _has(loaded.data, loc) else loaded.pos()
        sink.add(file, *at, message)
        problems.append(message)

    initiative_art = initiatives.get(intent.initiative or "")
    extra, rollout = lifecycle_fields(loaded, initiative_art.body if initiative_art else None, params_decl, values,
                                      add)
    needs_identity = any(_remediates(definitions.get(m)) for m in members)
    identity_ok = _identity_ok(loaded, needs_identity, sink)
    if not (ok and values_ok and not problems and identity_ok):
        return None
    if not _messages_ok(loaded, initiative_art, policy_id, sink):
        return None
    body: dict[str, Any] = {"name": loaded.name, **_identity_block(intent, env, needs_identity)}
    messages = [m.model_dump(exclude_none=True) for m in intent.nonComplianceMessages]
    props: dict[str, Any] = {
        "displayName": intent.displayName,
        "description": intent.description,
        "policyDefinitionId": policy_id,
        "enforcementMode": intent.enforcementMode,
        "parameters": values,
        "notScopes": not_scopes,
        "metadata": {
            "pacOwnerId": owner_id,
            "assignedBy": "policygen",
            "policygen": {"intent": loaded.name, "source": loaded.rel, "scope": intent.scope},
            **to_plain(intent.metadata),
        },
    }
    props.update(extra)
    messages += _member_messages(initiative_art, definitions, messages)
    if messages:
        props["nonComplianceMessages"] = messages
    body["properties"] = props
    return Artefact(
        "assignment",
        loaded.name,
        body,
        SourceRef(file, *loaded.pos()),
        loaded.name,
        scope=scope,
        remediation=intent.remediation.model_dump(exclude_none=True),
        pointers=_pointers(loaded),
        placement=placement,
        rollout=rollout,
        key=key,
    )


def _parameter_values(
    loaded: Loaded[AssignmentIntent], policy_id: str, params_decl: dict[str, Any] | None, sink: DiagnosticSink
) -> tuple[dict[str, Any], bool]:
    """`{name: {"value": v}}` for the intent's parameters; unknown names and missing required ones reported."""
    file, ok = loaded.file, True
    values: dict[str, Any] = {}
    for pname, value in loaded.model.parameters.items():
        if params_decl is not None and pname not in params_decl:
            hint = difflib.get_close_matches(pname, params_decl, n=1)
            tip = f"; did you mean {hint[0]!r}?" if hint else ""
            sink.add(
                file,
                *loaded.key_pos("parameters", pname),
                f"{policy_id.rsplit('/', 1)[-1]} has no parameter {pname!r}{tip}",
            )
            ok = False
            continue
        values[pname] = {"value": to_plain(value)}
    for pname, spec in (params_decl or {}).items():
        if pname not in values and "defaultValue" not in spec:
            sink.add(
                file,
                *loaded.key_pos("parameters") if "parameters" in loaded.data else loaded.pos(),
                f"parameter {pname!r} has no default: set parameters.{pname}",
            )
            ok = False
    return values, ok


def _identity_ok(loaded: Loaded[AssignmentIntent], needs_identity: bool, sink: DiagnosticSink) -> bool:
    identity = loaded.model.identity
    if needs_identity and identity is not None and identity.type == "None":
        sink.add(
            loaded.file,
            *loaded.pos("identity"),
            "this assignment contains deployIfNotExists/modify policies: it needs a managed identity",
        )
        return False
    return True


def _identity_block(intent: AssignmentIntent, env: EnvironmentSpec | None, needs_identity: bool) -> dict[str, Any]:
    """`identity` and `location` when the intent asks for an identity or a member remediates."""
    identity = intent.identity
    if not (identity is not None and identity.type != "None" or identity is None and needs_identity):
        return {}
    location = (identity.location if identity else None) or (env.identityLocation if env else "westeurope")
    if identity is not None and identity.type == "UserAssigned":
        block = {"type": "UserAssigned", "userAssignedIdentities": {identity.userAssignedIdentity: {}}}
    else:
        block = {"type": "SystemAssigned"}
    return {"identity": block, "location": location}


def _messages_ok(
    loaded: Loaded[AssignmentIntent], initiative_art: Artefact | None, policy_id: str, sink: DiagnosticSink
) -> bool:
    """Every non-compliance message names a member the initiative has (stops at the first that does not)."""
    if initiative_art is None:
        return True
    refs = {m["policyDefinitionReferenceId"] for m in initiative_art.properties["policyDefinitions"]}
    for i, msg in enumerate(loaded.model.nonComplianceMessages):
        if msg.policyDefinitionReferenceId and msg.policyDefinitionReferenceId not in refs:
            sink.add(
                loaded.file,
                *loaded.pos("nonComplianceMessages", i, "policyDefinitionReferenceId"),
                f"no member with policyDefinitionReferenceId {msg.policyDefinitionReferenceId!r} "
                f"in {policy_id.rsplit('/', 1)[-1]}",
            )
            return False
    return True


def _pointers(loaded: Loaded[AssignmentIntent]) -> dict[str, SourceRef]:
    """Where the body's parts came from in the YAML, for validator findings."""
    file = loaded.file
    here = SourceRef(file, *loaded.pos())
    pointers = {
        "/properties/parameters": SourceRef(file, *loaded.pos("parameters")) if "parameters" in loaded.data else here,
        "/name": SourceRef(file, *loaded.pos("name")) if "name" in loaded.data else here,
    }
    for pname in loaded.model.parameters:
        pointers[f"/properties/parameters/{pname}"] = SourceRef(file, *loaded.pos("parameters", pname))
    return pointers


def _has(data: Any, loc: tuple[Any, ...]) -> bool:
    """Whether the located YAML has `loc` (so a message can point at it rather than at the file)."""
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _remediates(art: Artefact | None) -> bool:
    if art is None:
        return False
    allowed = art.properties.get("parameters", {}).get("effect", {}).get("allowedValues", [])
    return any(isinstance(v, str) and v.lower() in effects.REMEDIATING for v in allowed)


def _target(
    loaded: Loaded[AssignmentIntent],
    definitions_by_intent: dict[str, list[Artefact]],
    initiatives: dict[str, Artefact],
    definition_id: Any,
    sink: DiagnosticSink,
) -> tuple[str, dict[str, Any] | None, list[str]] | None:
    """(policyDefinitionId, declared parameters or None if unknown, local member definition names)."""
    intent, file = loaded.model, loaded.file
    if intent.initiative:
        art = initiatives.get(intent.initiative)
        if art is None:
            hint = difflib.get_close_matches(intent.initiative, initiatives, n=1)
            sink.add(
                file,
                *loaded.pos("initiative"),
                f"no initiative named {intent.initiative!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
            )
            return None
        members = [m["policyDefinitionId"].rsplit("/", 1)[-1] for m in art.properties["policyDefinitions"]]
        return definition_id("initiative", art.name), art.properties["parameters"], members
    if intent.definition:
        arts = definitions_by_intent.get(intent.definition, [])
        if len(arts) != 1:
            msg = (
                f"no definition intent named {intent.definition!r}"
                if not arts
                else f"{intent.definition!r} renders {len(arts)} definitions ({', '.join(a.name for a in arts)})"
                "; assign an initiative instead"
            )
            sink.add(file, *loaded.pos("definition"), msg)
            return None
        return definition_id("definition", arts[0].name), arts[0].properties["parameters"], [arts[0].name]
    builtin = intent.builtin or ""
    return (builtin if builtin.startswith("/") else BUILTIN_PREFIX + builtin), None, []


def _member_messages(
    initiative: Artefact | None, definitions: dict[str, Artefact], given: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per-member messages from definition intents, unless the assignment already sets one for that member."""
    if initiative is None:
        return []
    taken = {m.get("policyDefinitionReferenceId") for m in given}
    out = []
    for member in initiative.properties["policyDefinitions"]:
        ref = member["policyDefinitionReferenceId"]
        art = definitions.get(member["policyDefinitionId"].rsplit("/", 1)[-1])
        if art is not None and art.non_compliance_message and ref not in taken:
            out.append({"message": art.non_compliance_message, "policyDefinitionReferenceId": ref})
    return out
