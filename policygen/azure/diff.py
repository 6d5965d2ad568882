"""Compare a desired body with what Azure returns: project both onto the fields we own, normalise what ARM
normalises (case of ids and locations, server stamps, empty vs absent), then list per-field differences.

Also the replace rules: changes Azure cannot make in place (a parameter removed or its type changed, a new
parameter without a default, an assignment's identity type, user-assigned identity or location changed, or
its definition id changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STAMPS = {"createdby", "createdon", "updatedby", "updatedon"}
FIELDS: dict[str, tuple[str, ...]] = {
    "definition": ("displayName", "description", "mode", "metadata", "parameters", "policyRule", "version"),
    "initiative": ("displayName", "description", "metadata", "parameters", "policyDefinitions",
                   "policyDefinitionGroups", "version"),
    "assignment": ("displayName", "description", "policyDefinitionId", "definitionVersion", "parameters",
                   "enforcementMode", "notScopes", "nonComplianceMessages", "metadata", "overrides",
                   "resourceSelectors"),
    "exemption": ("displayName", "description", "policyAssignmentId", "policyDefinitionReferenceIds",
                  "exemptionCategory", "expiresOn", "assignmentScopeValidation", "resourceSelectors", "metadata"),
}
REF_FIELDS = ("policyDefinitionId", "policyDefinitionReferenceId", "parameters", "groupNames", "definitionVersion")
MISSING = "(absent)"


@dataclass(frozen=True)
class FieldDiff:
    path: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


def _clean(value: Any) -> Any:
    """Drop None and empty containers, recursively: ARM treats absent, null and empty alike here. (Scalars,
    most of a body, are not passed through a call: an estate's no-change plan cleans 600,000 values.)"""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                v = _clean(v)
                if not v:
                    continue
            elif v is None:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_clean(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


def _instant(value: Any) -> Any:
    """An ISO 8601 instant in one form (ARM answers with up to 7 fractional digits)."""
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return value
    return when.replace(tzinfo=when.tzinfo or UTC).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _location(value: Any) -> Any:
    return str(value).replace(" ", "").lower() if isinstance(value, str) else value


def project(kind: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """The comparable part of a definition, initiative or assignment body."""
    if not body:
        return {}
    props = body.get("properties") or {}
    out: dict[str, Any] = {k: props[k] for k in FIELDS[kind] if k in props}
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = {k: v for k, v in out["metadata"].items() if k.lower() not in STAMPS}
    if out.get("description") == "":
        del out["description"]  # an intent without one sends ""; Azure holds none for a body without one
    if kind == "initiative":
        refs = []
        for ref in out.get("policyDefinitions") or []:
            r = {k: ref[k] for k in REF_FIELDS if k in ref}
            if "policyDefinitionId" in r:
                r["policyDefinitionId"] = str(r["policyDefinitionId"]).lower()
            refs.append(r)
        out["policyDefinitions"] = refs
    if kind == "exemption":
        if "policyAssignmentId" in out:
            out["policyAssignmentId"] = str(out["policyAssignmentId"]).lower()
        if "exemptionCategory" in out:  # Azure answers in either case ("waiver" in Learn's example)
            out["exemptionCategory"] = str(out["exemptionCategory"]).lower()
        if out.get("expiresOn"):
            out["expiresOn"] = _instant(out["expiresOn"])
        if str(out.get("assignmentScopeValidation", "")).lower() == "default":
            out.pop("assignmentScopeValidation")  # the default, absent or not
    if kind == "assignment":
        if "policyDefinitionId" in out:
            out["policyDefinitionId"] = str(out["policyDefinitionId"]).lower()
        out["notScopes"] = sorted(str(s).lower().rstrip("/") for s in out.get("notScopes") or [])
        identity = body.get("identity") or {}
        itype = str(identity.get("type") or "None")
        wrapped: dict[str, Any] = {"properties": out}
        if itype.lower() != "none":
            ident: dict[str, Any] = {"type": itype}
            if identity.get("userAssignedIdentities"):
                ident["userAssignedIdentities"] = sorted(k.lower() for k in identity["userAssignedIdentities"])
            wrapped["identity"] = ident
            wrapped["location"] = _location(body.get("location"))
        elif body.get("location"):
            wrapped["location"] = _location(body.get("location"))
        return _clean(wrapped)
    return _clean({"properties": out})


def field_diffs(before: Any, after: Any, path: str = "") -> list[FieldDiff]:
    """Per-field differences between two projections (lists of equal length compared item by item)."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[FieldDiff] = []
        for k in sorted(set(before) | set(after)):
            sub = f"{path}.{k}" if path else k
            if k not in before:
                out.append(FieldDiff(sub, MISSING, after[k]))
            elif k not in after:
                out.append(FieldDiff(sub, before[k], MISSING))
            else:
                out.extend(field_diffs(before[k], after[k], sub))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after) and \
            all(isinstance(x, dict) for x in before + after):
        out = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out.extend(field_diffs(b, a, f"{path}[{i}]"))
        return out
    return [FieldDiff(path, before, after)]


def compare(kind: str, remote_body: dict[str, Any], desired_body: dict[str, Any]) -> list[FieldDiff]:
    before, after = project(kind, remote_body), project(kind, desired_body)
    _unpinned(before, after)
    _type_case(before, after)
    return field_diffs(before, after)


def _type_case(before: dict[str, Any], after: dict[str, Any]) -> None:
    """A parameter type that differs only in case is the same type: ARM reads `string` as `String` and may
    answer in its own case (the desired case is shown)."""
    bparams = (before.get("properties") or {}).get("parameters")
    aparams = (after.get("properties") or {}).get("parameters")
    if not isinstance(bparams, dict) or not isinstance(aparams, dict):
        return
    for name, spec in bparams.items():
        want = aparams.get(name)
        if isinstance(spec, dict) and isinstance(want, dict) and isinstance(spec.get("type"), str) \
                and isinstance(want.get("type"), str) and spec["type"].lower() == want["type"].lower():
            bparams[name] = {**spec, "type": want["type"]}


def _unpinned(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Azure fills `definitionVersion` (the latest major, e.g. `1.*.*`) where the body pins none: only a
    pin we set is ours to compare (assignment structure, "Policy definition ID and version")."""
    bprops, aprops = before.get("properties") or {}, after.get("properties") or {}
    if "definitionVersion" not in aprops:
        bprops.pop("definitionVersion", None)
    brefs, arefs = bprops.get("policyDefinitions") or [], aprops.get("policyDefinitions") or []
    if len(brefs) == len(arefs):
        for b, a in zip(brefs, arefs, strict=True):
            if "definitionVersion" not in a:
                b.pop("definitionVersion", None)


def replace_reasons(kind: str, remote_body: dict[str, Any], desired_body: dict[str, Any]) -> list[tuple[str, str]]:
    """Why Azure cannot update in place: [(token, human reason)], empty when an update works."""
    reasons: list[tuple[str, str]] = []
    rprops, dprops = remote_body.get("properties") or {}, desired_body.get("properties") or {}
    if kind in ("definition", "initiative"):
        before = {k.lower(): (k, v) for k, v in (rprops.get("parameters") or {}).items()}
        after = {k.lower(): (k, v) for k, v in (dprops.get("parameters") or {}).items()}
        for low, (name, spec) in sorted(before.items()):
            if low not in after:
                reasons.append(("parameter_removed", f"parameter '{name}' removed"))
                continue
            old_t, new_t = str((spec or {}).get("type", "")), str((after[low][1] or {}).get("type", ""))
            if old_t.lower() != new_t.lower():
                reasons.append(("parameter_type_changed", f"parameter '{name}' type {old_t} -> {new_t}"))
        for low, (name, spec) in sorted(after.items()):
            if low not in before and "defaultValue" not in (spec or {}):
                reasons.append(("parameter_added_without_default", f"new parameter '{name}' has no default value"))
    if kind == "assignment":
        ri, di = remote_body.get("identity") or {}, desired_body.get("identity") or {}
        rtype, dtype = str(ri.get("type") or "None"), str(di.get("type") or "None")
        if rtype.lower() != dtype.lower():
            reasons.append(("identity_type_changed", f"identity {rtype} -> {dtype}"))
        elif dtype.lower() == "userassigned" and \
                sorted(k.lower() for k in ri.get("userAssignedIdentities") or {}) != \
                sorted(k.lower() for k in di.get("userAssignedIdentities") or {}):
            reasons.append(("user_assigned_identity_changed", "user-assigned identity changed"))
        rloc, dloc = _location(remote_body.get("location")), _location(desired_body.get("location"))
        if rloc and dloc and rloc != dloc:
            reasons.append(("identity_location_changed",
                            f"identity location {remote_body.get('location')} -> {desired_body.get('location')}"))
        rdef = str(rprops.get("policyDefinitionId") or "").lower()
        ddef = str(dprops.get("policyDefinitionId") or "").lower()
        if rdef and ddef and rdef != ddef:
            reasons.append(("definition_changed", "assigned definition changed"))
    return reasons
