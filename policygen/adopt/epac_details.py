"""What EPAC knows about each definition it assigns: its parameters, its effect parameter and allowed effects.

EPAC needs this to turn a CSV parameter file into assignment parameters and `overrides`, to drop parameters
a definition does not declare, and to decide whether an assignment needs a managed identity (any
`roleDefinitionIds` in the rules it runs). The rules restate EPAC's own (Scripts/Helpers/
Convert-PolicyToDetails.ps1, Convert-PolicySetToDetails.ps1, Build-AssignmentParameterObject.ps1 in
https://github.com/Azure/enterprise-azure-policy-as-code); PowerShell hashtables compare names without case,
and so does every lookup here.

Custom definitions come from the `Definitions/` tree; built-ins from `--builtins DIR` (the azure-policy
repository layout) when given: without it a built-in is an opaque id and whatever needs its content says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.arm.lookup import ci_get

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
PARAM = re.compile(r"^\[parameters\('([^']+)'\)\]$", re.IGNORECASE)
BUILTIN = "/providers/microsoft.authorization/"
CANONICAL = {e.lower(): e for e in ("Append", "Audit", "AuditIfNotExists", "Deny", "DenyAction",
                                    "DeployIfNotExists", "Disabled", "Manual", "Modify")}


def parameter_name(value: Any) -> str | None:
    """`x` for the string "[parameters('x')]" (EPAC's Get-ParameterNameFromValueString), else None."""
    m = PARAM.match(value.strip()) if isinstance(value, str) else None
    return m.group(1) if m else None


def ci_in(value: str, values: list[Any]) -> bool:
    return value.lower() in {str(v).lower() for v in values}


@dataclass
class PolicyInfo:
    """A definition's effect as EPAC classifies it (Convert-PolicyToDetails)."""

    effect_parameter: str | None
    default: str | None
    allowed: list[str]
    overrides: list[str]  # effects an assignment override may set
    reason: str  # "Policy Default" | "Policy No Default" | "Policy Fixed"
    deprecated: bool


@dataclass
class Member:
    """One policy inside a set, as the set surfaces it (Convert-PolicySetToDetails)."""

    policy_id: str
    reference_id: str
    effect_parameter: str | None  # the *set's* parameter carrying the effect, when it surfaces one
    default: str | None
    allowed: list[str]
    overrides: list[str]
    reason: str

    @property
    def parameterized(self) -> bool:
        return self.reason in ("PolicySet Default", "PolicySet No Default")


def policy_info(props: dict[str, Any]) -> PolicyInfo:
    rule = props.get("policyRule") if isinstance(props.get("policyRule"), dict) else {}
    then = rule.get("then") if isinstance(rule.get("then"), dict) else {}
    raw = then.get("effect")
    params = props.get("parameters") if isinstance(props.get("parameters"), dict) else {}
    pname = parameter_name(raw)
    default, allowed, overrides, reason = None, [], [], "Policy No Default"
    if pname is not None:
        spec = ci_get(params, pname) or {}
        spec = spec if isinstance(spec, dict) else {}
        if spec.get("defaultValue"):
            default, reason = str(spec["defaultValue"]), "Policy Default"
        if isinstance(spec.get("allowedValues"), list) and spec["allowedValues"]:
            allowed = overrides = [str(v) for v in spec["allowedValues"]]
    else:
        default, reason = (str(raw) if raw is not None else None), "Policy Fixed"
        allowed = [default] if default else []
    if not overrides:
        overrides = _overrides_by_shape(then.get("details"), reason, default)
    text = f"{props.get('displayName') or ''} {props.get('description') or ''}".lower()
    meta = props.get("metadata") if isinstance(props.get("metadata"), dict) else {}
    versions = f"{meta.get('version') or ''} {props.get('version') or ''}".lower()
    return PolicyInfo(pname, default, allowed, overrides, reason, "deprecated" in text or "deprecated" in versions)


def _overrides_by_shape(details: Any, reason: str, default: str | None) -> list[str]:
    """The effects an override may choose when the rule does not list them: read from `then.details`."""
    d = details if isinstance(details, dict) else {}
    if d.get("actionNames"):
        return ["Disabled", "DenyAction"]
    if d.get("defaultState"):
        return ["Disabled", "Manual"]
    if d.get("existenceCondition") and d.get("deployment"):
        return ["Disabled", "AuditIfNotExists", "DeployIfNotExists"]
    if d.get("existenceCondition"):
        return ["Disabled", "AuditIfNotExists"]
    if d.get("operations"):
        return ["Disabled", "Audit", "Modify"]
    if isinstance(details, list) and details:
        return ["Disabled", "Audit", "Deny", "Append"]
    if reason == "Policy Fixed" and str(default).lower() not in ("deny", "audit"):
        return ["Disabled", "Audit"]
    return ["Disabled", "Audit", "Deny"]


def roles_of(props: dict[str, Any]) -> list[str]:
    rule = props.get("policyRule") if isinstance(props.get("policyRule"), dict) else {}
    then = rule.get("then") if isinstance(rule.get("then"), dict) else {}
    details = then.get("details") if isinstance(then.get("details"), dict) else {}
    roles = details.get("roleDefinitionIds")
    return [str(r) for r in roles] if isinstance(roles, list) else []


@dataclass
class Library:
    """Definitions and sets by id (lower-cased): the tree's customs and, when given, the built-ins."""

    customs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id.lower() -> properties
    builtins_dir: Path | None = None
    _catalogue: Any = None

    def get(self, policy_id: str) -> dict[str, Any] | None:
        low = policy_id.lower()
        if low in self.customs:
            return self.customs[low]
        if not low.startswith(BUILTIN) or self.builtins_dir is None:
            return None
        if self._catalogue is None:
            from policygen.emulator.builtins import Catalogue  # the one reader of the azure-policy layout

            self._catalogue = Catalogue(self.builtins_dir)
        kind = "policySetDefinitions" if "/policysetdefinitions/" in low else "policyDefinitions"
        found = self._catalogue.get(kind, policy_id.rstrip("/").rsplit("/", 1)[-1])
        return found.get("properties") if isinstance(found, dict) else None

    def known(self, policy_id: str) -> bool:
        return self.get(policy_id) is not None

    def parameters(self, policy_id: str) -> dict[str, Any] | None:
        props = self.get(policy_id)
        if props is None:
            return None
        params = props.get("parameters")
        return params if isinstance(params, dict) else {}

    def roles(self, policy_id: str) -> list[str] | None:
        """Role ids the assigned definition's rules name (a set: its members'), or None when unknown."""
        props = self.get(policy_id)
        if props is None:
            return None
        if "/policysetdefinitions/" not in policy_id.lower():
            return roles_of(props)
        out: list[str] = []
        for m in props.get("policyDefinitions") or []:
            member = self.get(str(m.get("policyDefinitionId") or "")) if isinstance(m, dict) else None
            if member is None:
                return None
            out += roles_of(member)
        return out

    def members(self, set_id: str) -> list[Member] | None:
        """The set's members with their effects as the set surfaces them; None when a member is unknown."""
        props = self.get(set_id)
        if props is None:
            return None
        set_params = props.get("parameters") if isinstance(props.get("parameters"), dict) else {}
        out = []
        for m in props.get("policyDefinitions") or []:
            if not isinstance(m, dict):
                continue
            pid = str(m.get("policyDefinitionId") or "")
            member_props = self.get(pid)
            if member_props is None:
                return None
            info = policy_info(member_props)
            out.append(_member(pid, str(m.get("policyDefinitionReferenceId") or ""), info,
                               m.get("parameters") if isinstance(m.get("parameters"), dict) else {}, set_params))
        return out


def _member(pid: str, ref: str, info: PolicyInfo, passed: dict[str, Any], set_params: dict[str, Any]) -> Member:
    member = Member(pid, ref, "", info.default, info.allowed, info.overrides, info.reason)
    if info.reason == "Policy Fixed" or info.effect_parameter is None:
        return member
    value = ci_get(passed, info.effect_parameter)
    if value is None and not any(k.lower() == info.effect_parameter.lower() for k in passed):
        return member  # the set does not pass the effect: the policy's own default rules
    raw = value.get("value") if isinstance(value, dict) else value
    surfaced = parameter_name(raw)
    if surfaced is None:
        member.effect_parameter, member.default, member.reason = None, (str(raw) if raw is not None else None), \
            "PolicySet Fixed"
        return member
    spec = ci_get(set_params, surfaced)
    spec = spec if isinstance(spec, dict) else {}
    member.effect_parameter = surfaced
    if spec.get("defaultValue"):
        member.default, member.reason = str(spec["defaultValue"]), "PolicySet Default"
    else:
        member.reason = "PolicySet No Default"
    if isinstance(spec.get("allowedValues"), list) and spec["allowedValues"]:
        member.allowed = [str(v) for v in spec["allowedValues"]]
    return member


def filter_parameters(values: dict[str, Any], declared: dict[str, Any] | None) -> dict[str, Any]:
    """Only the parameters the definition declares, named as it names them (Build-AssignmentParameterObject);
    everything when the definition is unknown (a built-in without --builtins)."""
    if declared is None:
        return dict(values)
    by_lower = {k.lower(): k for k in values}
    return {name: values[by_lower[name.lower()]] for name in declared if name.lower() in by_lower}
