"""PAR: parameter declarations, references and their contracts with the rule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime

from policygen.expressions import is_expression
from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc, analyse, ci_get, ci_key, esc, walk_strings

PARAMS = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters"
ARRAYS = "https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays"
LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"
EFFECTS = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics"

TYPES = frozenset({"string", "array", "object", "boolean", "integer", "float", "datetime"})
STRONG_TYPES = frozenset(
    {"location", "resourcetypes", "storageskus", "vmskus", "existingresourcegroups", "omsworkspace"}
)  # omsWorkspace: legacy value used by 215 built-ins
RESOURCE_TYPE = re.compile(r"^[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*/[A-Za-z0-9]+(?:/[A-Za-z0-9]+)*$")

PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "array": (list,),
    "object": (dict,),
    "boolean": (bool,),
    "integer": (int,),
    "float": (int, float),
    "datetime": (str,),
}


def value_matches_type(value: object, ptype: str | None) -> bool:
    """Does a JSON value fit a parameter type? (bool is not an integer; unknown types accept anything)."""
    if ptype is None or ptype not in PY_TYPES:
        return True
    if isinstance(value, bool) and ptype in ("integer", "float"):
        return False
    if isinstance(value, str) and value.startswith("[") and not value.startswith("[["):
        return True  # an expression; its type is known only at evaluation
    return isinstance(value, PY_TYPES[ptype])


def is_iso8601(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def in_allowed(value: object, allowed: list) -> bool:
    """Azure compares allowed values case-sensitively; arrays are checked element by element."""
    if value in allowed:
        return True
    if isinstance(value, list):
        return all(v in allowed for v in value)
    return False


def iter_params(doc: Doc) -> list[tuple[str, dict, str, dict[str, str]]]:
    """(name, declaration, pointer, lower-case key → key) of each parameter, computed once per document."""
    cached = doc.cache.get("params")
    if cached is None:
        base = doc.params_ptr + "/"
        cached = [
            (name, spec, base + esc(name), {k.lower(): k for k in spec})
            for name, spec in doc.params.items()
            if isinstance(spec, dict)
        ]
        doc.cache["params"] = cached
    return cached


def param_meta(doc: Doc) -> dict[str, tuple[str, dict, dict[str, str]]]:
    """name → (metadata key, metadata, its lower-case key map) for parameters with metadata (memoised)."""
    cached = doc.cache.get("param_meta")
    if cached is None:
        cached = {}
        for name, spec, _ptr, lk in iter_params(doc):
            mk = lk.get("metadata")
            meta = spec.get(mk) if mk else None
            if isinstance(meta, dict):
                cached[name] = (mk, meta, {k.lower(): k for k in meta})
        doc.cache["param_meta"] = cached
    return cached


class ParameterType(Rule):
    """Parameter type is string, array, object, boolean, integer, float or dateTime; values fit it."""

    code = "PAR-01"
    name = "parameters.type"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        raw = ci_get(doc.props, "parameters")
        if raw is not None and not isinstance(raw, dict):
            yield doc.params_ptr, "parameters must be an object of name → declaration"
            return
        for name, spec, ptr, lk in iter_params(doc):
            tk = lk.get("type")
            t = spec.get(tk) if tk else None
            if not isinstance(t, str) or t.lower() not in TYPES:
                yield (
                    (ptr + "/" + tk if tk else ptr),
                    (
                        f"parameter {name!r} has type {t!r}; use string, array, object, boolean, integer, float "
                        "or dateTime"
                    ),
                )
                continue
            low = t.lower()
            dk = lk.get("defaultvalue")
            if dk is not None:
                dv = spec[dk]
                if dv is not None and doc.custom and not value_matches_type(dv, low):
                    yield ptr + "/" + dk, f"defaultValue of {t} parameter {name!r} is {type(dv).__name__} {dv!r}"
                elif low == "datetime" and isinstance(dv, str) and not dv.startswith("[") and not is_iso8601(dv):
                    yield ptr + "/" + dk, f"defaultValue of dateTime parameter {name!r} is not ISO 8601: {dv!r}"


class ParameterCount(Rule):
    """A policy definition declares at most 20 parameters (custom content)."""

    code = "PAR-02"
    name = "parameters.count"
    severity = Severity.ERROR
    source = LIMITS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.custom and len(doc.params) > 20:
            yield doc.params_ptr, f"{len(doc.params)} parameters; Azure allows at most 20 per definition"


class DefaultInAllowed(Rule):
    """defaultValue is one of allowedValues (service error PolicyParameterAllowedAndDefaultValuesMismatch).

    **Anti-pattern** `allowedValues: [Audit, Deny], defaultValue: Disabled` **Better** `defaultValue: Audit`
    """

    code = "PAR-03"
    name = "parameters.default_in_allowed"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for name, spec, ptr, lk in iter_params(doc):
            ak = lk.get("allowedvalues")
            dk = lk.get("defaultvalue")
            if ak is None:
                continue
            allowed = spec[ak]
            if allowed is None or allowed == []:
                continue  # built-ins carry `null` / `[]` meaning "no restriction"
            if not isinstance(allowed, list):
                yield ptr + "/" + ak, f"allowedValues of {name!r} must be an array"
                continue
            if dk is None:
                continue
            dv = spec[dk]
            if not in_allowed(dv, allowed):
                yield (
                    ptr + "/" + dk,
                    (
                        f"defaultValue {dv!r} of {name!r} is not one of allowedValues {allowed!r} "
                        "(compared case-sensitively)"
                    ),
                )


class UnusedParameter(Rule):
    """Every declared parameter is used in the policy rule (Azure rejects unused ones)."""

    code = "PAR-04"
    name = "parameters.unused"
    severity = Severity.ERROR
    source = "https://github.com/Azure/azure-monitor-baseline-alerts/issues/311"
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.rule is None or not doc.custom:
            return  # built-ins keep deprecated, unused parameters (the service exempts them)
        refs = doc.param_refs
        unused = [(name, ptr) for name, _spec, ptr, _lk in iter_params(doc) if name.lower() not in refs]
        if unused:
            # A reference inside the embedded deployment template is ARM's, but whether the service counts
            # it is undocumented: accept it rather than risk rejecting a definition Azure takes.
            template_refs = _template_param_refs(doc)
            for name, ptr in unused:
                if name.lower() not in template_refs:
                    yield ptr, f"parameter {name!r} is declared but not used in the policy rule"


def _template_param_refs(doc: Doc) -> set[str]:
    det = doc.details
    dep = ci_get(det, "deployment") if isinstance(det, dict) else None
    props = ci_get(dep, "properties") if isinstance(dep, dict) else None
    template = ci_get(props, "template") if isinstance(props, dict) else None
    out: set[str] = set()
    if template is not None:
        for _ptr, s in walk_strings(template):
            if is_expression(s):
                out.update(analyse(s).params)
    return out


class UndefinedParameter(Rule):
    """Every `parameters('x')` in the policy rule names a declared parameter."""

    code = "PAR-05"
    name = "parameters.undefined"
    severity = Severity.ERROR
    source = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"

    def check(self, doc: Doc) -> Iterable[Hit]:
        declared = doc.params_l
        for name, ptrs in doc.param_refs.items():
            if name not in declared:
                for p in ptrs:
                    yield p, f"parameters({name!r}) is not declared in properties.parameters"


class ObjectSchema(Rule):
    """`schema` only on object parameters; defaultValue and allowedValues satisfy it (JSON Schema 2019-09)."""

    code = "PAR-06"
    name = "parameters.schema"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for name, spec, ptr, lk in iter_params(doc):
            sk = lk.get("schema")
            if sk is None:
                continue
            t = spec.get(lk.get("type", ""))
            if not (isinstance(t, str) and t.lower() == "object"):
                if not doc.custom:
                    continue  # one built-in initiative carries a schema on a string parameter
                yield ptr + "/" + sk, f"schema is allowed only on object parameters; {name!r} is {t!r}"
                continue
            yield from self._validate(name, spec, spec[sk], ptr, sk, lk)

    @staticmethod
    def _validate(name: str, spec: dict, schema: object, ptr: str, sk: str, lk: dict[str, str]) -> Iterable[Hit]:
        validator, problem = _schema_validator(schema)
        if problem:
            yield ptr + "/" + sk, f"schema of {name!r} is not a valid JSON Schema: {problem}"
            return
        dk = lk.get("defaultvalue")
        if dk is not None and isinstance(spec[dk], dict):
            err = next(iter(validator.iter_errors(spec[dk])), None)
            if err is not None:
                yield ptr + "/" + dk, f"defaultValue of {name!r} does not satisfy its schema: {err.message}"
        ak = lk.get("allowedvalues")
        if ak is not None and isinstance(spec[ak], list):
            for i, v in enumerate(spec[ak]):
                if isinstance(v, dict):
                    err = next(iter(validator.iter_errors(v)), None)
                    if err is not None:
                        yield (
                            f"{ptr}/{ak}/{i}",
                            f"allowedValues[{i}] of {name!r} does not satisfy its schema: {err.message}",
                        )


_SCHEMAS: dict[str, tuple[object, str | None]] = {}


def _schema_validator(schema: object) -> tuple[object, str | None]:
    """A Draft 2019-09 validator per distinct schema (checking a schema costs milliseconds; 128 repeat)."""
    key = json.dumps(schema, sort_keys=True)
    cached = _SCHEMAS.get(key)
    if cached is None:
        from jsonschema import Draft201909Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft201909Validator.check_schema(schema)
            cached = (Draft201909Validator(schema), None)
        except SchemaError as exc:
            cached = (None, exc.message)
        _SCHEMAS[key] = cached
    return cached


class ParameterMetadata(Rule):
    """Each parameter has metadata.displayName and metadata.description (portal UX, linters)."""

    code = "PAR-07"
    name = "parameters.metadata"
    severity = Severity.WARNING
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        for name, spec, ptr, lk in iter_params(doc):
            meta = spec.get(lk.get("metadata", ""))
            if not isinstance(meta, dict):
                yield ptr, f"parameter {name!r} has no metadata (displayName, description)"
                continue
            missing = [k for k in ("displayName", "description") if not ci_get(meta, k)]
            if missing:
                yield ptr, f"parameter {name!r} metadata lacks {' and '.join(missing)}"


class StrongType(Rule):
    """metadata.strongType is a resource type or location/resourceTypes/storageSkus/vmSKUs/existingResourceGroups."""

    code = "PAR-08"
    name = "parameters.strong_type"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        metas = param_meta(doc)
        for name, _spec, ptr, _lk in iter_params(doc):
            if name not in metas:
                continue
            mk, meta, mlk = metas[name]
            sk = mlk.get("strongtype")
            if sk is None:
                continue
            st = meta[sk]
            if isinstance(st, str) and (st.lower() in STRONG_TYPES or RESOURCE_TYPE.match(st)):
                continue
            yield f"{ptr}/{mk}/{sk}", f"strongType {st!r} of {name!r} is neither a resource type nor a known picker"


class AssignPermissions(Rule):
    """assignPermissions is a boolean on a string parameter holding a scope or resource ID."""

    code = "PAR-09"
    name = "parameters.assign_permissions"
    severity = Severity.INFO
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = "https://learn.microsoft.com/azure/governance/policy/how-to/remediate-resources"
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        metas = param_meta(doc)
        for name, spec, ptr, lk in iter_params(doc):
            if name not in metas:
                continue
            _mk, meta, mlk = metas[name]
            ak = mlk.get("assignpermissions")
            if ak is None:
                continue
            v = meta[ak]
            t = spec.get(lk.get("type", ""))
            if not isinstance(v, bool):
                yield f"{ptr}/metadata/{ak}", f"assignPermissions of {name!r} must be a boolean, not {v!r}"
            elif v and isinstance(t, str) and t.lower() != "string":
                yield (
                    f"{ptr}/metadata/{ak}",
                    (f"assignPermissions on {t} parameter {name!r}: role assignments need a scope ID string"),
                )


class ParameterChangeControl(Rule):
    """An update keeps existing parameters and their types; new parameters need a defaultValue."""

    code = "PAR-10"
    name = "parameters.change_control"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("definitions",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        """Compares with the deployed version when the caller passes it in `definitions` under the same name."""
        if not doc.name or not doc.definitions:
            return
        old = doc.definitions.get(doc.name) or doc.definitions.get(str(doc.name).lower())
        if not isinstance(old, dict):
            return
        oprops = old.get("properties") if isinstance(old.get("properties"), dict) else old
        same_kind = "policyRule" if doc.kind == "definition" else "policyDefinitions"
        if ci_key(oprops, same_kind) is None:
            return  # a member definition that shares the initiative's name is not its deployed version
        oparams = ci_get(oprops, "parameters") or {}
        if not isinstance(oparams, dict):
            return
        old_l = {k.lower(): v for k, v in oparams.items() if isinstance(v, dict)}
        for key in old_l:
            if key not in doc.params_l:
                yield doc.params_ptr, f"parameter {key!r} of the deployed version cannot be removed"
        for name, spec, ptr, lk in iter_params(doc):
            prev = old_l.get(name.lower())
            if prev is None:
                if lk.get("defaultvalue") is None:
                    yield ptr, f"new parameter {name!r} needs a defaultValue: existing assignments do not set it"
                continue
            t_old, t_new = ci_get(prev, "type"), spec.get(lk.get("type", ""))
            if isinstance(t_old, str) and isinstance(t_new, str) and t_old.lower() != t_new.lower():
                yield ptr, f"parameter {name!r} changes type from {t_old} to {t_new}; types are fixed once saved"


class ArrayParameterOperator(Rule):
    """An array parameter used directly as an operand works only with `in` / `notIn`."""

    code = "PAR-11"
    name = "parameters.array_operator"
    severity = Severity.ERROR
    source = ARRAYS
    needs = ("params",)

    OK = frozenset({"in", "notin"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        arrays = {
            n.lower() for n, spec, _, lk in iter_params(doc) if str(spec.get(lk.get("type", ""))).lower() == "array"
        }
        if not arrays:
            return
        for c in doc.conds:
            if c.op is None or c.op in self.OK or c.operand == "count":
                continue
            v = c.op_value
            if not (isinstance(v, str) and v.startswith("[")):
                continue
            name = analyse(v).bare_param if is_expression(v) else None
            if name in arrays:
                yield (
                    c.ptr + "/" + c.op_key,
                    (f"array parameter {name!r} used with {c.op_key!r}; only 'in'/'notIn' take an array"),
                )


FAMILIES = ({"audit", "deny", "modify", "append"}, {"auditifnotexists", "deployifnotexists"}, {"manual"})


class EffectParameter(Rule):
    """A parameterised effect has allowedValues, a safe default and no mixed effect families."""

    code = "PAR-12"
    name = "parameters.effect"
    severity = Severity.WARNING
    source = EFFECTS
    needs = ("effect_param",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        name = doc.effect_param
        spec = doc.param_spec(name) if name else None
        if spec is None:
            return
        ptr = doc.params_ptr + "/" + doc.params_l[name]
        allowed = ci_get(spec, "allowedValues")
        if not isinstance(allowed, list):
            yield ptr, f"effect parameter {name!r} has no allowedValues"
            return
        values = {v.lower() for v in allowed if isinstance(v, str)} - {"disabled"}
        if values & FAMILIES[1] and values & FAMILIES[0] or (values & FAMILIES[2] and values - FAMILIES[2]):
            yield ptr, f"effect parameter {name!r} mixes effects that need different details: {sorted(values)}"
        if doc.own and doc.effect_default not in (None, "audit", "auditifnotexists", "disabled"):
            # Intents choose enforcement on purpose, so this part is informational.
            yield (
                ptr,
                (
                    f"effect parameter {name!r} defaults to enforcing {doc.effect_default!r}; assignments "
                    "that omit it enforce immediately"
                ),
                Severity.INFO,
            )
