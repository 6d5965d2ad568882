"""Lifting: a definition whose rule is exactly what one of our kinds renders becomes that kind's short intent.

Candidates are rendered through the real renderer (`render_definition_intent`) and compared with the source
on what the rule and its parameters are; settings come from the source (parameter defaults the kind reads
from a setting, enum values tried one by one, free strings found by rendering a sentinel and reading the
source at the same place). A definition no kind reproduces becomes a `custom` intent that keeps the rule
verbatim. Nothing is accepted on faith: every intent written is rendered and compared before it is kept.
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

from pydantic import ValidationError

from policygen.arm import effects
from policygen.artefacts import Artefact
from policygen.errors import DiagnosticSink
from policygen.intents.kinds import Kind, Table, load_table
from policygen.intents.load import Loaded
from policygen.intents.models import INTENT_EFFECTS, DefinitionIntent, ParameterSpec
from policygen.render.definitions import render_definition_intent

SENTINEL = "\u0001policygen-setting\u0001"
MAX_COMBINATIONS = 64
RULE_FIELDS = ("displayName", "description", "mode", "parameters", "policyRule")


def clean(value: Any) -> Any:
    """Drop None and empty containers, recursively (ARM treats absent, null and empty alike)."""
    if isinstance(value, dict):
        out = {k: clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != [] and v != ""}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def param_spec(spec: Any) -> dict[str, Any] | None:
    """The intent form of a REST parameter, or None when the intent model cannot say it exactly (the type
    keeps the case it was read in: Azure answers `String` for what was sent as `string`, and the ALZ library
    writes `string`; either way the build equals what was read)."""
    if not isinstance(spec, dict):
        return None
    meta = spec.get("metadata") or {}
    if not isinstance(meta, dict):
        return None
    out: dict[str, Any] = {k: spec[k] for k in ("type", "defaultValue", "allowedValues", "schema") if k in spec}
    out.update({k: meta[k] for k in ("displayName", "description", "strongType", "assignPermissions") if k in meta})
    try:
        again = ParameterSpec.model_validate(out).to_azure()
    except ValidationError:
        return None
    return out if clean(again) == clean(spec) else None


def render_one(data: dict[str, Any], name: str, rel: str, owner_id: str, category: str) -> Artefact | None:
    """Render one in-memory definition intent; None when it is invalid or renders not exactly one definition."""
    try:
        model = DefinitionIntent.model_validate(data)
    except ValidationError:
        return None
    sink = DiagnosticSink()
    arts, _ = render_definition_intent(Loaded(model, rel, data, name, rel), load_table(), owner_id, category, sink)
    return arts[0] if len(arts) == 1 and not sink.items else None


def same_rule(a: dict[str, Any], b: dict[str, Any]) -> bool:
    pa, pb = a.get("properties") or {}, b.get("properties") or {}
    return all(clean(pa.get(k)) == clean(pb.get(k)) for k in RULE_FIELDS)


def _effect_spec(params: dict[str, Any]) -> dict[str, Any] | None:
    spec = params.get("effect")
    if not isinstance(spec, dict):
        return None
    allowed = [effects.canonical(str(v)) for v in spec.get("allowedValues") or []]
    default = effects.canonical(str(spec.get("defaultValue") or ""))
    if not allowed or None in allowed or default not in allowed or any(e not in INTENT_EFFECTS for e in allowed):
        return None
    if len({e.lower() for e in allowed if e}) != len(allowed):
        return None
    return {"default": default, "allowed": allowed}


def _probe_value(schema: dict[str, Any]) -> Any:
    """A value the setting's schema accepts that marks where it lands: the sentinel in every free string, the
    first choice of an enum; an array holds one such item (objects with their required properties)."""
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if schema.get("type") == "array":
        return [_probe_value(schema.get("items") or {})]
    if schema.get("type") == "object":
        required = schema.get("required") or []
        return {k: _probe_value(s) for k, s in (schema.get("properties") or {}).items() if k in required}
    return SENTINEL


def _walk(rendered: Any, source: Any, found: dict[str, Any], probe: Any = None) -> bool:
    """Read the source where the rendered tree holds the probe value (an array setting) or the sentinel (a
    string setting); parts whose shapes differ are skipped: the final render decides. False only when two
    places disagree on the value."""
    if isinstance(probe, list) and rendered == probe and isinstance(source, list):
        value: Any = source
    elif isinstance(rendered, str):
        if SENTINEL not in rendered or not isinstance(source, str):
            return True
        head, _, tail = rendered.partition(SENTINEL)
        if not (source.startswith(head) and source.endswith(tail) and len(source) >= len(head) + len(tail)):
            return True
        value = source[len(head):len(source) - len(tail)]
    elif isinstance(rendered, dict) and isinstance(source, dict):
        return all(_walk(rendered[k], source[k], found, probe) for k in rendered if k in source)
    elif isinstance(rendered, list) and isinstance(source, list) and len(rendered) == len(source):
        return all(_walk(r, s, found, probe) for r, s in zip(rendered, source, strict=True))
    else:
        return True
    found.setdefault("value", value)
    return found["value"] == value


def _setting_choices(kind: Kind, base: dict[str, Any], src: dict[str, Any], probe: Any) -> list[dict[str, Any]]:
    """Settings to try: source parameter defaults, then every enum combination (bounded), then sentinels."""
    params = (src.get("properties") or {}).get("parameters") or {}
    settings: dict[str, Any] = {}
    for pname, spec in kind.parameters.items():
        if "setting" in spec and isinstance(params.get(pname), dict) and "defaultValue" in params[pname]:
            settings[spec["setting"]] = params[pname]["defaultValue"]
    free: list[str] = []
    enums: list[tuple[str, list[Any]]] = []
    for key, schema in kind.settings.items():
        if key in settings:
            continue
        if isinstance(schema.get("enum"), list):
            enums.append((key, schema["enum"]))
        elif schema.get("type") == "boolean":
            enums.append((key, [True, False]))
        elif schema.get("type") in ("string", "array"):
            free.append(key)
    props = src.get("properties") or {}
    out = []
    for combo in itertools.islice(itertools.product(*[values for _, values in enums]), MAX_COMBINATIONS):
        trial_settings = {**settings, **dict(zip([k for k, _ in enums], combo, strict=True))}
        for key in free:  # one setting at a time: where does it land in the rule or parameters?
            marker = _probe_value(kind.settings[key])
            rendered = probe({**base, "settings": {**trial_settings, key: marker}})
            found: dict[str, Any] = {}
            if rendered is not None and all(_walk(rendered["properties"].get(f), props.get(f), found, marker)
                                            for f in ("policyRule", "parameters")) and "value" in found:
                trial_settings[key] = found["value"]
        out.append(trial_settings)
    return out


def _candidates(table: Table, src: dict[str, Any]) -> list[tuple[Kind, list[str]]]:
    """(kind, resource types) whose types the source rule mentions: one type at a time, or all of them in the
    order the rule names them for a kind that combines types into one definition."""
    props = src.get("properties") or {}
    text = json.dumps(props.get("policyRule")).lower()
    meta = props.get("metadata") if isinstance(props.get("metadata"), dict) else {}
    hint = (meta.get("policygen") or {}).get("kind") if isinstance(meta.get("policygen"), dict) else None
    out: list[tuple[Kind, list[str]]] = []
    for kind in table.kinds.values():
        if kind.name == "custom":
            continue
        hits = sorted((t for t in kind.types if f'"{t.lower()}"' in text), key=lambda t: text.index(f'"{t.lower()}"'))
        if kind.name == hint:  # policygen rendered it: every row of that kind is worth a try (verified below)
            hits += [t for t in kind.types if t not in hits]
        if kind.combine_types and hits:
            out.append((kind, hits))
        out.extend((kind, [t]) for t in hits if not kind.combine_types or len(hits) > 1)
    return out


def lift(src: dict[str, Any], base: dict[str, Any], rel: str, owner_id: str, category: str,
         ) -> tuple[dict[str, Any], Artefact] | None:
    """The kind intent (data, rendered) reproducing `src`'s rule and parameters, or None.

    `base` holds the fields every definition intent carries (displayName, description, version, category);
    parameters whose metadata differs from the kind's are written out so they stay exact.
    """
    params = (src.get("properties") or {}).get("parameters") or {}
    effect = _effect_spec(params)
    if effect is None:
        return None
    name = str(src.get("name"))
    table = load_table()

    def probe(data: dict[str, Any]) -> dict[str, Any] | None:
        art = render_one(data, name, rel, owner_id, category)
        return art.body if art else None

    for kind, rtypes in _candidates(table, src):
        if not {e for e in effect["allowed"]} <= {*kind.effects["allowed"], "Modify"}:
            continue
        start = {"intent": kind.name, "resourceTypes": rtypes, **base, "effect": effect}
        for settings in _setting_choices(kind, start, src, probe):
            data = {**start, "settings": copy.deepcopy(settings)} if settings else dict(start)
            art = render_one(data, name, rel, owner_id, category)
            if art is None:
                continue
            data = _exact_parameters(data, art, params)
            if data is None:
                continue
            art = render_one(data, name, rel, owner_id, category)
            if art is not None and same_rule(art.body, src):
                return data, art
    return None


def _exact_parameters(data: dict[str, Any], art: Artefact, params: dict[str, Any]) -> dict[str, Any] | None:
    """Write out the parameters the rendered definition does not already have exactly; None when the kind
    declares a parameter the source lacks (it cannot be removed)."""
    rendered = art.properties.get("parameters") or {}
    if set(rendered) - set(params):
        return None
    extra = {}
    for pname, spec in params.items():
        if clean(rendered.get(pname)) != clean(spec):
            intent_form = param_spec(spec)
            if intent_form is None:
                return None
            extra[pname] = intent_form
    return {**data, "parameters": extra} if extra else data


def custom(src: dict[str, Any], base: dict[str, Any]) -> dict[str, Any] | None:
    """The `custom` intent keeping the rule verbatim; None when the model cannot carry it exactly (a `then`
    with keys beyond effect and details, parameter metadata the model has no field for).

    An effect other than `[parameters('effect')]` with an `effect` parameter (a fixed `denyAction`, an effect
    parameter of another name) goes into settings.effect as written, so no effect parameter is generated."""
    props = src.get("properties") or {}
    rule = props.get("policyRule") or {}
    then = rule.get("then")
    params = props.get("parameters") or {}
    if not isinstance(rule.get("if"), dict) or not isinstance(then, dict) or set(then) - {"effect", "details"} \
            or not isinstance(then.get("effect"), str) or not isinstance(then.get("details", {}), dict | list):
        return None
    settings: dict[str, Any] = {"if": rule["if"]}
    if "details" in then:
        settings["details"] = then["details"]
    parameterised = then["effect"] == "[parameters('effect')]" and isinstance(params.get("effect"), dict)
    if not parameterised:
        settings["effect"] = then["effect"]
    data: dict[str, Any] = {"intent": "custom", **base, "mode": props.get("mode") or "Indexed", "settings": settings}
    effect = _effect_spec(params) if parameterised else None
    if effect is not None:
        data["effect"] = effect
    out_params = {}
    for pname, spec in params.items():
        intent_form = param_spec(spec)
        if intent_form is None:
            return None
        out_params[pname] = intent_form
    data["parameters"] = out_params
    return data
