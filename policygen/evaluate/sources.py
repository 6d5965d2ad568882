"""Where `impact` gets its policies: a pack (rendered with `compile_pack`, optionally through an
assignment's parameter values and initiative), or definition JSON files and folders (e.g. the
built-ins). Parameter values: definition defaults, then the assignment's, then `--parameters`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from policygen.arm.aliases import AliasCatalogue
from policygen.arm.expressions import is_expression, unescape
from policygen.artefacts import Build
from policygen.errors import Diagnostic, InputError
from policygen.evaluate.admission import with_effect
from policygen.evaluate.datafile import load_data_file
from policygen.evaluate.expr import CompileCtx, compile_value
from policygen.evaluate.inventory import load_json_file
from policygen.evaluate.policy import CompiledPolicy, compile_policy, definition_properties, unwrap_parameters
from policygen.evaluate.refusals import build_refusals, definition_refusals, file_refusals

Named = list[tuple[str, CompiledPolicy]]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _unescape_all(value: Any) -> Any:
    if isinstance(value, str):
        return unescape(value)
    if isinstance(value, dict):
        return {k: _unescape_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape_all(v) for v in value]
    return value


def arm_unescaped(definition: Any) -> Any:
    """A definition that is an ARM template resource (`apiVersion` beside `type`, e.g. the Enterprise-Scale
    sources) has every expression escaped (`"[[parameters('x')]"`). When the policy rule has escaped
    expressions and no live ones, strip one `[` everywhere, as ARM would when deploying it (reference 2.7,
    FN-04). Anything else (a REST body, bare properties) is what Azure receives: never un-escaped, so
    `[[parameters('effect')]` stays the literal string the validator refuses (#12)."""
    from policygen.rules.json_input import is_template_resource

    if not isinstance(definition, dict) or not is_template_resource(definition):
        return definition
    props = definition_properties(definition)
    rule = props.get("policyRule")
    strings = list(_strings(rule))
    escaped = any(s.startswith("[[") and s.endswith("]") for s in strings)
    live = any(is_expression(s) for s in strings)
    return _unescape_all(definition) if escaped and not live else definition


def filter_parameters(props: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Only the parameters this definition declares (one `--parameters` file serves many definitions)."""
    declared = {k.lower() for k in (props.get("parameters") or {})}
    return {k: v for k, v in unwrap_parameters(values).items() if k in declared}


def policies_from_files(
    paths: Sequence[Path], overrides: Mapping[str, Any], catalogue: AliasCatalogue | None
) -> tuple[Named, list[str]]:
    """Definition files, or folders searched recursively for `*.json` definitions (set definitions and
    other JSON without a policyRule are skipped in folders, an error when named explicitly)."""
    out: Named = []
    skipped: list[str] = []
    problems: list[Diagnostic] = []
    for path in paths:
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        for f in files:
            raw = load_json_file(f, "policy definition")
            data = arm_unescaped(raw)
            props = definition_properties(data) if isinstance(data, dict) else {}
            if "policyRule" not in props:
                if not path.is_dir():
                    problems.append(Diagnostic(str(f), 0, 0, "not a policy definition (no properties.policyRule)"))
                continue
            # what Azure would not have created (#12): checked on the parsed object, located only when refused
            if definition_refusals(data, str(f), catalogue, escaped=data is not raw) and (
                refused := file_refusals(f, catalogue)
            ):
                if path.is_dir():
                    skipped.append(f"{refused[0]} (Azure would refuse this definition)")
                else:
                    problems.extend(refused)
                continue
            name = str(data.get("name") or f.stem)
            try:
                out.append((name, compile_policy(data, filter_parameters(props, overrides), catalogue=catalogue)))
            except Exception as exc:  # noqa: BLE001 - one bad definition must not stop an impact run
                skipped.append(f"{f}: {exc}")
    if problems:
        raise InputError(problems)
    return out, skipped


def policies_from_build(
    build: Build,
    overrides: Mapping[str, Any],
    catalogue: AliasCatalogue | None,
    assignment: str | None = None,
    gate: Any = None,
) -> tuple[Named, list[str]]:
    """Every pack definition with its defaults, or — with `assignment` — the definitions that assignment
    reaches, with the values it passes through its initiative. Given a `gate`
    (evaluate.assignment_gate.Gate), each member whose effect an override may replace is also compiled with
    that effect (label `member@Effect`) and the gate learns which label applies to which resource (resource
    selectors, overrides, the assignment's exemptions)."""
    skipped: list[str] = []
    out: Named = []
    refused = build_refusals(build, catalogue)  # what Azure would not have created (#12)
    if refused:
        raise InputError([d for name in sorted(refused) for d in refused[name]])
    if assignment is None:
        for name in sorted(build.definitions):
            art = build.definitions[name]
            try:
                out.append(
                    (name, compile_policy(art.body, filter_parameters(art.properties, overrides), catalogue=catalogue))
                )
            except Exception as exc:  # noqa: BLE001
                skipped.append(f"{name}: {exc}")
        return out, skipped
    art = build.assignments.get(assignment)
    if art is None:
        known = ", ".join(sorted(build.assignments)) or "none"
        raise InputError(f"no assignment named {assignment!r} in the pack (known: {known})")
    props = art.properties
    target = str(props.get("policyDefinitionId", "")).rstrip("/").rsplit("/", 1)[-1]
    values = unwrap_parameters(props.get("parameters"))
    members: list[tuple[str, str, dict[str, Any]]] = []  # (label, definition name, parameter values)
    if target in build.initiatives:
        init = build.initiatives[target].properties
        declared = init.get("parameters") or {}
        init_values = {k.lower(): s["defaultValue"] for k, s in declared.items() if "defaultValue" in s}
        init_values.update(values)
        cc = CompileCtx(init_values, {k.lower(): k for k in declared}, catalogue, region="details")
        for ref in init.get("policyDefinitions") or []:
            dname = str(ref.get("policyDefinitionId", "")).rstrip("/").rsplit("/", 1)[-1]
            passed = {}
            for pname, pval in (ref.get("parameters") or {}).items():
                c = compile_value(pval.get("value") if isinstance(pval, dict) else pval, cc)
                if c.const:
                    passed[pname] = c.value
            label = f"{assignment}/{ref.get('policyDefinitionReferenceId') or dname}"
            members.append((label, dname, passed))
    elif target in build.definitions:
        members.append((assignment, target, values))
    else:
        raise InputError(f"assignment {assignment!r} points at {target!r}, which the pack does not define")
    if gate is not None:
        gate.assignment = props
        gate.exemptions = [(e.scope or "", e.properties) for e in build.exemptions_for(assignment)]
    for label, dname, passed in members:
        dart = build.definitions.get(dname)
        if dart is None:
            skipped.append(f"{label}: definition {dname} is not in the pack (built-in?)")
            continue
        params = filter_parameters(dart.properties, {**passed, **unwrap_parameters(overrides)})
        ref = label.split("/", 1)[1] if "/" in label else None
        variants: list[tuple[str, str | None]] = [(label, None)]
        if gate is not None:
            for value in _override_effects(props.get("overrides"), ref):
                variants.append((f"{label}@{value}", value))
        for name, effect in variants:
            # an override replaces `then.effect` only (admission.with_effect), whatever parameter set it
            body = with_effect(dart.body, effect) if effect else dart.body
            try:
                out.append((name, compile_policy(body, params, catalogue=catalogue)))
            except Exception as exc:  # noqa: BLE001
                skipped.append(f"{name}: {exc}")
                continue
            if gate is not None:
                gate.labels[name] = (ref, effect)
    return out, skipped


def _override_effects(overrides: Any, ref: str | None) -> list[str]:
    """Effects `policyEffect` overrides may give this member (those whose reference-id selectors allow it)."""
    out: list[str] = []
    for o in overrides or []:
        if str(o.get("kind", "policyEffect")).lower() != "policyeffect":
            continue
        refs = [s for s in o.get("selectors") or [] if str(s.get("kind", "")).lower() == "policydefinitionreferenceid"]
        if all(("in" not in s or (ref or "").lower() in {str(v).lower() for v in s["in"]}) and
               ("notIn" not in s or (ref or "").lower() not in {str(v).lower() for v in s["notIn"]}) for s in refs):
            value = str(o.get("value"))
            if value.lower() not in {v.lower() for v in out}:
                out.append(value)
    return out


def load_parameters(path: Path | None) -> dict[str, Any]:
    """A JSON (or YAML) object of name → value (plain or `{"value": v}`); an ARM parameters file's
    `parameters` object is accepted too."""
    if path is None:
        return {}
    data = load_data_file(path, "parameters")
    if (
        isinstance(data, dict)
        and isinstance(data.get("parameters"), dict)
        and ("$schema" in data or "contentVersion" in data or len(data) == 1)
    ):
        data = data["parameters"]
    if not isinstance(data, dict):
        raise InputError(Diagnostic(str(path), 0, 0, "parameters must be a JSON object of name -> value"))
    return data


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
