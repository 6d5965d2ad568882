"""EPAC CSV parameter files: effects, parameters and non-compliance messages of policy-set assignments.

Columns (https://azure.github.io/enterprise-azure-policy-as-code/policy-assignments-csv-parameters/):
`name`, `referencePath` (`<setName>\\\\<referenceId>`, or `//`, when a policy appears twice), the
documentation columns (`policyType`, `category`, `displayName`, `description`, `groupNames`, `policySets`,
`allowedEffects`, ignored), `<selector>Effect` and `<selector>Parameters` chosen by the branch's
`parameterSelector`, and the column `nonComplianceMessageColumn` names. Semantics as EPAC's
Merge-AssignmentParametersEx.ps1: every row's Parameters cell (JSON) is merged into the parameters; a row's
effect goes to the set parameter that surfaces it, or into a `policyEffect` override (at most 50 reference
ids per selector, 10 overrides) when the set does not surface it; a value equal to the default is left out;
a policy already given the same effect by an earlier set of a `definitionEntryList` is downgraded
(Deny/Modify/Append -> Audit, DeployIfNotExists -> AuditIfNotExists) when the set allows it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.adopt.epac_details import BUILTIN, CANONICAL, GUID, Library, ci_in
from policygen.adopt.files import MAX_FILE_BYTES
from policygen.errors import DiagnosticSink

REQUIRED = ("name", "referencePath")
DOWNGRADE = {"append": "audit", "modify": "audit", "deny": "audit", "deployifnotexists": "auditifnotexists"}
MAX_IDS, MAX_OVERRIDES = 50, 10
csv.field_size_limit(MAX_FILE_BYTES)


@dataclass
class Row:
    line: int
    cells: dict[str, str]


@dataclass
class Table:
    path: Path
    header: list[str]
    rows: list[Row] = field(default_factory=list)


def read_csv(path: Path, sink: DiagnosticSink) -> Table | None:
    """The table, or None with a `file:line:col` diagnostic (unreadable, not CSV, no header, no rows)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            sink.add(str(path), 1, 1, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
            return None
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        sink.add(str(path), 1, 1, f"cannot read CSV file: {exc}")
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        table = Table(path, header)
        start = reader.line_num + 1
        for cells in reader:
            if any(c.strip() for c in cells):
                table.rows.append(Row(start, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header)}))
            start = reader.line_num + 1
    except csv.Error as exc:
        sink.add(str(path), reader.line_num or 1, 1, f"invalid CSV: {exc}")
        return None
    if not table.header or not any(table.header):
        sink.add(str(path), 1, 1, "CSV parameter file has no header row")
        return None
    if not table.rows:
        sink.add(str(path), 1, 1, "CSV parameter file is empty (zero rows)")
        return None
    return table


def check_columns(table: Table, selector: str, message_column: str | None, sink: DiagnosticSink) -> bool:
    wanted = [*REQUIRED, f"{selector}Effect", f"{selector}Parameters", *([message_column] if message_column else [])]
    missing = [c for c in wanted if c not in table.header]
    if missing:
        sink.add(str(table.path), 1, 1, f"CSV parameter file has no column {', '.join(repr(m) for m in missing)} "
                 f"(parameterSelector {selector!r} needs name, referencePath, {selector}Effect, "
                 f"{selector}Parameters); columns: {', '.join(table.header)}")
        return False
    return True


def _reference_key(policy_id: str, path: str) -> str:
    """EPAC keys a policy listed twice by `<id>\\\\<setName>\\\\<referenceId>`; `//` and `\\` accepted too."""
    if not path.strip():
        return policy_id.lower()
    for sep in ("\\\\", "//", "\\", "/"):
        if sep in path:
            set_name, ref = path.split(sep, 1)
            return f"{policy_id.lower()}\\{set_name.strip().lower()}\\{ref.strip().lower()}"
    return f"{policy_id.lower()}\\{path.strip().lower()}"


@dataclass
class Flat:
    """EPAC's flat policy list for the sets of one branch: key -> {set id -> member}."""

    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)


def flat_list(set_ids: list[str], library: Library) -> Flat | None:
    flat = Flat()
    twice: set[str] = set()
    members_of = {}
    for sid in set_ids:
        members = library.members(sid)
        if members is None:
            return None
        members_of[sid] = members
        seen: set[str] = set()
        for m in members:
            (twice.add if m.policy_id.lower() in seen else seen.add)(m.policy_id.lower())
    for sid in set_ids:
        set_name = sid.rstrip("/").rsplit("/", 1)[-1]
        for m in members_of[sid]:
            k = m.policy_id.lower()
            if k in twice:
                k = f"{k}\\{set_name.lower()}\\{m.reference_id.lower()}"
            flat.by_key.setdefault(k, {})[sid.lower()] = m
    return flat


def row_policy_id(name: str, root_scope: str, library: Library) -> str | None:
    """The policy a row names: a custom definition of the tree, else a built-in (checked when known)."""
    custom = f"{root_scope}/providers/Microsoft.Authorization/policyDefinitions/{name}"
    if library.known(custom):
        return custom
    builtin = f"/providers/Microsoft.Authorization/policyDefinitions/{name}"
    if library.known(builtin) or (library.builtins_dir is None and GUID.match(name)):
        return builtin  # built-ins are named by GUID; without --builtins the GUID is taken on trust
    return None


def apply_csv(table: Table, selector: str, message_column: str | None, set_id: str, flat: Flat,
              root_scope: str, library: Library, parameters: dict[str, Any], processed: dict[str, str],
              crumb: str, sink: DiagnosticSink) -> dict[str, Any] | None:
    """{parameters, overrides?, nonComplianceMessages?} for one set assignment, or None after diagnostics."""
    effect_col, params_col = f"{selector}Effect", f"{selector}Parameters"
    values = dict(parameters)
    keyed: list[tuple[Row, str]] = []
    ok = True
    for row in table.rows:
        name = row.cells.get("name", "").strip()
        if not name:
            continue
        pid = row_policy_id(name, root_scope, library)
        if pid is None:
            sink.add(str(table.path), row.line, 1, f"{crumb}: row names an unknown policy {name!r}")
            ok = False
            continue
        keyed.append((row, _reference_key(pid, row.cells.get("referencePath", ""))))
        cell = row.cells.get(params_col, "").strip()
        if cell:
            try:
                added = json.loads(cell)
            except ValueError as exc:
                sink.add(str(table.path), row.line, 1, f"{crumb}: column {params_col} of policy {name!r} is not "
                         f"JSON: {exc}")
                ok = False
                continue
            if not isinstance(added, dict):
                sink.add(str(table.path), row.line, 1, f"{crumb}: column {params_col} of policy {name!r} must be "
                         "a JSON object of parameter values")
                ok = False
                continue
            values.update(added)
    by_effect: dict[str, list[str]] = {}
    messages = []
    for row, k in keyed:
        member = flat.by_key.get(k, {}).get(set_id.lower())
        if member is None:
            continue  # EPAC warns: a row for a policy this set does not contain
        effect = row.cells.get(effect_col, "").strip()
        desired, use_overrides = effect.lower(), not member.parameterized
        if member.parameterized and not ci_in(desired, member.allowed):
            use_overrides = True
        if use_overrides and not ci_in(desired, member.overrides):
            sink.add(str(table.path), row.line, 1, f"{crumb}: column {effect_col} of policy {row.cells['name']!r}: "
                     f"effect {effect!r} must be one of {', '.join(member.overrides)}")
            ok = False
            continue
        if k not in processed:
            processed[k] = desired
        elif desired == processed[k]:  # an earlier set of the list gave this policy the same effect
            lower = DOWNGRADE.get(desired, desired)
            if ci_in(lower, member.allowed):
                desired = lower
            elif ci_in(lower, member.overrides):
                desired, use_overrides = lower, True
            elif lower in ("audit", "auditifnotexists"):
                desired = "disabled"
                if ci_in(desired, member.allowed):
                    use_overrides = False
                elif ci_in(desired, member.overrides):
                    use_overrides = True
        cased = _cased(desired, [*member.allowed, *member.overrides])
        if cased is None:
            sink.add(str(table.path), row.line, 1, f"{crumb}: column {effect_col} of policy {row.cells['name']!r}: "
                     f"effect {effect!r} is not spelled as the definition allows ({', '.join(member.allowed)})")
            ok = False
            continue
        if cased.lower() != str(member.default or "").lower():
            if use_overrides:
                by_effect.setdefault(cased, []).append(member.reference_id)
            elif member.effect_parameter:
                values[member.effect_parameter] = cased
        if message_column and row.cells.get(message_column, "").strip():
            messages.append({"message": row.cells[message_column], "policyDefinitionReferenceId": member.reference_id})
    out: dict[str, Any] = {"parameters": values}
    overrides = [{"kind": "policyEffect", "value": effect,
                  "selectors": [{"kind": "policyDefinitionReferenceId", "in": ids[i:i + MAX_IDS]}]}
                 for effect, ids in by_effect.items() for i in range(0, len(ids), MAX_IDS)]
    if len(overrides) > MAX_OVERRIDES:
        sink.add(str(table.path), 1, 1, f"{crumb}: the CSV needs {len(overrides)} overrides for policies whose effect "
                 f"the set does not surface; Azure allows {MAX_OVERRIDES}")
        ok = False
    if overrides:
        out["overrides"] = overrides
    if messages:
        out["nonComplianceMessages"] = messages
    return out if ok else None


def _cased(effect: str, allowed: list[str]) -> str | None:
    """The effect as the definition spells it (Azure compares allowedValues with case), else None."""
    if effect in allowed:
        return effect
    canonical = CANONICAL.get(effect.lower())
    return canonical if canonical in allowed else None


def is_builtin(policy_id: str) -> bool:
    return policy_id.lower().startswith(BUILTIN)
