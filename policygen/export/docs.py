"""`policygen docs`: Markdown a governance team can paste into a wiki.

One page per initiative (its policies with effect, allowed effects, parameters and group), one per
assignment (scope, parameter values, remediation, roles) and a compliance view listing, per group, every
policy with the effect each assignment gives it. Output is deterministic: sorted, no timestamps.
"""

from __future__ import annotations

import json
from typing import Any

from policygen.artefacts import Artefact, Build
from policygen.assignment_effects import default_parameters, effect_in_force, member, resolve, values_of
from policygen.export.common import effective_effect, local_name, remediation_tasks, role_definition_ids


def cell(value: Any) -> str:
    """A Markdown table cell: JSON for non-strings, pipes escaped, newlines as <br>."""
    if value is None or value == "":
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return prose(text).replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def prose(text: str) -> str:
    """Pack text is shown as text, never as HTML a wiki would render."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(value: Any) -> str:
    if value is None or value == "":
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "`" + text.replace("|", "\\|").replace("`", "'").replace("\n", " ") + "`"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def paragraph(text: str | None) -> list[str]:
    return [prose(text), ""] if text else []


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render_docs(build: Build) -> dict[str, str]:
    """Every page for a build (compiled for the environment whose scopes the pages show)."""
    files = {"README.md": index(build), "compliance.md": compliance(build)}
    for name, art in sorted(build.initiatives.items()):
        files[f"initiatives/{name}.md"] = initiative_page(build, art)
    for name, art in sorted(build.assignments.items()):
        files[f"assignments/{name}.md"] = assignment_page(build, art)
    return files


def index(build: Build) -> str:
    pack = build.pack
    lines = [f"# {pack.name} {pack.version}", "",
             f"Owner marker (`metadata.pacOwnerId`): `{pack.owner_id}`. Definitions live at `{pack.definition_scope}`.",
             "", f"{plural(len(build.definitions), 'policy definition')}, "
             f"{plural(len(build.initiatives), 'initiative')}, {plural(len(build.assignments), 'assignment')}. "
             "See also the [compliance view by group](compliance.md).", "",
             "## Initiatives", ""]
    lines += table(["Initiative", "Display name", "Policies", "Version"], [
        [f"[{n}](initiatives/{n}.md)", cell(a.properties["displayName"]), str(len(a.properties["policyDefinitions"])),
         cell((a.properties.get("metadata") or {}).get("version"))] for n, a in sorted(build.initiatives.items())])
    lines += ["", "## Assignments", ""]
    lines += table(["Assignment", "Display name", "Scope", "Enforcement"], [
        [f"[{n}](assignments/{n}.md)", cell(a.properties["displayName"]), code(a.scope),
         cell(a.properties.get("enforcementMode"))] for n, a in sorted(build.assignments.items())])
    lines += ["", "## Definitions", ""]
    lines += table(["Name", "Display name", "Mode", "Effect (default)", "Allowed effects"], [
        [code(n), cell(a.properties["displayName"]), cell(a.properties.get("mode")), *_effects(a)]
        for n, a in sorted(build.definitions.items())])
    return "\n".join(lines) + "\n"


def _effects(definition: Artefact) -> list[str]:
    spec = (definition.properties.get("parameters") or {}).get("effect") or {}
    return [cell(spec.get("defaultValue")), cell(", ".join(spec.get("allowedValues") or []))]


def _member_effect(initiative: Artefact, m: dict[str, Any], definition: Artefact | None) -> str | None:
    """The effect a member runs with under the initiative's defaults (no assignment yet), resolved by
    policygen.assignment_effects as compliance.md resolves it per assignment; None when it cannot be told.
    A built-in's rule is unknown offline: it shows the effect the initiative passes it."""
    defaults = default_parameters(initiative.body)
    if definition is None:
        effect = resolve(((m.get("parameters") or {}).get("effect") or {}).get("value"), defaults)
    else:
        effect = effect_in_force(member(m["policyDefinitionId"], definition.body, values_of(m.get("parameters")),
                                        defaults, m.get("policyDefinitionReferenceId")))
    return effect if isinstance(effect, str) else None


def _member_params(member: dict[str, Any]) -> str:
    params = {k: v.get("value") for k, v in sorted((member.get("parameters") or {}).items()) if k != "effect"}
    return "<br>".join(f"{code(k)} = {code(v)}" for k, v in params.items()) or "—"


def initiative_page(build: Build, art: Artefact) -> str:
    p = art.properties
    meta = p.get("metadata") or {}
    groups = {g["name"]: g for g in p.get("policyDefinitionGroups") or []}
    lines = [f"# {prose(p['displayName'])}", "", f"`{art.name}` · version {meta.get('version', '—')} · category "
             f"{meta.get('category', '—')}", "", *paragraph(p.get("description")), "## Policies", ""]
    rows = []
    for m in p["policyDefinitions"]:
        local = local_name(build, m["policyDefinitionId"])
        definition = build.definitions.get(local[1]) if local else None
        spec = ((definition.properties.get("parameters") or {}).get("effect") or {}) if definition else {}
        rows.append([
            code(m["policyDefinitionReferenceId"]),
            cell(definition.properties["displayName"]) if definition else f"built-in {code(m['policyDefinitionId'])}",
            cell(definition.properties.get("description")) if definition else "—",
            cell(_member_effect(art, m, definition)),
            cell(", ".join(spec.get("allowedValues") or [])),
            _member_params(m),
            cell(", ".join((groups.get(g) or {}).get("displayName") or g for g in m.get("groupNames") or [])),
        ])
    header = ["Reference", "Display name", "Description", "Effect", "Allowed effects", "Parameters", "Group"]
    lines += table(header, rows)
    lines += ["", "## Parameters", ""]
    lines += table(["Parameter", "Type", "Default", "Allowed values", "Description"], [
        [code(n), cell(s.get("type")), code(s.get("defaultValue")),
         cell(", ".join(map(str, s.get("allowedValues") or []))),
         cell((s.get("metadata") or {}).get("description") or (s.get("metadata") or {}).get("displayName"))]
        for n, s in sorted((p.get("parameters") or {}).items())])
    users = sorted(n for n, a in build.assignments.items() if local_name(build, a.properties["policyDefinitionId"]) ==
                   ("initiative", art.name))
    if users:
        lines += ["", "## Assigned by", ""] + [f"- [{n}](../assignments/{n}.md)" for n in users]
    return "\n".join(lines) + "\n"


def assignment_page(build: Build, art: Artefact) -> str:
    p = art.properties
    local = local_name(build, p["policyDefinitionId"])
    target = (f"[{local[1]}](../initiatives/{local[1]}.md)" if local and local[0] == "initiative"
              else code(local[1]) if local else code(p["policyDefinitionId"]))
    key = art.scope_as_written
    identity = art.body.get("identity") or {}
    lines = [f"# {prose(p['displayName'])}", "", *paragraph(p.get("description")),
             f"- Name: `{art.name}`", f"- Assigns: {target}",
             f"- Scope: `{art.scope}`" + (f" (scope key `{key}`)" if key and not key.startswith("/") else ""),
             f"- Not scopes: {', '.join(code(s) for s in p.get('notScopes') or []) or 'none'}",
             f"- Enforcement mode: {p.get('enforcementMode', 'Default')}",
             f"- Identity: {identity.get('type', 'None')}"
             + (f" in {art.body['location']}" if art.body.get("location") else "")]
    roles = role_definition_ids(build, art)
    if roles:
        lines.append(f"- Role assignments for the identity: {', '.join(code(r.rsplit('/', 1)[-1]) for r in roles)}")
    declared = {}
    if local:
        declared = ((build.initiatives if local[0] == "initiative" else build.definitions)[local[1]]
                    .properties.get("parameters") or {})
    given = p.get("parameters") or {}
    lines += ["", "## Parameters", ""]
    lines += table(["Parameter", "Value", "Default"], [
        [code(n), code(given[n]["value"]) if n in given else "(default)",
         code((declared.get(n) or {}).get("defaultValue"))]
        for n in sorted(set(declared) | set(given))])
    messages = p.get("nonComplianceMessages") or []
    if messages:
        lines += ["", "## Non-compliance messages", ""]
        lines += table(["Policy", "Message"], [[code(m.get("policyDefinitionReferenceId")) if m.get(
            "policyDefinitionReferenceId") else "(all)", cell(m["message"])] for m in messages])
    lines += ["", "## Remediation", ""]
    if not art.remediation.get("enabled"):
        lines.append("Not enabled: non-compliant resources are reported, not remediated automatically.")
    else:
        tasks = remediation_tasks(build, art)
        settings = {k: v for k, v in art.remediation.items() if k != "enabled" and v not in (None, [])}
        shown = ", ".join(f"{k} {code(v)}" for k, v in sorted(settings.items())) or "default settings"
        lines.append(f"Enabled: {shown}.")
        lines.append("")
        lines += table(["Task", "Policy reference"], [[code(t.name), code(t.reference_id)] for t in tasks]) \
            if tasks else \
            ["No member runs Modify or DeployIfNotExists with these parameters: nothing to remediate."]
    lines += _rollout(art) + _selectors(p) + _exemptions(build, art)
    return "\n".join(lines) + "\n"


def _rollout(art: Artefact) -> list[str]:
    r = art.rollout
    if not r:
        return []
    locs = r.get("locations")
    where = "every region" if locs is None else ", ".join(code(x) for x in locs) or "no region yet"
    nxt = f" Next stage: {code(r['next'])}." if r.get("next") else " This is the final stage."
    return ["", "## Rollout", "",
            f"Stage {r['index'] + 1} of {len(r['stages'])} ({code(r['stage'])}): {r['effect']} in {where}, "
            f"{r['from']} elsewhere, for {', '.join(code(m) for m in r['members']) or 'the definition'}.{nxt}"]


def _selectors(p: dict[str, Any]) -> list[str]:
    def sel(s: dict[str, Any]) -> str:
        return f"{s['kind']} {'in' if 'in' in s else 'not in'} {', '.join(s.get('in') or s.get('notIn') or [])}"

    lines: list[str] = []
    if p.get("definitionVersion"):
        lines += ["", f"Definition version pinned to {code(p['definitionVersion'])}."]
    if p.get("resourceSelectors"):
        lines += ["", "## Resource selectors", ""]
        lines += table(["Selector", "Resources"], [[code(r["name"]), cell("; ".join(sel(s) for s in r["selectors"]))]
                                                   for r in p["resourceSelectors"]])
    if p.get("overrides"):
        lines += ["", "## Overrides", ""]
        lines += table(["Kind", "Value", "Where"], [
            [o.get("kind", "policyEffect"), code(o["value"]), cell("; ".join(sel(s) for s in o.get("selectors") or [])
                                                                   or "everywhere")] for o in p["overrides"]])
    return lines


def _exemptions(build: Build, art: Artefact) -> list[str]:
    """Exemptions of this assignment, with their expiry (a governance review reads this table)."""
    exemptions = build.exemptions_for(art.name)
    if not exemptions:
        return []
    lines = ["", "## Exemptions", ""]
    lines += table(["Exemption", "Scope", "Category", "Policies", "Expires", "Approved"], [
        [code(e.name), code(e.scope), e.properties["exemptionCategory"],
         ", ".join(code(r) for r in e.properties.get("policyDefinitionReferenceIds") or []) or "(all)",
         (e.properties.get("expiresOn") or "never")[:10],
         cell(", ".join(f"{k}: {v}" for k, v in sorted((e.properties.get("metadata") or {}).items())
                        if k not in ("pacOwnerId", "policygen")))]
        for e in exemptions])
    return lines


def compliance(build: Build) -> str:
    """Per initiative and group: each policy with the effect every assignment of the initiative gives it."""
    lines = ["# Compliance view by group", ""]
    for name, art in sorted(build.initiatives.items()):
        p = art.properties
        users = [a for _n, a in sorted(build.assignments.items())
                 if local_name(build, a.properties["policyDefinitionId"]) == ("initiative", name)]
        lines += [f"## {prose(p['displayName'])} (`{name}`)", ""]
        groups = list(p.get("policyDefinitionGroups") or [])
        members = p["policyDefinitions"]
        ungrouped = [m for m in members if not m.get("groupNames")]
        if ungrouped:
            groups.append({"name": "", "displayName": "Not in a group"})
        for g in groups:
            in_group = [m for m in members if g["name"] in (m.get("groupNames") or [])] if g["name"] else ungrouped
            if not in_group:
                continue
            title = g.get("displayName") or g["name"]
            lines += [f"### {title}" + (f" (`{g['name']}`)" if g["name"] else ""), ""]
            if g.get("category") or g.get("description"):
                lines += [" · ".join(x for x in (g.get("category"), g.get("description")) if x), ""]
            rows = []
            for m in in_group:
                local = local_name(build, m["policyDefinitionId"])
                definition = build.definitions.get(local[1]) if local else None
                row = [cell(definition.properties["displayName"]) if definition else code(m["policyDefinitionId"]),
                       code(m["policyDefinitionReferenceId"])]
                for a in users:
                    value = (m.get("parameters") or {}).get("effect", {}).get("value")
                    row.append(cell(effective_effect(build, a, definition, value)) if definition else "—")
                rows.append(row)
            lines += table(["Policy", "Reference", *[f"{a.name}" for a in users]], rows) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"
