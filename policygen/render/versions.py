"""Breaking-change checks between two builds of a definition or initiative, the way `buf breaking` guards
protobuf APIs: every change is classified and the intent's semantic `version` must be bumped to match.

- **major** (breaking): a parameter removed, its type changed, its `allowedValues` narrowed, its default
  removed, a new parameter without a default (Azure refuses both on an assigned definition: "definition
  structure: parameters", https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters),
  a stricter default effect, a rule that matches more resources where that can be decided (mode Indexed ->
  All, a condition dropped from an `allOf`, one added to an `anyOf`), an initiative member removed;
- **minor**: an optional parameter (with a default) or allowed value added, metadata changed, a member added;
- **patch**: anything else (display name, description, a rule change that is not decidably broader).

Azure's own version field follows the same semver ("policy definition versioning"); assignments pin a major
with `definitionVersion: 1.*.*`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policygen.arm import effects
from policygen.artefacts import Artefact, Build, SourceRef

LEVELS = ("patch", "minor", "major")
# How much an effect blocks: moving the default up this ladder makes existing assignments stricter.
STRICTNESS = {"disabled": 0, "audit": 1, "auditifnotexists": 1, "manual": 1, "append": 2, "modify": 2,
              "deployifnotexists": 2, "denyaction": 3, "deny": 3}


@dataclass(frozen=True)
class VersionChange:
    level: str  # patch | minor | major
    what: str


@dataclass(frozen=True)
class VersionProblem:
    """A change whose version bump is missing or too small."""

    kind: str
    name: str
    before: str
    after: str
    needed: str
    changes: tuple[VersionChange, ...]
    source: SourceRef

    @property
    def message(self) -> str:
        worst = [c.what for c in self.changes if c.level == self.needed]
        return (f"{self.kind} {self.name}: version {self.after} (was {self.before}) needs a {self.needed} bump: "
                + "; ".join(worst[:4]) + (f" and {len(worst) - 4} more" if len(worst) > 4 else ""))


def _semver(v: Any) -> tuple[int, int, int] | None:
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)", str(v or ""))
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def bump(before: str, after: str) -> str | None:
    """The level of the bump from `before` to `after` (None: same or lower version)."""
    b, a = _semver(before), _semver(after)
    if b is None or a is None or a <= b:
        return None
    return "major" if a[0] > b[0] else "minor" if a[1] > b[1] else "patch"


def _params(changes: list[VersionChange], before: dict[str, Any], after: dict[str, Any], where: str) -> None:
    low_after = {k.lower(): (k, v) for k, v in after.items()}
    low_before = {k.lower(): k for k in before}
    for name, spec in before.items():
        found = low_after.get(name.lower())
        if found is None:
            changes.append(VersionChange("major", f"{where}parameter '{name}' removed"))
            continue
        new = found[1] or {}
        spec = spec or {}
        if str(spec.get("type", "")).lower() != str(new.get("type", "")).lower():
            changes.append(VersionChange("major", f"{where}parameter '{name}' type {spec.get('type')} -> "
                                         f"{new.get('type')}"))
        old_allowed, new_allowed = spec.get("allowedValues"), new.get("allowedValues")
        if new_allowed is not None:
            missing = [v for v in (old_allowed or []) if v not in new_allowed] if old_allowed is not None else \
                ["(any value)"]
            if missing:
                changes.append(VersionChange("major", f"{where}parameter '{name}' no longer allows "
                                             f"{', '.join(map(str, missing[:3]))}"))
            elif old_allowed is not None and len(new_allowed) > len(old_allowed):
                changes.append(VersionChange("minor", f"{where}parameter '{name}' allows more values"))
        elif old_allowed is not None:
            changes.append(VersionChange("minor", f"{where}parameter '{name}' allows any value"))
        if "defaultValue" in spec and "defaultValue" not in new:
            changes.append(VersionChange("major", f"{where}parameter '{name}' default removed"))
        elif "defaultValue" in spec and spec["defaultValue"] != new.get("defaultValue"):
            old_e, new_e = (str(spec["defaultValue"]).lower(), str(new.get("defaultValue")).lower())
            is_effect = name.lower() == "effect" or name.lower().startswith("effect-")
            if is_effect and STRICTNESS.get(new_e, 0) > STRICTNESS.get(old_e, 0):
                changes.append(VersionChange("major", f"{where}default effect {spec['defaultValue']} -> "
                                             f"{new.get('defaultValue')} is stricter"))
            else:
                changes.append(VersionChange("minor", f"{where}parameter '{name}' default changed"))
        if (spec.get("metadata") or {}) != (new.get("metadata") or {}):
            changes.append(VersionChange("minor", f"{where}parameter '{name}' metadata changed"))
    for low, (name, spec) in low_after.items():
        if low in low_before:
            continue
        if "defaultValue" in (spec or {}):
            changes.append(VersionChange("minor", f"{where}optional parameter '{name}' added"))
        else:
            changes.append(VersionChange("major", f"{where}parameter '{name}' added without a default"))


def _broader(before: Any, after: Any) -> str | None:
    """Why the `if` of `after` decidably matches more resources than `before` (None: not decidable)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return None
    if set(before) == {"allOf"} and set(after) == {"allOf"}:
        old, new = before["allOf"], after["allOf"]
        if all(c in old for c in new) and len(new) < len(old):
            return "a condition was dropped from the rule's allOf"
    if set(before) == {"anyOf"} and set(after) == {"anyOf"}:
        old, new = before["anyOf"], after["anyOf"]
        if all(c in new for c in old) and len(new) > len(old):
            return "a condition was added to the rule's anyOf"
    return None


def classify(kind: str, before: dict[str, Any], after: dict[str, Any]) -> list[VersionChange]:
    """Every change from `before` to `after` (REST bodies of one definition or initiative)."""
    bp, ap = before.get("properties") or {}, after.get("properties") or {}
    changes: list[VersionChange] = []
    _params(changes, bp.get("parameters") or {}, ap.get("parameters") or {}, "")
    strip = {"version", "pacOwnerId"}
    if {k: v for k, v in (bp.get("metadata") or {}).items() if k not in strip} != \
            {k: v for k, v in (ap.get("metadata") or {}).items() if k not in strip}:
        changes.append(VersionChange("minor", "metadata changed"))
    for f in ("displayName", "description"):
        if bp.get(f) != ap.get(f):
            changes.append(VersionChange("patch", f"{f} changed"))
    if kind == "definition":
        if str(bp.get("mode", "")).lower() == "indexed" and str(ap.get("mode", "")).lower() == "all":
            changes.append(VersionChange("major", "mode Indexed -> All evaluates more resources"))
        old_rule, new_rule = bp.get("policyRule") or {}, ap.get("policyRule") or {}
        if old_rule != new_rule:
            why = _broader(old_rule.get("if"), new_rule.get("if"))
            changes.append(VersionChange("major", why) if why else VersionChange("patch", "policy rule changed"))
            then_old, then_new = old_rule.get("then") or {}, new_rule.get("then") or {}
            e_old, e_new = effects.canonical(str(then_old.get("effect", ""))), \
                effects.canonical(str(then_new.get("effect", "")))
            if e_old and e_new and STRICTNESS.get(e_new.lower(), 0) > STRICTNESS.get(e_old.lower(), 0):
                changes.append(VersionChange("major", f"effect {e_old} -> {e_new} is stricter"))
    else:
        old = {m.get("policyDefinitionReferenceId"): m for m in bp.get("policyDefinitions") or []}
        new = {m.get("policyDefinitionReferenceId"): m for m in ap.get("policyDefinitions") or []}
        for ref in sorted(set(old) - set(new), key=str):
            changes.append(VersionChange("major", f"member '{ref}' removed"))
        for ref in sorted(set(new) - set(old), key=str):
            changes.append(VersionChange("minor", f"member '{ref}' added"))
        for ref in sorted(set(old) & set(new), key=str):
            if old[ref] != new[ref]:
                changes.append(VersionChange("patch", f"member '{ref}' changed"))
        if (bp.get("policyDefinitionGroups") or []) != (ap.get("policyDefinitionGroups") or []):
            changes.append(VersionChange("patch", "groups changed"))
    return changes


def needed(changes: list[VersionChange]) -> str | None:
    return max((c.level for c in changes), key=LEVELS.index, default=None)


def check(kind: str, name: str, before: dict[str, Any], after: dict[str, Any],
          source: SourceRef) -> VersionProblem | None:
    """A problem when `after` changes `before` without at least the bump its changes need."""
    changes = classify(kind, before, after)
    need = needed(changes)
    if need is None:
        return None
    b_ver = str((before.get("properties") or {}).get("version") or "0.0.0")
    a_ver = str((after.get("properties") or {}).get("version") or "0.0.0")
    got = bump(b_ver, a_ver)
    if got is not None and LEVELS.index(got) >= LEVELS.index(need):
        return None
    return VersionProblem(kind, name, b_ver, a_ver, need, tuple(changes), source)


def compare_builds(previous: dict[str, dict[str, Any]], build: Build) -> list[VersionProblem]:
    """Problems of `build` against a previous build ({relpath: body}, e.g. read from an output folder)."""
    out = []
    for group in (build.definitions, build.initiatives):
        for name in sorted(group):
            art = group[name]
            before = previous.get(art.relpath)
            if before is not None:
                problem = check(art.kind, art.name, before, art.body, version_source(art))
                if problem:
                    out.append(problem)
    return out


def read_build(folder: Path | str) -> dict[str, dict[str, Any]]:
    """The definitions and initiatives of a previous build folder ({relpath: body}); unreadable files skipped."""
    root = Path(folder)
    out: dict[str, dict[str, Any]] = {}
    for sub in ("definitions", "initiatives"):
        for path in sorted((root / sub).glob("*.json")) if (root / sub).is_dir() else []:
            try:
                body = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(body, dict):
                out[f"{sub}/{path.name}"] = body
    return out


def version_source(art: Artefact) -> SourceRef:
    """Where the intent's `version:` is (the intent itself when it does not set one)."""
    return art.pointers.get("/properties/version") or art.source
