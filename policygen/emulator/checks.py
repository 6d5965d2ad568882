"""Request validation Azure performs on policy objects, mapped onto ARM error codes.

Rule-level checks come from policygen's own validator (`policygen.rules.validate_object`), so the emulator
rejects exactly what `policygen validate` calls an Azure-side error; the checks here are only the ones that
need the emulator's state (parameters against the referenced definition, names, references).
"""

from __future__ import annotations

import json
import re
from typing import Any

from policygen.emulator.core import ArmError, bad_request

_PARAM_REF = re.compile(r"parameters\(\s*'([^']+)'\s*\)", re.I)
_BAD_NAME = re.compile(r"[<>*%&:\\?.+/]|[\x00-\x1f]")


def check_name(name: str, what: str, max_len: int = 64) -> None:
    if not name or len(name) > max_len or _BAD_NAME.search(name) or name.endswith(" "):
        raise bad_request("InvalidPolicyName" if "assignment" not in what else "InvalidPolicyAssignmentName",
                          f"The {what} name '{name}' is invalid: 1-{max_len} characters, none of "
                          "'<>*%&:\\?.+/', not ending with a space or period.")


def parameter_refs(obj: Any) -> set[str]:
    """Names used as `[parameters('x')]` anywhere in `obj` (lower-cased, since ARM names are)."""
    return {m.lower() for m in _PARAM_REF.findall(json.dumps(obj))}


def _findings(body: dict, kind: str) -> list[Any]:
    try:
        from policygen.rules import validate_object  # lazy: the validator is a sibling stage
    except ImportError:  # TODO(remove once policygen.rules lands)
        return []

    return [f for f in validate_object(body, kind=kind, custom=True, own=False) if f.severity == "error"]


def check_definition(name: str, body: dict) -> None:
    """Reject a policy definition PUT the way Azure does (InvalidPolicyRule, InvalidPolicyParameters, ...)."""
    props = body.get("properties")
    if not isinstance(props, dict):
        raise bad_request("InvalidRequestContent", "The request content must contain 'properties'.")
    check_name(name, "policy definition")
    rule = props.get("policyRule")
    if not isinstance(rule, dict) or "if" not in rule or not isinstance(rule.get("then"), dict):
        raise bad_request("InvalidPolicyRule", "Failed to parse policy rule: the rule must be an object with "
                          "'if' and 'then'.")
    params = props.get("parameters") or {}
    defined = {p.lower() for p in params}
    undefined = sorted(parameter_refs(rule) - defined)
    if undefined:
        raise bad_request("InvalidPolicyParameters",
                          f"The policy definition '{name}' has undefined parameter(s) '{', '.join(undefined)}' "
                          "used in the policy rule.")
    for pname, spec in params.items():
        allowed = (spec or {}).get("allowedValues")
        if allowed is not None and "defaultValue" in spec and spec["defaultValue"] not in allowed \
                and not isinstance(spec["defaultValue"], list):
            raise bad_request("PolicyParameterAllowedAndDefaultValuesMismatch",
                              f"The default value of parameter '{pname}' is not one of its allowed values.")
    errors = _findings(body, "definition")
    if errors:
        raise ArmError(400, "InvalidPolicyRule",
                       f"Failed to parse policy rule: {errors[0].message}",
                       details=[{"code": f.code, "message": f.message, "target": f.pointer} for f in errors])


def check_set_definition(name: str, body: dict) -> None:
    props = body.get("properties")
    if not isinstance(props, dict):
        raise bad_request("InvalidRequestContent", "The request content must contain 'properties'.")
    check_name(name, "policy set definition")
    refs = props.get("policyDefinitions")
    if not isinstance(refs, list) or not refs:
        raise bad_request("InvalidCreatePolicySetDefinitionRequest",
                          f"The policy set definition '{name}' must contain at least one policy definition.")
    defined = {p.lower() for p in (props.get("parameters") or {})}
    undefined = sorted(parameter_refs(refs) - defined)
    if undefined:
        raise bad_request("InvalidPolicyParameters",
                          f"The policy set definition '{name}' has undefined parameter(s) '{', '.join(undefined)}' "
                          "used in its policy definition references.")
    errors = _findings(body, "setDefinition")
    if errors:
        raise ArmError(400, "InvalidCreatePolicySetDefinitionRequest", errors[0].message,
                       details=[{"code": f.code, "message": f.message, "target": f.pointer} for f in errors])


def check_parameter_values(owner: str, owner_kind: str, target_name: str, target_kind: str,
                           definition_params: dict, values: dict) -> None:
    """Assignment (or set reference) parameter values against the definition's declared parameters."""
    declared = {p.lower(): (p, spec or {}) for p, spec in (definition_params or {}).items()}
    extra = sorted(p for p in values if p.lower() not in declared)
    if extra:
        raise bad_request("UndefinedPolicyParameter",
                          f"The {owner_kind} '{owner}' has the parameter(s) '{', '.join(extra)}' which are not "
                          f"defined in the {target_kind} '{target_name}'.")
    given = {p.lower() for p in values}
    missing = sorted(orig for low, (orig, spec) in declared.items() if low not in given and "defaultValue" not in spec)
    if missing:
        raise bad_request("MissingPolicyParameter",
                          f"The {owner_kind} '{owner}' is missing the parameter(s) '{', '.join(missing)}' defined in "
                          f"the {target_kind} '{target_name}'.")
    for low, (orig, spec) in declared.items():
        allowed = spec.get("allowedValues")
        entry = next((v for p, v in values.items() if p.lower() == low), None)
        if allowed is None or not isinstance(entry, dict) or "value" not in entry:
            continue
        value = entry["value"]
        if value in allowed:
            continue
        if isinstance(value, str) and value.startswith("[") and not value.startswith("[["):
            continue  # an expression; resolved later
        items = value if isinstance(value, list) and spec.get("type", "").lower() == "array" else [value]
        bad = [v for v in items if v not in allowed and not (isinstance(v, str)
                                                             and v.lower() in {str(a).lower() for a in allowed})]
        if bad:
            raise bad_request("InvalidPolicyParameterValue" if owner_kind != "policy assignment"
                              else "PolicyParameterValueNotAllowed",
                              f"The value '{bad[0]}' of parameter '{orig}' in {owner_kind} '{owner}' is not allowed; "
                              f"allowed values: {allowed}.")
