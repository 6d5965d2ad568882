"""SET: initiative (policy set) members, their parameters, groups and limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policygen.expressions import is_expression
from policygen.rules.base import INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc, analyse, ci_get, ci_key, esc, walk_strings
from policygen.rules.parameters import in_allowed, value_matches_type

SET = "https://learn.microsoft.com/azure/governance/policy/concepts/initiative-definition-structure"
LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"


def find_definition(definitions: Mapping[str, dict], ref: str) -> dict | None:
    """A member definition by full id or by name (last id segment), case-insensitively."""
    if not definitions or not isinstance(ref, str):
        return None
    for key in (ref, ref.lower(), ref.rsplit("/", 1)[-1], ref.rsplit("/", 1)[-1].lower()):
        found = definitions.get(key)
        if isinstance(found, dict):
            return found
    return None


def props_of(obj: dict) -> dict:
    p = obj.get("properties")
    return p if isinstance(p, dict) else obj


def members(doc: Doc) -> list[tuple[int, dict, str]]:
    """(index, member, pointer) of each well-formed policyDefinitions entry (computed once per doc)."""
    cached = doc.cache.get("members")
    if cached is not None:
        return cached
    k = ci_key(doc.props, "policyDefinitions")
    items = doc.props.get(k) if k else None
    out: list[tuple[int, dict, str]] = []
    if isinstance(items, list):
        base = f"{doc.base}/{esc(k)}/"
        out = [(i, m, base + str(i)) for i, m in enumerate(items) if isinstance(m, dict)]
    doc.cache["members"] = out
    return out


def member_expressions(doc: Doc) -> list[tuple[str, str, str]]:
    """(pointer, expression, member parameter name) for every expression passed to a member."""
    cached = doc.cache.get("member_exprs")
    if cached is not None:
        return cached
    out: list[tuple[str, str, str]] = []
    for _i, m, ptr in members(doc):
        pk = ci_key(m, "parameters")
        params = m.get(pk) if pk else None
        if not isinstance(params, dict):
            continue
        for name, wrapper in params.items():
            value = ci_get(wrapper, "value") if isinstance(wrapper, dict) else None
            base = f"{ptr}/{pk}/{esc(name)}"
            if isinstance(value, str):
                if is_expression(value):
                    out.append((base, value, name))
            elif isinstance(value, (list, dict)):
                out.extend((p, s, name) for p, s in walk_strings(value, base + "/value") if is_expression(s))
    doc.cache["member_exprs"] = out
    return out


def member_params(m: dict) -> dict:
    p = ci_get(m, "parameters")
    return p if isinstance(p, dict) else {}


class Members(Rule):
    """policyDefinitions is a non-empty array of {policyDefinitionId, unique policyDefinitionReferenceId, ...}."""

    code = "SET-01"
    name = "initiatives.members"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = SET

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "policyDefinitions")
        items = doc.props.get(k) if k else None
        if not isinstance(items, list) or not items:
            yield doc.ptr(k or "policyDefinitions"), "policyDefinitions must be a non-empty array"
            return
        seen: dict[str, int] = {}
        base = f"{doc.base}/{esc(k)}/"
        for i, m in enumerate(items):
            ptr = base + str(i)
            if not isinstance(m, dict):
                yield ptr, "a member is an object with policyDefinitionId"
                continue
            pid = ci_get(m, "policyDefinitionId")
            if not isinstance(pid, str) or not pid:
                yield ptr, "policyDefinitionId (string) is required"
            ref = ci_get(m, "policyDefinitionReferenceId")
            if ref is not None:
                if not isinstance(ref, str) or not ref:
                    yield ptr, "policyDefinitionReferenceId must be a non-empty string"
                elif ref.lower() in seen:
                    yield (
                        ptr + "/" + ci_key(m, "policyDefinitionReferenceId"),
                        (f"policyDefinitionReferenceId {ref!r} repeats member {seen[ref.lower()]}"),
                    )
                else:
                    seen[ref.lower()] = i
            elif doc.own:
                yield ptr, "set policyDefinitionReferenceId: overrides and messages refer to members by it"
            pk = ci_key(m, "parameters")
            if pk is not None:
                params = m[pk]
                if not isinstance(params, dict):
                    yield ptr + "/" + pk, "member parameters must be an object {name: {value: ...}}"
                else:
                    for name, v in params.items():
                        if type(v) is dict and "value" in v:
                            continue
                        if not isinstance(v, dict) or ci_key(v, "value") is None:
                            yield f"{ptr}/{pk}/{esc(name)}", f"member parameter {name!r} must be {{'value': ...}}"
            gk = "groupNames" if "groupNames" in m else ci_key(m, "groupNames")
            if gk is not None and not (isinstance(m[gk], list) and all(type(g) is str for g in m[gk])):
                yield ptr + "/" + gk, "groupNames must be an array of strings"


class MemberParametersDefined(Rule):
    """Values passed to a member name only parameters that member defines (UndefinedPolicyParameter)."""

    code = "SET-02"
    name = "initiatives.member_parameters_defined"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = "https://github.com/gettek/terraform-azurerm-policy-as-code/issues/47"
    needs = ("definitions",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for _i, m, ptr in members(doc):
            target = find_definition(doc.definitions, ci_get(m, "policyDefinitionId"))
            if target is None:
                continue
            declared = {k.lower() for k in (ci_get(props_of(target), "parameters") or {})}
            pk = ci_key(m, "parameters")
            for name in member_params(m):
                if name.lower() not in declared:
                    yield (
                        f"{ptr}/{pk}/{esc(name)}",
                        (f"member {ci_get(m, 'policyDefinitionReferenceId') or _i} has no parameter {name!r}"),
                    )


class MemberParametersSatisfied(Rule):
    """Required member parameters are supplied and passed values fit the member's type and allowedValues."""

    code = "SET-03"
    name = "initiatives.member_parameters_valid"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = "https://github.com/Azure/Azure-Landing-Zones/issues/1601"
    needs = ("definitions",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for _i, m, ptr in members(doc):
            target = find_definition(doc.definitions, ci_get(m, "policyDefinitionId"))
            if target is None:
                continue
            tparams = ci_get(props_of(target), "parameters") or {}
            passed = {k.lower(): (k, v) for k, v in member_params(m).items()}
            pk = ci_key(m, "parameters") or "parameters"
            for pname, spec in tparams.items():
                if not isinstance(spec, dict):
                    continue
                got = passed.get(pname.lower())
                if got is None:
                    if ci_key(spec, "defaultValue") is None:
                        yield ptr, f"member parameter {pname!r} has no default and is not supplied"
                    continue
                key, wrapper = got
                value = ci_get(wrapper, "value") if isinstance(wrapper, dict) else None
                yield from self._value(doc, f"{ptr}/{pk}/{esc(key)}", pname, spec, value)

    @staticmethod
    def _value(doc: Doc, ptr: str, pname: str, spec: dict, value: Any) -> Iterable[Hit]:
        allowed = ci_get(spec, "allowedValues")
        ptype = ci_get(spec, "type")
        ptype = ptype.lower() if isinstance(ptype, str) else None
        if isinstance(value, str) and is_expression(value):
            info = analyse(value)
            if info.bare_param is None:
                return
            outer = doc.param_spec(info.bare_param)
            if outer is None or not isinstance(allowed, list):
                return
            dv = ci_get(outer, "defaultValue")
            if (
                ci_key(outer, "defaultValue") is not None
                and not (isinstance(dv, str) and is_expression(dv))
                and not in_allowed(dv, allowed)
            ):
                yield ptr, f"initiative default {dv!r} for {pname!r} is not in the member's allowedValues {allowed}"
            oallowed = ci_get(outer, "allowedValues")
            if isinstance(oallowed, list):
                extra = [v for v in oallowed if not in_allowed(v, allowed)]
                if extra:
                    yield ptr, f"initiative allows {extra} for {pname!r}, which the member does not allow"
            return
        if not value_matches_type(value, ptype):
            yield ptr, f"value {value!r} does not fit the member's {ptype} parameter {pname!r}"
        elif isinstance(allowed, list) and not in_allowed(value, allowed):
            yield ptr, f"value {value!r} for {pname!r} is not in the member's allowedValues {allowed}"


class InitiativeParameterRefs(Rule):
    """Member values reference declared initiative parameters, and every initiative parameter is used."""

    code = "SET-04"
    name = "initiatives.parameter_references"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = SET

    def check(self, doc: Doc) -> Iterable[Hit]:
        used: set[str] = set()
        for ptr, s, _name in member_expressions(doc):
            for ref in analyse(s).params:
                used.add(ref)
                if ref not in doc.params_l:
                    yield ptr.split("/value")[0], f"parameters({ref!r}) is not an initiative parameter"
        if not doc.custom:
            return  # built-in initiatives keep unused (deprecated) parameters; the service exempts them
        for name in doc.params:
            if name.lower() not in used:
                sev = Severity.ERROR if doc.own else Severity.WARNING
                yield doc.params_ptr + "/" + esc(name), f"initiative parameter {name!r} is not used by any member", sev


class Groups(Rule):
    """groupNames name entries of policyDefinitionGroups; each group has a name."""

    code = "SET-05"
    name = "initiatives.groups"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = SET

    def check(self, doc: Doc) -> Iterable[Hit]:
        gk = ci_key(doc.props, "policyDefinitionGroups")
        groups = doc.props.get(gk) if gk else None
        names: set[str] = set()
        if groups is not None:
            if not isinstance(groups, list):
                yield doc.ptr(gk), "policyDefinitionGroups must be an array"
                groups = []
            for i, g in enumerate(groups):
                n = ci_get(g, "name") if isinstance(g, dict) else None
                if not isinstance(n, str) or not n:
                    yield doc.ptr(gk, i), "each policyDefinitionGroups entry needs a name"
                else:
                    names.add(n.lower())
        for _i, m, ptr in members(doc):
            nk = ci_key(m, "groupNames")
            gn = m.get(nk) if nk else None
            if not isinstance(gn, list):
                continue
            for j, g in enumerate(gn):
                if isinstance(g, str) and g.lower() not in names:
                    yield f"{ptr}/{nk}/{j}", f"group {g!r} is not in policyDefinitionGroups"


class InitiativeLimits(Rule):
    """At most 1,000 members and 400 parameters per initiative."""

    code = "SET-06"
    name = "initiatives.limits"
    severity = Severity.ERROR
    kinds = frozenset({INITIATIVE})
    source = LIMITS

    def check(self, doc: Doc) -> Iterable[Hit]:
        n = len(members(doc))
        if n > 1000:
            yield doc.ptr("policyDefinitions"), f"{n} members; Azure allows at most 1,000"
        if len(doc.params) > 400:
            yield doc.params_ptr, f"{len(doc.params)} parameters; Azure allows at most 400"


class MembersExistFirst(Rule):
    """Referenced custom definitions must exist before the initiative (deploy definitions first)."""

    code = "SET-07"
    name = "initiatives.members_exist"
    severity = Severity.INFO
    kinds = frozenset({INITIATIVE})
    source = "https://learn.microsoft.com/azure/governance/policy/concepts/policy-as-code"
    needs = ("definitions",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.definitions:
            return
        for _i, m, ptr in members(doc):
            pid = ci_get(m, "policyDefinitionId")
            if (
                isinstance(pid, str)
                and "/managementgroups/" in pid.lower()
                or isinstance(pid, str)
                and pid.lower().startswith("/subscriptions/")
            ) and find_definition(doc.definitions, pid) is None:
                yield ptr, f"custom definition {pid!r} is not among the known definitions; deploy it first"
