"""Definition intents → policy definitions (one per resource type unless the kind combines types)."""

from __future__ import annotations

import copy
import difflib
import json
from typing import Any

import jinja2

from policygen.artefacts import Artefact, Expectation, SourceRef, TestCase
from policygen.errors import DiagnosticSink
from policygen.intents.kinds import Kind, Table
from policygen.intents.load import Loaded
from policygen.intents.models import DefinitionIntent
from policygen.intents.yamlload import LocatedDict, LocatedList, to_plain
from policygen.render.environment import make_environment
from policygen.render.settings_check import certainly_valid

MAX_NAME = 64


def render_definition_intent(
    loaded: Loaded[DefinitionIntent], table: Table, owner_id: str, default_category: str, sink: DiagnosticSink
) -> tuple[list[Artefact], list[TestCase]]:
    """Render one intent; problems go to `sink` (positioned at the YAML key that caused them)."""
    intent, file = loaded.model, loaded.file
    kind = table.kinds.get(intent.intent)
    if kind is None:
        hint = difflib.get_close_matches(intent.intent, table.kinds, n=1)
        tip = f"; did you mean {hint[0]!r}?" if hint else f"; known kinds: {', '.join(sorted(table.kinds))}"
        sink.add(file, *loaded.pos("intent"), f"unknown intent kind {intent.intent!r}{tip}")
        return [], []
    settings = _settings(loaded, kind, sink)
    if settings is not None and "effect" in settings and intent.effect is not None:
        sink.add(file, *loaded.pos("effect"), "effect and settings.effect are both given: settings.effect fixes "
                 "the rule's effect (no effect parameter), effect declares the parameter; keep one")
        return [], []
    effect = intent.effect.model_dump() if intent.effect else dict(kind.effects)
    rows = _rows(loaded, kind, sink)
    if settings is None or rows is None or not _effects_ok(loaded, kind, effect, rows, sink):
        return [], []
    effect_ctx = {**effect, "modify": "Modify" in effect["allowed"]}
    groups = [rows] if kind.combine_types or len(rows) <= 1 else [[r] for r in rows]
    shorts = short_names([r["type"] for r in rows], table)
    arts: list[Artefact] = []
    by_type: dict[str, Artefact] = {}
    for group in groups:
        row = group[0]
        name = loaded.name if len(groups) == 1 else f"{loaded.name}-{shorts[row['type'].lower()]}"
        if len(name) > MAX_NAME:
            sink.add(
                file,
                *loaded.pos("name"),
                f"definition name {name!r} is {len(name)} characters; Azure allows {MAX_NAME}",
            )
            continue
        rendered = _render(
            kind,
            {
                "row": _resolve_roles(row, table),
                "types": group,
                "settings": settings,
                "effect": effect_ctx,
                "name": name,
            },
            loaded,
            sink,
        )
        if rendered is None:
            continue
        pointers = _pointers(loaded)
        if kind.name == "custom" and row["type"] != "*":
            scoped = _scope_to_type(rendered["if"], row["type"], loaded, sink)
            if scoped is None:
                continue
            if scoped is not rendered["if"]:
                rendered["if"] = scoped
                pointers = _rebased(pointers, loaded, row["index"])
        body = _envelope(loaded, kind, name, row, group, table, settings, effect, rendered, owner_id, default_category)
        art = Artefact(
            "definition",
            name,
            body,
            SourceRef(file, *loaded.pos()),
            loaded.name,
            non_compliance_message=intent.nonComplianceMessage,
            pointers=pointers,
        )
        arts.append(art)
        for r in group:
            by_type[r["type"].lower()] = art
    if not arts:
        return [], []
    return arts, _tests(loaded, arts, by_type, sink)


def _settings(loaded: Loaded[DefinitionIntent], kind: Kind, sink: DiagnosticSink) -> dict[str, Any] | None:
    settings = to_plain(loaded.model.settings)
    schema = kind.settings_schema()
    ok = True
    for err in [] if certainly_valid(settings, schema) else _schema_errors(schema, settings):
        where = ".".join(str(p) for p in ("settings", *err.path))
        if err.validator == "additionalProperties":
            extra = sorted(set(settings) - set(kind.settings))
            for key in extra:
                hint = difflib.get_close_matches(key, kind.settings, n=1)
                tip = (
                    f"; did you mean {hint[0]!r}?"
                    if hint
                    else (
                        f"; {kind.name} takes: {', '.join(kind.settings)}"
                        if kind.settings
                        else f"; {kind.name} takes no settings"
                    )
                )
                sink.add(loaded.file, *loaded.key_pos("settings", key), f"unknown setting {key!r}{tip}")
        else:
            sink.add(loaded.file, *loaded.pos("settings", *err.path), f"{where}: {err.message}")
        ok = False
    if not ok:
        return None
    out = {k: copy.deepcopy(spec["default"]) for k, spec in kind.settings.items() if "default" in spec}
    out.update(settings)
    return out


def _schema_errors(schema: dict[str, Any], settings: Any) -> list[Any]:
    """jsonschema's errors, by path (imported only when settings may be invalid: settings_check)."""
    import jsonschema

    return sorted(jsonschema.Draft202012Validator(schema).iter_errors(settings), key=lambda e: list(e.path))


def _rows(loaded: Loaded[DefinitionIntent], kind: Kind, sink: DiagnosticSink) -> list[dict[str, Any]] | None:
    if kind.name == "custom":
        types = loaded.model.resourceTypes or ["*"]
        seen: dict[str, int] = {}
        for i, t in enumerate(loaded.model.resourceTypes):
            if t.lower() in seen:
                sink.add(loaded.file, *loaded.pos("resourceTypes", i),
                         f"resource type {t!r} is listed twice (also resourceTypes[{seen[t.lower()]}])")
                return None
            seen[t.lower()] = i
        return [{"type": t, "mode": None, "index": i} for i, t in enumerate(types)]
    if not loaded.model.resourceTypes:
        sink.add(
            loaded.file, *loaded.pos(), f"intent {kind.name!r} needs resourceTypes; supported: {', '.join(kind.types)}"
        )
        return None
    rows, ok = [], True
    for i, rtype in enumerate(loaded.model.resourceTypes):
        row = kind.row(rtype)
        if row is None:
            sink.add(
                loaded.file,
                *loaded.pos("resourceTypes", i),
                f"intent {kind.name!r} has no row for {rtype!r}; supported: {', '.join(kind.types)}",
            )
            ok = False
        else:
            rows.append(row)
    return rows if ok else None


def _effects_ok(
    loaded: Loaded[DefinitionIntent],
    kind: Kind,
    effect: dict[str, Any],
    rows: list[dict[str, Any]],
    sink: DiagnosticSink,
) -> bool:
    supported = set(kind.effects["allowed"])
    if kind.name == "custom":
        return True
    if all(all("set" in c for c in r.get("checks", [])) and r.get("checks") for r in rows):
        supported.add("Modify")
    bad = [e for e in effect["allowed"] if e not in supported]
    if bad:
        why = ""
        if "Modify" in bad:
            cannot = [r["type"] for r in rows if not r.get("checks") or not all("set" in c for c in r["checks"])]
            why = f" (Modify cannot remediate {', '.join(cannot)})"
        sink.add(
            loaded.file,
            *loaded.pos("effect"),
            f"effect(s) {', '.join(bad)} not supported by intent {kind.name!r}{why}; "
            f"supported: {', '.join(sorted(supported))}",
        )
        return False
    if "Modify" in effect["allowed"] and {"Deny", "DeployIfNotExists", "Append"} & set(effect["allowed"]):
        sink.add(
            loaded.file,
            *loaded.pos("effect"),
            "a Modify variant may only also allow Audit and Disabled; write a separate audit/deny intent",
        )
        return False
    return True


def short_names(types: list[str], table: Table) -> dict[str, str]:
    """Lower-cased type → the suffix of its fanned-out definition name: the table's short name, else the type's
    last segment in full; types whose suffixes collide get their namespace (then parent types) prefixed."""

    def candidate(rtype: str, depth: int) -> str:
        namespace, *segments = rtype.lower().split("/")
        if depth == 0:
            return table.type_info(rtype)["short"]
        if depth > len(segments):
            return rtype.lower().replace("/", "-").replace(".", "-")
        return "-".join([namespace.rsplit(".", 1)[-1], *segments[-depth:]])

    out: dict[str, str] = {}
    pending = {t.lower(): t for t in types}
    depth = 0
    while pending:
        for key, rtype in pending.items():
            out[key] = candidate(rtype, depth)
        counts: dict[str, int] = {}
        for short in out.values():
            counts[short] = counts.get(short, 0) + 1
        pending = {k: t for k, t in pending.items() if counts[out[k]] > 1 and depth <= t.count("/")}
        depth += 1
    return out


def _type_condition(node: Any) -> set[str] | None:
    """The types a top-level `{field: type, equals|in: ...}` condition allows (lower-cased), else None."""
    if not isinstance(node, dict) or str(node.get("field", "")).lower() != "type":
        return None
    if isinstance(node.get("equals"), str):
        return {node["equals"].lower()}
    if isinstance(node.get("in"), list) and all(isinstance(v, str) for v in node["in"]):
        return {v.lower() for v in node["in"]}
    return None


def _scope_to_type(
    condition: Any, rtype: str, loaded: Loaded[DefinitionIntent], sink: DiagnosticSink
) -> dict[str, Any] | None:
    """A custom intent's `if` limited to one of its resourceTypes: `allOf` of the type test and the rule.

    Unchanged when the rule already tests exactly this type; refused (None) when the rule's own top-level
    type test can never match it, since that definition would never apply to anything."""
    top = condition.get("allOf") if isinstance(condition, dict) and isinstance(condition.get("allOf"), list) else [
        condition]
    for node in top:
        allowed = _type_condition(node)
        if allowed is None:
            continue
        if rtype.lower() not in allowed:
            i = loaded.model.resourceTypes.index(rtype)
            sink.add(
                loaded.file,
                *loaded.pos("resourceTypes", i),
                f"resourceTypes lists {rtype!r} but settings.if only matches type {', '.join(sorted(allowed))}: "
                "its definition would never apply; remove the type or widen the condition",
            )
            return None
        if allowed == {rtype.lower()}:
            return condition
    return {"allOf": [{"field": "type", "equals": rtype}, condition]}


def _rebased(pointers: dict[str, SourceRef], loaded: Loaded[DefinitionIntent], index: int) -> dict[str, SourceRef]:
    """Pointers into the intent's rule, moved under the `allOf` that scopes it to one resource type."""
    base, moved = "/properties/policyRule/if", "/properties/policyRule/if/allOf/1"
    out = {
        (moved + ptr[len(base):] if ptr == base or ptr.startswith(base + "/") else ptr): ref
        for ptr, ref in pointers.items()
    }
    if base in pointers:
        out[base] = pointers[base]
    out[base + "/allOf/0"] = SourceRef(loaded.file, *loaded.pos("resourceTypes", index))
    return out


def _resolve_roles(row: dict[str, Any], table: Table) -> dict[str, Any]:
    """Row as templates see it: role names resolved to ids, optional keys present."""
    return {"where": [], "checks": [], **row, "roles": [table.roles.get(r, r) for r in row.get("roles", [])]}


def _render(
    kind: Kind, context: dict[str, Any], loaded: Loaded[DefinitionIntent], sink: DiagnosticSink
) -> dict[str, Any] | None:
    env = make_environment()
    try:
        text = env.get_template(kind.template).render(**context)
    except jinja2.TemplateNotFound as exc:
        sink.add(loaded.file, *loaded.pos("intent"), f"template {exc.name!r} for intent {kind.name!r} does not exist")
        return None
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        sink.add(loaded.file, *loaded.pos("intent"), f"template {kind.template}{f':{line}' if line else ''}: {exc}")
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        sink.add(
            loaded.file,
            *loaded.pos("intent"),
            f"template {kind.template} rendered invalid JSON at line {exc.lineno} col {exc.colno}: {exc.msg}",
        )
        return None


def _envelope(
    loaded: Loaded[DefinitionIntent],
    kind: Kind,
    name: str,
    row: dict[str, Any],
    group: list[dict[str, Any]],
    table: Table,
    settings: dict[str, Any],
    effect: dict[str, Any],
    rendered: dict[str, Any],
    owner_id: str,
    default_category: str,
) -> dict[str, Any]:
    intent = loaded.model
    display = table.type_info(row["type"])["display"] if len(group) == 1 and row["type"] != "*" else "resources"
    display_name = intent.displayName.replace("{resourceType}", display)
    description = intent.description.replace("{resourceType}", display)
    multi = len(loaded.model.resourceTypes) > 1 and not kind.combine_types
    if multi and "{resourceType}" not in intent.displayName:
        display_name = f"{display_name} ({display})"
    params: dict[str, Any] = {}
    if "effect" not in rendered:  # a template fixing the effect (custom's settings.effect) has no effect parameter
        params["effect"] = {
            "type": "String",
            "metadata": {"displayName": "Effect", "description": "Enable or disable the execution of the policy"},
            "allowedValues": effect["allowed"],
            "defaultValue": effect["default"],
        }
    for pname, spec in kind.parameters.items():
        p = {k: v for k, v in spec.items() if k in ("type", "allowedValues")}
        meta = {k: spec[k] for k in ("displayName", "description", "strongType") if k in spec}
        if meta:
            p["metadata"] = meta
        if "setting" in spec:
            p["defaultValue"] = settings[spec["setting"]]
        params[pname] = p
    params.update(rendered.get("parameters") or {})
    params.update({k: v.to_azure() for k, v in intent.parameters.items()})
    then: dict[str, Any] = {"effect": rendered.get("effect", "[parameters('effect')]")}
    if "details" in rendered:  # as the template wrote it (a custom rule's `details: {}` too)
        then["details"] = rendered["details"]
    metadata = {
        "category": intent.category or default_category,
        "version": intent.version,
        "pacOwnerId": owner_id,
        "policygen": {"intent": loaded.name, "kind": kind.name, "source": loaded.rel},
        **to_plain(intent.metadata),
    }
    mode = intent.mode or (settings.get("mode") if kind.name == "custom" else row.get("mode")) or "Indexed"
    return {
        "name": name,
        "properties": {
            "displayName": display_name,
            "description": description,
            "mode": mode,
            "policyType": "Custom",
            "metadata": metadata,
            "version": intent.version,
            "parameters": params,
            "policyRule": {"if": rendered["if"], "then": then},
        },
    }


def _pointers(loaded: Loaded[DefinitionIntent]) -> dict[str, SourceRef]:
    f = loaded.file
    ref = lambda *loc: SourceRef(f, *loaded.pos(*loc))  # noqa: E731
    out = {
        "/properties/displayName": ref("displayName"),
        "/properties/description": ref("description"),
        "/properties/metadata": ref("metadata") if "metadata" in loaded.data else ref(),
        "/properties/parameters/effect": ref("effect") if "effect" in loaded.data else ref("intent"),
        "/properties/policyRule": ref("settings") if "settings" in loaded.data else ref("intent"),
        "/properties/mode": ref("mode") if "mode" in loaded.data else ref("intent"),
        "/name": ref("name") if "name" in loaded.data else ref(),
        "/properties/version": ref("version") if "version" in loaded.data else ref(),
    }
    for pname in loaded.model.parameters:
        out[f"/properties/parameters/{pname}"] = ref("parameters", pname)
    settings = loaded.data.get("settings") if isinstance(loaded.data, dict) else None
    if loaded.model.intent == "custom" and isinstance(settings, LocatedDict):
        # A custom intent's settings are the rule itself: findings inside it point at the offending key.
        for key, base in (("if", "/properties/policyRule/if"), ("details", "/properties/policyRule/then/details"),
                          ("effect", "/properties/policyRule/then/effect")):
            if key in settings:
                out[base] = SourceRef(f, *settings.value_pos.get(key, settings.pos))
                _located_pointers(settings[key], base, f, out)
        if "mode" in settings and "mode" not in loaded.data:
            out["/properties/mode"] = SourceRef(f, *settings.value_pos.get("mode", settings.pos))
    return out


def _located_pointers(node: Any, base: str, file: str, out: dict[str, SourceRef]) -> None:
    """JSON pointer → YAML position for every key and item under `node` (as the template copies it)."""
    if isinstance(node, LocatedDict):
        for key, value in node.items():
            ptr = f"{base}/{str(key).replace('~', '~0').replace('/', '~1')}"
            out[ptr] = SourceRef(file, *node.value_pos.get(key, node.pos))
            _located_pointers(value, ptr, file, out)
    elif isinstance(node, LocatedList):
        for i, value in enumerate(node):
            out[f"{base}/{i}"] = SourceRef(file, *node.item_pos[i])
            _located_pointers(value, f"{base}/{i}", file, out)


def _tests(
    loaded: Loaded[DefinitionIntent], arts: list[Artefact], by_type: dict[str, Artefact], sink: DiagnosticSink
) -> list[TestCase]:
    out = []
    for i, spec in enumerate(loaded.model.tests):
        target = None
        if spec.for_:
            target = by_type.get(spec.for_.lower())
        elif len(arts) == 1:
            target = arts[0]
        else:
            target = by_type.get(str(spec.resource.get("type", "")).lower())
        if target is None:
            sink.add(
                loaded.file,
                *loaded.pos("tests", i),
                f"test {spec.name!r}: cannot tell which definition it targets; add `for: <resource type>`",
            )
            continue
        expect = Expectation(**spec.expect.model_dump())
        out.append(
            TestCase(
                target.name,
                spec.name,
                to_plain(spec.resource),
                expect,
                SourceRef(loaded.file, *loaded.pos("tests", i)),
                to_plain(spec.parameters),
                to_plain(spec.related),
                to_plain(spec.context) if spec.context is not None else None,
            )
        )
    return out
