"""What every exporter shares: deterministic JSON, the synchronised output folder, and the facts an
exporter derives from a build (scope kinds, roles an identity needs, remediation tasks to create)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.arm.scopes import ScopeError, ScopeKind, parse_scope
from policygen.artefacts import Artefact, Build
from policygen.assignment_effects import (
    Lookup,
    Member,
    assignment_parameters,
    effect_in_force,
    member,
    members,
    remediates,
    role_ids,
)
from policygen.errors import InputError

MANIFEST = ".policygen-export"  # no .json suffix: the ALZ library walks every *.json file of a member
ROLE_PREFIX = "/providers/Microsoft.Authorization/roleDefinitions/"


def dump_json(obj: Any) -> str:
    """Sorted keys, two-space indent, final newline: byte-identical output for identical input."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass
class SyncSummary:
    """What an export changed in its output folder (paths relative to it, sorted)."""

    out_dir: str
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return sorted(self.written + self.unchanged)


def sync_tree(out_dir: Path | str, files: dict[str, str], *, force: bool = False) -> SyncSummary:
    """Make `out_dir` hold exactly `files` (plus our manifest): write changed files, remove stale ones.

    The folder is owned by policygen: a non-empty folder without our manifest is refused unless `force`,
    so pointing --out at a hand-written repository cannot wipe it. Nothing outside `out_dir` is touched
    and symbolic links are never followed.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    root = out.resolve()
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file() and not force:
        raise InputError(f"{out}: folder is not empty and was not written by `policygen export`; "
                         "choose an empty folder or pass --force to replace its contents")
    summary = SyncSummary(out_dir=str(out))
    wanted: set[Path] = set()
    for rel in sorted(files):
        target = (root / rel).resolve()
        if not target.is_relative_to(root) or target == root:
            raise InputError(f"{rel}: would be written outside {out}")
        wanted.add(target)
    manifest_text = "# Written by `policygen export`; files here not listed below are removed on re-export.\n" + \
        "".join(f"{rel}\n" for rel in sorted(files))
    for rel, text in sorted({**files, MANIFEST: manifest_text}.items()):
        target = root / rel
        if target.is_symlink():
            target.unlink()
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            if rel != MANIFEST:
                summary.unchanged.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        if rel != MANIFEST:
            summary.written.append(rel)
    wanted.add((root / MANIFEST).resolve())
    for dirpath, dirnames, filenames in os.walk(root, topdown=False, followlinks=False):
        here = Path(dirpath)
        for name in filenames + [d for d in dirnames if (here / d).is_symlink()]:
            path = here / name
            if path.resolve() not in wanted or path.is_symlink():
                path.unlink()
                summary.removed.append(path.relative_to(root).as_posix())
        if here != root and not any(here.iterdir()):
            here.rmdir()
    summary.removed.sort()
    return summary


def default_environment(pack_dir: Path | str) -> str | None:
    """The first environment that is a real Azure cloud (exports target Azure, not the emulator); None
    lets compile_pack pick (and report) as usual. Read through the intents loader, never raw YAML."""
    from policygen.intents.settings import read_settings

    settings = read_settings(pack_dir)  # problems are compile_pack's to report, all together
    if settings is None:
        return None
    return next((name for name, spec in settings.environments.items() if spec.cloud != "local"), None)


_DEPLOYABLE = (ScopeKind.MANAGEMENT_GROUP, ScopeKind.SUBSCRIPTION, ScopeKind.RESOURCE_GROUP)


def scope_kind(scope: str) -> str:
    """managementGroup, subscription or resourceGroup (what decides the resource/command to use)."""
    try:
        kind = parse_scope(scope).kind
    except ScopeError:
        kind = None
    if kind not in _DEPLOYABLE:
        raise InputError(f"{scope}: not a management group, subscription or resource group id")
    return str(kind)


def scope_name(scope: str) -> str:
    """The management group name, subscription id or resource group name of a scope id."""
    return parse_scope(scope).name


def local_name(build: Build, policy_id: str) -> tuple[str, str] | None:
    """("definition"|"initiative", name) when `policy_id` points at one of the pack's own artefacts."""
    name = policy_id.rsplit("/", 1)[-1]
    low = policy_id.lower()
    if "/policysetdefinitions/" in low and name in build.initiatives and \
            policy_id.lower() == build.definition_id("initiative", name).lower():
        return ("initiative", name)
    if "/policydefinitions/" in low and name in build.definitions and \
            policy_id.lower() == build.definition_id("definition", name).lower():
        return ("definition", name)
    return None


def _local_bodies(build: Build) -> Lookup:
    """Definition/initiative id -> REST body, for the pack's own artefacts only (built-ins are not known
    offline, so their members are left out, as `policygen apply` does without a connection)."""
    def find(policy_id: str) -> dict[str, Any] | None:
        local = local_name(build, policy_id)
        if local is None:
            return None
        return (build.initiatives if local[0] == "initiative" else build.definitions)[local[1]].body
    return find


def _members(build: Build, assignment: Artefact) -> list[Member]:
    return members(assignment.body, _local_bodies(build)) or []


def member_definitions(build: Build, assignment: Artefact) -> list[tuple[str | None, Artefact, Any]]:
    """(policyDefinitionReferenceId or None, local definition, effect parameter value) per local member.

    The effect value is the literal or `[parameters('x')]` the member passes for its `effect`; builtin
    members are left out (we do not know their rules offline).
    """
    out = []
    for m in _members(build, assignment):
        definition = build.definitions[local_name(build, m.definition_id)[1]]  # type: ignore[index]
        value = "[parameters('effect')]" if m.reference_id is None else m.passed.get("effect")
        out.append((m.reference_id, definition, value))
    return out


def effective_effect(build: Build, assignment: Artefact, definition: Artefact, value: Any) -> str | None:
    """The effect a member runs with under this assignment, as written; None when it cannot be told offline.

    `value` is what the member passes for its `effect` parameter (None: it passes none). Resolved by
    policygen.assignment_effects, the rule `policygen apply` uses.
    """
    target = _local_bodies(build)(assignment.properties["policyDefinitionId"]) or definition.body
    passed = {} if value is None else {"effect": value}
    effect = effect_in_force(member(build.definition_id("definition", definition.name), definition.body, passed,
                                    assignment_parameters(assignment.body, target), None))
    return effect if isinstance(effect, str) else None


def role_definition_ids(build: Build, assignment: Artefact) -> list[str]:
    """Roles the assignment's managed identity needs: roleDefinitionIds of members that remediate.

    Only roles the definitions name (never broader), as EPAC and the ALZ provider derive them; empty
    when the assignment has no system-assigned identity (a user-assigned one is granted by its owner).
    Which members remediate is decided by policygen.assignment_effects, as for `policygen apply`.
    """
    if (assignment.body.get("identity") or {}).get("type") != "SystemAssigned":
        return []
    roles = {r for m in _members(build, assignment) if remediates(m) for r in role_ids(m)}
    return sorted(roles, key=lambda r: r.lower())


@dataclass(frozen=True)
class RemediationTask:
    name: str
    assignment: str  # the build key (the name, or `name@scope` for one scope's copy)
    reference_id: str | None  # None for a single-definition assignment
    settings: dict[str, Any]


def remediation_tasks(build: Build, assignment: Artefact) -> list[RemediationTask]:
    """One task per member that will remediate (Modify/DeployIfNotExists in effect) when the intent asks.

    Members running with Audit/AuditIfNotExists/Disabled are skipped: a task for them would do nothing.
    """
    if not assignment.remediation.get("enabled"):
        return []
    settings = {k: v for k, v in assignment.remediation.items() if k != "enabled" and v not in (None, [])}
    tasks = []
    for m in _members(build, assignment):
        if remediates(m):
            label = assignment.key.replace("@", ".")  # one scope's copy of a multi-scope assignment: name.scope
            name = label if m.reference_id is None else f"{label}-{m.reference_id}"
            tasks.append(RemediationTask(name[:64], assignment.key, m.reference_id, settings))
    return sorted(tasks, key=lambda t: t.name)


def deployment_name(prefix: str, key: str) -> str:
    """A deployment's name for a build key (`name@scope` for one scope's copy of a multi-scope assignment):
    ARM deployment names take letters, digits, `-`, `_`, `.` and parentheses, at most 64."""
    return f"{prefix}{key.replace('@', '.')}"[:64]


def slug(text: str, sep: str = "_") -> str:
    """An identifier-safe form of a name (Terraform/Bicep symbols, ALZ archetype names)."""
    out = re.sub(r"[^A-Za-z0-9]+", sep, text).strip(sep)
    return out if out and not out[0].isdigit() else f"x{sep}{out}"


def without_owner(metadata: dict[str, Any] | None, *keys: str) -> dict[str, Any]:
    """Metadata minus the keys an engine stamps itself (EPAC injects pacOwnerId, deployedBy, assignedBy)."""
    return {k: v for k, v in (metadata or {}).items() if k not in keys}
