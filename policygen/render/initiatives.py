"""Initiative intents → policy set definitions (members, parameter pass-through, groups)."""

from __future__ import annotations

import copy
import difflib
import re
from typing import Any

from policygen.artefacts import Artefact, SourceRef
from policygen.errors import DiagnosticSink
from policygen.intents.load import Loaded
from policygen.intents.models import InitiativeIntent, ParamRef
from policygen.intents.yamlload import to_plain

BUILTIN_PREFIX = "/providers/Microsoft.Authorization/policyDefinitions/"


def render_initiative(
    loaded: Loaded[InitiativeIntent],
    definitions_by_intent: dict[str, list[Artefact]],
    definition_id: Any,
    owner_id: str,
    default_category: str,
    sink: DiagnosticSink,
) -> Artefact | None:
    """`definition_id(name)` gives the ARM id of a local definition at the pack's definition scope."""
    intent, file = loaded.model, loaded.file
    params: dict[str, Any] = {k: v.to_azure() for k, v in intent.parameters.items()}
    group_names = {g.name for g in intent.groups or []}
    members: list[dict[str, Any]] = []
    member_of: list[int] = []  # the YAML member each entry came from (a member fans out per resource type)
    used_refs: set[str] = set()
    ok = True
    for i, member in enumerate(intent.members):
        for g, gname in enumerate(member.groups):
            if gname not in group_names:
                hint = difflib.get_close_matches(gname, sorted(group_names), n=1)
                tip = (f"; did you mean {hint[0]!r}?" if hint
                       else f"; declared: {', '.join(sorted(group_names))}" if group_names else "; none are declared")
                sink.add(file, *loaded.pos("members", i, "groups", g),
                         f"group {gname!r} is not declared in groups{tip}")
                ok = False
        if member.builtin:
            guid = member.builtin.rsplit("/", 1)[-1]
            targets: list[tuple[str, str, dict[str, Any] | None]] = [
                (
                    member.referenceId or guid,
                    BUILTIN_PREFIX + guid if "/" not in member.builtin else member.builtin,
                    None,
                )
            ]
        else:
            arts = definitions_by_intent.get(member.definition or "")
            if arts == []:  # the definition intent itself failed and was reported already
                ok = False
                continue
            if not arts:
                sink.add(
                    file, *loaded.pos("members", i, "definition"), f"no definition intent named {member.definition!r}"
                )
                ok = False
                continue
            targets = []
            for art in arts:
                suffix = art.name[len(art.intent) :]  # "-mlw" for fanned-out definitions
                ref = (member.referenceId + suffix) if member.referenceId else art.name
                targets.append((ref, definition_id(art.name), art.properties.get("parameters") or {}))
        for ref, def_id, def_params in targets:
            if ref in used_refs:
                sink.add(file, *loaded.pos("members", i), f"policyDefinitionReferenceId {ref!r} is used twice")
                ok = False
                continue
            used_refs.add(ref)
            values, member_ok = _member_parameters(loaded, i, member, ref, def_params, params, sink)
            ok &= member_ok
            entry: dict[str, Any] = {
                "policyDefinitionId": def_id,
                "policyDefinitionReferenceId": ref,
                "parameters": values,
            }
            if member.groups or "groups" in member.model_fields_set:  # `groups: []` is written as given
                entry["groupNames"] = list(member.groups)
            if member.definitionVersion:
                entry["definitionVersion"] = member.definitionVersion
            members.append(entry)
            member_of.append(i)
    if not ok:
        return None
    body = {
        "name": loaded.name,
        "properties": {
            "displayName": intent.displayName,
            "description": intent.description,
            "policyType": "Custom",
            "metadata": {
                "category": intent.category or default_category,
                "version": intent.version,
                "pacOwnerId": owner_id,
                "policygen": {"intent": loaded.name, "source": loaded.rel},
                **to_plain(intent.metadata),
            },
            "version": intent.version,
            "parameters": params,
        },
    }
    if "groups" in intent.model_fields_set:  # as given: a list, or null; nothing when the intent names none
        body["properties"]["policyDefinitionGroups"] = (
            None if intent.groups is None else [g.model_dump(exclude_none=True) for g in intent.groups])
    body["properties"]["policyDefinitions"] = members
    pointers = {f"/properties/policyDefinitions/{n}": SourceRef(file, *loaded.pos("members", i))
                for n, i in enumerate(member_of)}  # fmt: skip
    for n, (i, entry) in enumerate(zip(member_of, members, strict=True)):  # a literal value at its own line
        for pname in entry["parameters"]:
            if pname in (intent.members[i].parameters or {}):
                where = loaded.pos("members", i, "parameters", pname)
                pointers[f"/properties/policyDefinitions/{n}/parameters/{pname}"] = SourceRef(file, *where)
    pointers["/properties/version"] = SourceRef(file, *(loaded.pos("version") if "version" in loaded.data
                                                        else loaded.pos()))
    return Artefact("initiative", loaded.name, body, SourceRef(file, *loaded.pos()), loaded.name, pointers=pointers)


def _member_parameters(
    loaded: Loaded[InitiativeIntent],
    i: int,
    member: Any,
    ref: str,
    def_params: dict[str, Any] | None,
    set_params: dict[str, Any],
    sink: DiagnosticSink,
) -> tuple[dict[str, Any], bool]:
    """Map member parameters; each local member's effect becomes an initiative parameter of its own."""
    file, ok = loaded.file, True
    values: dict[str, Any] = {}
    for pname, raw in member.parameters.items():
        raw = to_plain(raw)
        if def_params is not None and pname not in def_params:
            sink.add(
                file,
                *loaded.pos("members", i, "parameters", pname),
                f"definition of member {ref!r} has no parameter {pname!r}; it has: {', '.join(def_params)}",
            )
            ok = False
            continue
        if isinstance(raw, dict) and set(raw) == {"parameter"}:
            target = ParamRef.model_validate(raw).parameter
            if target not in set_params:
                sink.add(
                    file,
                    *loaded.pos("members", i, "parameters", pname),
                    f"initiative parameter {target!r} is not declared under parameters",
                )
                ok = False
                continue
            values[pname] = {"value": f"[parameters('{target}')]"}
        else:
            values[pname] = {"value": raw}
    if def_params is None:
        return values, ok
    if "effect" in def_params and "effect" not in values and member.effectParameter:
        pname = "effect-" + re.sub(r"[^A-Za-z0-9-]", "-", ref)
        spec = copy.deepcopy(def_params["effect"])
        if member.effect:
            match = next((e for e in spec.get("allowedValues", []) if e.lower() == member.effect.lower()), None)
            if match is None:
                sink.add(
                    file,
                    *loaded.pos("members", i, "effect"),
                    f"effect {member.effect!r} is not allowed by {ref!r}: {', '.join(spec.get('allowedValues', []))}",
                )
                ok = False
            else:
                spec["defaultValue"] = match
        spec["metadata"] = {"displayName": f"Effect for {ref}", "description": f"Effect of member {ref}"}
        set_params[pname] = spec
        values["effect"] = {"value": f"[parameters('{pname}')]"}
    for pname, spec in def_params.items():
        if pname not in values and "defaultValue" not in spec:
            sink.add(
                file,
                *loaded.pos("members", i),
                f"member {ref!r} needs a value for parameter {pname!r} (it has no default): "
                f"set members[{i}].parameters.{pname} to a value or {{parameter: <initiative parameter>}}",
            )
            ok = False
    return values, ok
