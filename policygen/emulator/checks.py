"""Request validation as Azure does it, by policygen's own validator (`policygen.rules.validate_object`).

The emulator rejects exactly what `policygen validate` calls an Azure-side error. This module only maps the
validator's rule codes and messages onto the ARM error codes Azure answers with; the checks that need the
emulator's state (does the referenced definition exist, is it visible from the scope, is it still referenced)
live with the resource families.
"""

from __future__ import annotations

from typing import Any

from policygen.emulator.core import ArmError

# The ARM code for a validator finding, most specific first: (rule code or prefix, message fragment, ARM code).
_MAP: list[tuple[str, str, str]] = [
    ("", "UndefinedPolicyParameter", "UndefinedPolicyParameter"),
    ("SET-02", "", "UndefinedPolicyParameter"),
    ("", "ResourceIdentityRequired", "ResourceIdentityRequired"),
    ("ASG-05", "required parameter", "MissingPolicyParameter"),
    ("SET-03", "not supplied", "MissingPolicyParameter"),
    ("ASG-05", "allowedValues", "PolicyParameterValueNotAllowed"),
    ("PAR-03", "", "PolicyParameterAllowedAndDefaultValuesMismatch"),
    ("PAR-", "", "InvalidPolicyParameters"),
    ("SET-04", "", "InvalidPolicyParameters"),
    ("SET-", "", "InvalidCreatePolicySetDefinitionRequest"),
    ("ASG-01", "", "InvalidPolicyAssignmentName"),
    ("ASG-07", "location", "LocationRequired"),
    ("ASG-", "", "InvalidCreatePolicyAssignmentRequest"),
    ("DEF-01", "", "InvalidPolicyDefinitionName"),
    ("", "", "InvalidPolicyRule"),
]
# When several findings fail a request, report what Azure trips over first: structure before parameters.
_ORDER = [
    "UndefinedPolicyParameter",
    "ResourceIdentityRequired",
    "MissingPolicyParameter",
    "PolicyParameterValueNotAllowed",
    "InvalidPolicyRule",
    "InvalidPolicyDefinitionName",
    "InvalidCreatePolicySetDefinitionRequest",
    "InvalidPolicyAssignmentName",
    "LocationRequired",
    "InvalidCreatePolicyAssignmentRequest",
    "PolicyParameterAllowedAndDefaultValuesMismatch",
    "InvalidPolicyParameters",
]
_PRIORITY = {code: i for i, code in enumerate(_ORDER)}


def arm_code(finding: Any) -> str:
    for prefix, fragment, code in _MAP:
        if finding.code.startswith(prefix) and fragment.lower() in finding.message.lower():
            return code
    return "InvalidPolicyRule"


def _raise_for(body: dict, *, kind: str, what: str, name: str, **kw: Any) -> None:
    from policygen.rules import validate_object  # lazy: a sibling stage, heavy to import

    errors = [
        f
        for f in validate_object(body, kind=kind, custom=True, own=False, **kw)
        if str(getattr(f.severity, "value", f.severity)) == "error"
    ]
    if not errors:
        return
    errors.sort(key=lambda f: _PRIORITY.get(arm_code(f), len(_ORDER)))
    first = errors[0]
    code = arm_code(first)
    prefix = "Failed to parse policy rule: " if code == "InvalidPolicyRule" else ""
    raise ArmError(
        400,
        code,
        f"{prefix}The {what} '{name}' is invalid: {first.message} (at {first.pointer or '/'}).",
        details=[{"code": arm_code(f), "message": f"{f.code}: {f.message}", "target": f.pointer} for f in errors],
    )


def _require_properties(body: dict) -> dict:
    props = body.get("properties")
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content must contain a 'properties' object.")
    return props


def check_definition(name: str, body: dict) -> None:
    """InvalidPolicyRule, InvalidPolicyParameters, ... for a policy definition PUT."""
    _require_properties(body)
    _raise_for({**body, "name": name}, kind="definition", what="policy definition", name=name)


def check_set_definition(name: str, body: dict, members: dict[str, dict]) -> None:
    """Initiative PUT; `members` maps each referenced definition id to the (already resolved) definition."""
    _require_properties(body)
    _raise_for({**body, "name": name}, kind="initiative", what="policy set definition", name=name, definitions=members)


def check_assignment(name: str, scope: str, body: dict, definitions: dict[str, dict]) -> None:
    """Assignment PUT: name, parameters against the definition, identity and location, notScopes, ..."""
    _require_properties(body)
    _raise_for(
        {**body, "name": name},
        kind="assignment",
        what="policy assignment",
        name=name,
        definitions=definitions,
        assignment_scope=scope,
    )
