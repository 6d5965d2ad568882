"""EPAC exemption files (`policyExemptions/<pacSelector>/*.json|jsonc|csv`) -> exemption items.

As https://azure.github.io/enterprise-azure-policy-as-code/policy-exemptions/ states them: JSON files hold
`{"exemptions": [...]}`; CSV files the same fields as columns, lists `&`-separated and `resourceSelectors` /
`metadata` as JSON cells, the target in `assignmentReferenceId` (or the legacy `policyAssignmentId`).
Each names one target: an assignment id (option B), or a definition / set (options A and C) which fans
out to one exemption per assignment of it, named `<name>-<assignmentName>` (A also reaches assignments of sets
containing the definition, exempting its reference ids there). `scopes` gives one exemption per scope with
` - <last id segment or label:>` appended to displayName and description (a leading `:` suppresses it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policygen.adopt import epac_csv
from policygen.adopt.epac_details import Library
from policygen.adopt.estate import Estate, Item
from policygen.adopt.files import line_of, read_json
from policygen.arm.scopes import key
from policygen.errors import DiagnosticSink

TARGETS = ("policyAssignmentId", "policyDefinitionId", "policyDefinitionName", "policySetDefinitionId",
           "policySetDefinitionName")
LISTS = ("scopes", "policyDefinitionReferenceIds")
JSON_CELLS = ("resourceSelectors", "metadata")
RID = "/providers/Microsoft.Authorization/{}/{}"


def read_exemptions(root: Path, selector: str, estate: Estate, library: Library, sink: DiagnosticSink) -> None:
    folder = root / "policyExemptions" / selector
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in (".json", ".jsonc"):
            doc = read_json(path, sink)
            if doc is None:
                continue
            items = doc.get("exemptions") if isinstance(doc, dict) else None
            if not isinstance(items, list):
                sink.add(str(path), 1, 1, 'an EPAC exemption file is {"exemptions": [...]}')
                continue
            rows = [(it, line_of(path, f'"{it.get("name")}"')[0] if isinstance(it, dict) else 1) for it in items]
        elif suffix == ".csv":
            rows = _csv_rows(path, sink)
        else:
            continue
        for raw, line in rows:
            _expand(raw, f"{path}:{line}:1", path, line, estate, library, sink)


def _csv_rows(path: Path, sink: DiagnosticSink) -> list[tuple[dict[str, Any], int]]:
    table = epac_csv.read_csv(path, sink)
    if table is None:
        return []
    out = []
    for row in table.rows:
        item: dict[str, Any] = {}
        for col, cell in row.cells.items():
            cell = cell.strip()
            if not cell:
                continue
            if col in LISTS:
                item[col] = [c.strip() for c in cell.split("&") if c.strip()]
            elif col in JSON_CELLS:
                try:
                    item[col] = json.loads(cell)
                except ValueError as exc:
                    sink.add(str(path), row.line, 1, f"column {col} is not JSON: {exc}")
                    item = {}
                    break
            elif col == "assignmentReferenceId":
                item.update(_reference(cell))
            else:
                item[col] = cell
        if item:
            out.append((item, row.line))
    return out


def _reference(cell: str) -> dict[str, str]:
    low = cell.lower()
    if low.startswith("policydefinitions/"):
        return {"policyDefinitionName": cell.split("/", 1)[1]}
    if low.startswith("policysetdefinitions/"):
        return {"policySetDefinitionName": cell.split("/", 1)[1]}
    if "/policyassignments/" in low:
        return {"policyAssignmentId": cell}
    if "/policysetdefinitions/" in low:
        return {"policySetDefinitionId": cell}
    return {"policyDefinitionId": cell}


def _expand(raw: Any, where: str, path: Path, line: int, estate: Estate, library: Library,
            sink: DiagnosticSink) -> None:
    if not isinstance(raw, dict):
        sink.add(str(path), line, 1, "an exemption must be a JSON object")
        return
    name = raw.get("name")
    problems = [f for f in ("name", "displayName", "exemptionCategory") if not raw.get(f)]
    targets = [t for t in TARGETS if raw.get(t)]
    if problems or len(targets) != 1 or bool(raw.get("scope")) == bool(raw.get("scopes")):
        sink.add(str(path), line, 1, f"exemption {name!r}: needs name, displayName, exemptionCategory, exactly one "
                 f"of {', '.join(TARGETS)} and exactly one of scope or scopes")
        return
    scopes = [(str(raw["scope"]), None)] if raw.get("scope") else [_labelled(str(s)) for s in raw["scopes"]]
    for scope, label in scopes:
        for assignment_id, asg_name, refs in _targets(raw, targets[0], scope, estate, library, where, sink):
            suffix = [s for s in (label, asg_name) if s]
            item_name = str(name) + (f"-{asg_name}" if asg_name else "")
            props: dict[str, Any] = {
                "displayName": " - ".join([str(raw["displayName"]), *suffix]),
                "description": " - ".join([str(raw["description"]), *suffix]) if raw.get("description") else "",
                "policyAssignmentId": assignment_id, "exemptionCategory": raw["exemptionCategory"],
                "metadata": dict(raw.get("metadata") or {}),
                # Azure's value when a request leaves it out ("validate the exemption is at or under the
                # assignment scope"): https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure
                "assignmentScopeValidation": raw.get("assignmentScopeValidation") or "Default",
            }
            if refs:
                props["policyDefinitionReferenceIds"] = refs
            for k in ("expiresOn", "resourceSelectors"):
                if raw.get(k):
                    props[k] = raw[k]
            # one name at each scope (ARM names an exemption per scope): the pack writes one intent with
            # `scope: [..]` for the copies alike, and renames (noting it) one that differs
            estate.items.append(Item("exemption", {"name": item_name, "properties": props, "scope": scope}, where))


def _labelled(value: str) -> tuple[str, str | None]:
    """`label:/scope` -> (scope, label); `:/scope` -> (scope, None); `/scope` -> (scope, last segment)."""
    at = value.find(":/")
    if at >= 0:
        return value[at + 1:], (value[:at] or None)
    return value, value.rstrip("/").rsplit("/", 1)[-1]


def _targets(raw: dict[str, Any], target: str, scope: str, estate: Estate, library: Library, where: str,
             sink: DiagnosticSink) -> list[tuple[str, str | None, list[str]]]:
    """(assignment id, assignment name for the generated name or None, reference ids) per exemption."""
    refs = [str(r) for r in raw.get("policyDefinitionReferenceIds") or []]
    if target == "policyAssignmentId":
        return [(str(raw[target]), None, refs)]
    value = str(raw[target])
    rtype = "policySetDefinitions" if target.startswith("policySet") else "policyDefinitions"
    wanted = value if target.endswith("Id") else estate.definition_scope + RID.format(rtype, value)
    out = []
    for asg in estate.of("assignment"):
        p = asg.props
        assigned = str(p.get("policyDefinitionId") or "")
        if not _covers(str(p.get("scope") or ""), scope):
            continue
        aid = f"{p.get('scope')}/providers/Microsoft.Authorization/policyAssignments/{asg.name}"
        if assigned.lower() == wanted.lower():
            out.append((aid, asg.name, _translate(refs, assigned, library)))
        elif rtype == "policyDefinitions" and "/policysetdefinitions/" in assigned.lower():
            members = (library.get(assigned) or {}).get("policyDefinitions") or []
            ids = [str(m.get("policyDefinitionReferenceId")) for m in members if isinstance(m, dict)
                   and str(m.get("policyDefinitionId") or "").lower() == wanted.lower()]
            if ids:
                out.append((aid, asg.name, ids))
    if not out:
        file, line, _ = where.rsplit(":", 2)
        sink.add(file, int(line), 1, f"exemption {raw.get('name')!r}: no assignment of {value} in this tree covers "
                 f"{scope}")
    return out


def _covers(assignment_scope: str, scope: str) -> bool:
    """Whether an assignment scope may contain `scope`: textually, or any management group (its subscriptions
    are not in the tree: EPAC reads them from Azure)."""
    a, s = key(assignment_scope), key(scope)
    return s == a or s.startswith(a + "/") or "/managementgroups/" in a


def _translate(refs: list[str], set_id: str, library: Library) -> list[str]:
    """`policyDefinitions/<name>` and built-in policy ids in policyDefinitionReferenceIds -> the set's reference ids."""
    members = (library.get(set_id) or {}).get("policyDefinitions") or []
    out = []
    for r in refs:
        low = r.lower()
        if low.startswith("policydefinitions/") or low.startswith("/providers/"):
            name = r.rstrip("/").rsplit("/", 1)[-1].lower()
            out += [str(m.get("policyDefinitionReferenceId")) for m in members if isinstance(m, dict)
                    and str(m.get("policyDefinitionId") or "").rstrip("/").rsplit("/", 1)[-1].lower() == name]
        else:
            out.append(r)
    return out
