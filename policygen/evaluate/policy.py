"""A policy definition compiled once into a callable: `compile_policy(definition, parameters)` →
`CompiledPolicy.evaluate(resource)` → `Outcome`.

Compliance vocabulary (compliance-states page): for audit / deny / append / modify / manual the
resource is non-compliant when `if` matches; for auditIfNotExists / deployIfNotExists only when `if`
matches *and* no related resource satisfies the existence condition; `disabled` gives no state
(`compliant` None). A failed evaluation (template-function error, ordering type mismatch) is Azure's
implicit deny: `error` is set, `denied` and non-compliant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policygen.arm.aliases import AliasCatalogue, default_catalogue
from policygen.arm.effects import EXISTENCE, KNOWN
from policygen.arm.resource_types import normalise_resource
from policygen.evaluate.applicability import mode_applies_to_type, policy_type_lower
from policygen.evaluate.applicability import needs_location as _needs_location
from policygen.evaluate.conditions import (
    MAX_IF_CONDITIONS,
    MAX_THEN_CONDITIONS,
    Pred,
    applicability_condition,
    check_limits,
    compile_condition,
    lower_keys,
    residual_condition,
    resource_types,
)
from policygen.evaluate.effects import (
    Conflict,
    IdentitySkip,
    Operation,
    apply_operations,
    compile_operations,
    name_matches,
    related_candidates,
    skips_identity,
)
from policygen.evaluate.errors import EvaluationFailure, UnsupportedError
from policygen.evaluate.expr import CompileCtx, Compiled, compile_value
from policygen.evaluate.fused import fuse
from policygen.evaluate.runtime import EvalContext, Scope
from policygen.evaluate.values import reset_key_cache
from policygen.evaluate.verdicts import Memo, Reads, memo_for

_SUBSCRIPTIONS = "microsoft.resources/subscriptions"

@dataclass
class Outcome:
    """The result of evaluating one policy against one resource."""

    matched: bool  # the `if` result
    effect: str  # resolved, lower-case
    compliant: bool | None  # None when the effect is disabled (or manual with defaultState Unknown)
    modified: dict | None = None  # modify/append: the resource after remediation
    reasons: list[str] = field(default_factory=list)  # human 'why' trace
    error: str | None = None  # evaluation failed: Azure's implicit deny
    denied: bool = False  # a create/update request would be blocked (deny, failed evaluation, conflict)
    applicable: bool = True  # False: Azure records no compliance state for this resource (compliant None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "matched": self.matched,
            "effect": self.effect,
            "compliant": self.compliant,
            "denied": self.denied,
            "reasons": self.reasons,
        }
        if self.modified is not None:
            out["modified"] = self.modified
        if self.error is not None:
            out["error"] = self.error
        if not self.applicable:
            out["applicable"] = False
        return out


def unwrap_parameters(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """`{"x": 1}` or `{"x": {"value": 1}}` → lower-case name → value. A one-key `{"value": …}` object
    is always read as the wrapper form (ambiguous for object parameters; documented)."""
    out: dict[str, Any] = {}
    for k, v in (values or {}).items():
        if isinstance(v, dict) and set(v) == {"value"}:
            v = v["value"]
        out[str(k).lower()] = v
    return out


def definition_properties(definition: Mapping[str, Any]) -> dict[str, Any]:
    props = definition.get("properties")
    return dict(props) if isinstance(props, dict) and "policyRule" in props else dict(definition)


class CompiledPolicy:
    """A definition plus parameter values, compiled once; evaluate it against any number of resources."""

    def __init__(
        self,
        name: str,
        effect: str,
        condition: Pred,
        resource_types: frozenset[str] | None,
        details: dict[str, Any],
        *,
        mode: str = "all",
        unknown_aliases: frozenset[str] = frozenset(),
        warnings: Sequence[str] = (),
    ):
        self.name = name
        self.effect = effect
        self._if = condition
        self.resource_types = resource_types
        self._details = details
        self.mode = mode
        self.unknown_aliases = unknown_aliases
        self.warnings = list(warnings)
        self.display_name = name
        self._applicability: Pred | None = None  # None: applies to every resource the index lets through
        self.not_for_subscriptions = False  # a `location` condition: never applies to subscriptions
        t = details.get("type")
        self._related_type = (
            t.value.lower() if isinstance(t, Compiled) and t.const and isinstance(t.value, str) else None
        )
        # the `if` to run once the type index has matched (type leaves implied by the index dropped)
        self.indexed_if: Pred = condition
        self.memo: Memo | None = None  # indexed_if's remembered verdicts (evaluate.verdicts)

    def __repr__(self) -> str:
        return f"CompiledPolicy({self.name!r}, effect={self.effect!r})"

    @property
    def related_type(self) -> str | None:
        """AINE/DINE: the lower-case `details.type` when it is a constant (for inventory lookups)."""
        return self._related_type

    @property
    def related_elsewhere(self) -> bool:
        """AINE/DINE with `details.resourceGroupName`: related resources may be in another group."""
        return self._details.get("resourcegroupname") is not None

    @property
    def existence_scope(self) -> str:
        return self._details.get("existencescope", "resourcegroup")

    def applies_to(self, resource: dict) -> bool:
        """Mode and type-index applicability (policy-applicability page), before the `if` runs.

        The mode part is `evaluate.applicability` (shared with the emulator).
        """
        rtype = resource.get("type")
        rtype_l = policy_type_lower(rtype) if isinstance(rtype, str) else ""
        if not self.applies_to_type(rtype_l):
            return False
        return not self.needs_location or bool(resource.get("location"))

    @property
    def needs_location(self) -> bool:
        return _needs_location(self.mode)

    def applies_to_type(self, rtype_l: str) -> bool:
        """The type part of `applies_to` (lower-case policy type), cacheable per type."""
        if self.resource_types is not None and rtype_l not in self.resource_types:
            return False
        if self.not_for_subscriptions and rtype_l == _SUBSCRIPTIONS:
            return False
        return mode_applies_to_type(self.mode, rtype_l)

    def mode_applies(self, resource: dict) -> bool:
        """Only the definition's mode (not the type index): is the resource evaluated at all?"""
        rtype = resource.get("type")
        rtype_l = policy_type_lower(rtype) if isinstance(rtype, str) else ""
        return mode_applies_to_type(self.mode, rtype_l) and (
            not self.needs_location or bool(resource.get("location"))
        )

    def matches(self, resource: dict, context: EvalContext | None = None) -> bool:
        """Just the `if` (raises EvaluationFailure): the hot path of impact analysis."""
        return self._if(Scope(resource, context))

    def evaluate(
        self,
        resource: dict,
        *,
        related: Sequence[dict] = (),
        context: EvalContext | None = None,
        explain: bool = True,
    ) -> Outcome:
        """Evaluate the rule against one resource.

        Args:
            resource: the ARM resource (request payload or existing resource JSON).
            related: candidates for auditIfNotExists / deployIfNotExists (filtered here by
                `details.type`, `name`, `resourceGroupName` and `existenceScope`).
            context: subscription / resource group / request values; derived from the resource id
                when omitted.
            explain: record the condition trace in `reasons` (off for bulk evaluation).
        """
        reset_key_cache()
        resource = normalise_resource(resource)
        if not self.mode_applies(resource):
            reason = f"not applicable: mode {self.mode} does not evaluate {resource.get('type', 'this resource')}"
            if self.needs_location and not resource.get("location"):
                reason += " (Indexed mode only evaluates types that support tags and location)"
            return Outcome(False, self.effect, None, None, [reason], applicable=False)
        if self.not_for_subscriptions and str(resource.get("type", "")).lower() == _SUBSCRIPTIONS:
            reason = "not applicable: rules with a location condition do not apply to subscriptions"
            return Outcome(False, self.effect, None, None, [reason], applicable=False)
        scope = Scope(resource, context)
        trace: list[tuple[int, str]] | None = [] if explain else None
        scope.trace = trace
        effect = self.effect
        try:
            matched = self._if(scope)
        except EvaluationFailure as exc:
            reasons = _lines(trace) + [f"evaluation failed: {exc} (Azure treats this as an implicit deny)"]
            return Outcome(False, effect, False, None, reasons, error=str(exc), denied=True)
        reasons = _lines(trace)
        reasons.append(f"if → {str(matched).lower()}")
        scope.trace = None
        try:
            return self._outcome(matched, scope, related, reasons, explain)
        except EvaluationFailure as exc:
            reasons.append(f"evaluation of the effect details failed: {exc} (implicit deny)")
            return Outcome(matched, effect, False, None, reasons, error=str(exc), denied=True)

    def is_applicable(self, scope: Scope) -> bool:
        """Applicability of a resource whose `if` is false: IfNotExists effects never apply then; other
        effects apply per their type/name/kind conditions (policy-applicability page)."""
        if self.effect in EXISTENCE:
            return False
        if self.not_for_subscriptions and str(scope.resource.get("type", "")).lower() == _SUBSCRIPTIONS:
            return False
        if self.identity_ops:
            try:
                if skips_identity(self._details["operations"], scope):
                    return False
            except EvaluationFailure:
                pass
        pred = self._applicability
        if pred is None:
            return True
        try:
            return pred(scope)
        except EvaluationFailure:
            return True

    def outcome_for(self, matched: bool, scope: Scope, related: Sequence[dict] = ()) -> Outcome:
        """The outcome once the `if` result is known (no trace); for callers that ran `indexed_if`."""
        try:
            return self._outcome(matched, scope, related, [], False)
        except EvaluationFailure as exc:
            return Outcome(matched, self.effect, False, None, [str(exc)], error=str(exc), denied=True)

    def _outcome(
        self, matched: bool, scope: Scope, related: Sequence[dict], reasons: list[str], explain: bool
    ) -> Outcome:
        effect = self.effect
        if effect == "disabled":
            reasons.append("effect is disabled: no compliance state")
            return Outcome(matched, effect, None, None, reasons)
        if not matched:
            if not self.is_applicable(scope):
                reasons.append("not applicable: Azure records no compliance state (policy-applicability)")
                return Outcome(False, effect, None, None, reasons, applicable=False)
            return Outcome(False, effect, True, None, reasons)
        if effect in EXISTENCE:
            return self._existence(scope, related, reasons, explain)
        if effect in ("modify", "append"):
            return self._remediate(scope, reasons)
        if effect == "manual":
            state = str(self._details.get("defaultstate", "Unknown")).lower()
            compliant = {"compliant": True, "noncompliant": False}.get(state)
            reasons.append(f"manual effect: default state {state} until attested")
            return Outcome(True, effect, compliant, None, reasons)
        if effect == "denyaction":
            actions = self._details.get("actionnames") or ["delete"]
            reasons.append(f"denyAction: {', '.join(map(str, actions))} requests on this resource are denied")
            return Outcome(True, effect, True, None, reasons)
        if effect == "deny":
            reasons.append("deny: a create/update request would be rejected")
            return Outcome(True, effect, False, None, reasons, denied=True)
        if effect not in ("audit", "auditaction"):
            reasons.append(f"{effect} is enforced by the resource provider; reported like audit")
        return Outcome(True, effect, False, None, reasons)

    def _existence(self, scope: Scope, related: Sequence[dict], reasons: list[str], explain: bool) -> Outcome:
        d = self._details
        rtype = d["type"].fn(scope)
        name = d["name"].fn(scope) if d.get("name") is not None else None
        rg = d["resourcegroupname"].fn(scope) if d.get("resourcegroupname") is not None else None
        if not isinstance(rtype, str):
            raise EvaluationFailure("details.type must be a string")
        ctx = scope.ctx
        cands = related_candidates(
            scope.primary,
            related,
            rtype,
            name if isinstance(name, str) else None,
            rg if isinstance(rg, str) else None,
            d["existencescope"],
            ctx.subscription_id,
            ctx.resource_group,
        )
        cands = self._with_self(scope.primary, rtype, name if isinstance(name, str) else None, cands)
        where = (
            f"type {rtype}" + (f", name {name}" if name else "") + (f", resource group {rg}" if rg else "")
            if explain
            else ""
        )
        if not cands:
            reasons.append(f"no related resource ({where}) among {len(related)} supplied: non-compliant")
            return Outcome(True, self.effect, False, None, reasons)
        cond: Pred | None = d["existencecondition"]
        if cond is None:
            reasons.append(f"{len(cands)} related resource(s) ({where}) exist: compliant")
            return Outcome(True, self.effect, True, None, reasons)
        if not explain:
            for rel in cands:
                rscope = Scope(rel, None, primary=scope.primary)
                rscope._ctx = scope._ctx
                rscope._base_ctx = scope._base_ctx
                if cond(rscope):
                    return Outcome(True, self.effect, True, None, reasons)
            return Outcome(True, self.effect, False, None, reasons)
        for rel in cands:
            rscope = Scope(rel, None, primary=scope.primary)
            rscope._ctx = scope._ctx
            rscope._base_ctx = scope._base_ctx
            trace: list[tuple[int, str]] = []
            rscope.trace = trace
            ok = cond(rscope)
            label = rel.get("id") or rel.get("name") or "related resource"
            if ok:
                reasons.append(f"existenceCondition holds for {label}: compliant")
                reasons.extend("  " + line for line in _lines(trace))
                return Outcome(True, self.effect, True, None, reasons)
            reasons.append(f"existenceCondition fails for {label}")
            reasons.extend("  " + line for line in _lines(trace))
        reasons.append("no related resource satisfies the existenceCondition: non-compliant")
        return Outcome(True, self.effect, False, None, reasons)

    @staticmethod
    def _with_self(primary: dict, rtype: str, name: str | None, cands: list[dict]) -> list[dict]:
        """`details.type` equal to the evaluated resource's type (with `name` `[field('name')]`): the
        existence condition reads the evaluated resource itself, which need not be supplied as related
        (https://learn.microsoft.com/azure/governance/policy/concepts/effect-audit-if-not-exists: "When the
        condition values for `if.field.type` and `then.details.type` match, then `name` becomes required
        and must be `[field('name')]`, or `[field('fullName')]` for a child resource")."""
        ptype = primary.get("type")
        if not isinstance(ptype, str) or ptype.lower() != rtype.lower():
            return cands
        if name is not None and not name_matches(name, primary):
            return cands
        pid = primary.get("id")
        others = [c for c in cands if c is not primary and (pid is None or c.get("id") != pid)]
        return [primary, *others]

    @property
    def identity_ops(self) -> bool:
        """Modify with an `identity.type` operation (not applicable to other types than VMs / scale sets)."""
        return self.effect == "modify" and any(op.identity_type for op in self._details["operations"])

    def _remediate(self, scope: Scope, reasons: list[str]) -> Outcome:
        ops: list[Operation] = self._details["operations"]
        notes: list[str] = []
        try:
            modified = apply_operations(ops, scope.primary, scope, notes)
        except IdentitySkip as exc:
            reasons.append(f"not applicable: {exc}; Azure skips the evaluation altogether (effect-modify)")
            return Outcome(True, self.effect, None, None, reasons, applicable=False)
        except Conflict as exc:
            if self.effect == "append":
                reasons.append(f"append conflict: {exc}; the request would fail")
                return Outcome(True, self.effect, False, None, reasons, denied=True)
            conflict = self._details.get("conflicteffect", "deny")
            reasons.append(f"modify conflict: {exc}; conflictEffect {conflict} applies")
            return Outcome(True, self.effect, False, None, reasons, denied=conflict == "deny")
        reasons.extend(notes)
        return Outcome(True, self.effect, False, modified, reasons)


def _lines(trace: list[tuple[int, str]] | None) -> list[str]:
    return ["  " * depth + text for depth, text in trace] if trace else []


def compile_policy(
    definition: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    *,
    catalogue: AliasCatalogue | None = None,
) -> CompiledPolicy:
    """Compile a definition (REST form or bare properties) with parameter values (plain or
    `{"value": v}`; defaults apply otherwise). Raises UnsupportedError for constructs that cannot run.
    """
    if not isinstance(definition, Mapping):
        raise UnsupportedError("a policy definition must be a JSON object")
    props = definition_properties(definition)
    name = str(definition.get("name") or props.get("displayName") or "policy")
    rule = props.get("policyRule")
    if not isinstance(rule, dict):
        raise UnsupportedError(f"{name}: properties.policyRule is missing")
    rule_l = lower_keys(rule)
    if "if" not in rule_l or not isinstance(rule_l.get("then"), dict):
        raise UnsupportedError(f"{name}: policyRule needs 'if' and 'then'")

    declared = props.get("parameters") or {}
    if not isinstance(declared, dict):
        raise UnsupportedError(f"{name}: properties.parameters must be an object")
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    for pname, spec in declared.items():
        names[pname.lower()] = pname
        if isinstance(spec, dict) and "defaultValue" in spec:
            values[pname.lower()] = spec["defaultValue"]
    warnings = []
    for k, v in unwrap_parameters(parameters).items():
        if k not in names:
            warnings.append(f"parameter '{k}' is not declared by {name}; ignored")
            continue
        values[k] = v

    check_limits(rule_l["if"], f"{name}: if", MAX_IF_CONDITIONS)
    then_l = lower_keys(rule_l["then"])
    details_l = lower_keys(then_l["details"]) if isinstance(then_l.get("details"), dict) else {}
    if "existencecondition" in details_l:
        check_limits(details_l["existencecondition"], f"{name}: then.details.existenceCondition", MAX_THEN_CONDITIONS)
    cat = catalogue if catalogue is not None else default_catalogue()
    cc = CompileCtx(values, names, cat, reads=Reads())
    condition = compile_condition(rule_l["if"], cc)
    types = resource_types(rule_l["if"], cc)
    residual_reads = Reads()
    rcc = CompileCtx(values, names, cat, field_cache=cc.field_cache, unknown_aliases=cc.unknown_aliases,
                     reads=residual_reads)
    residual = residual_condition(rule_l["if"], rcc) if types is not None else None

    then = lower_keys(rule_l["then"])
    dcc = CompileCtx(values, names, cat, region="details", unknown_aliases=cc.unknown_aliases)
    eff = compile_value(then.get("effect"), dcc)
    if not eff.const:
        try:
            eff.fn(Scope({}))
        except EvaluationFailure as exc:
            raise UnsupportedError(f"{name}: the effect cannot be resolved: {exc}") from None
        raise UnsupportedError(f"{name}: the effect must not depend on the resource")
    if not isinstance(eff.value, str) or eff.value.lower() not in KNOWN:
        raise UnsupportedError(f"{name}: unknown effect {eff.value!r}")
    effect = eff.value.lower()
    details = _compile_details(effect, then.get("details"), dcc, name)
    mode = str(props.get("mode") or "all").lower()
    policy = CompiledPolicy(
        name,
        effect,
        condition,
        types,
        details,
        mode=mode,
        unknown_aliases=frozenset(cc.unknown_aliases),
        warnings=warnings,
    )
    policy.display_name = str(props.get("displayName") or name)
    policy.indexed_if = fuse(residual or condition)
    policy.memo = memo_for(policy.indexed_if, residual_reads if residual is not None else cc.reads)
    policy._applicability, policy.not_for_subscriptions = applicability_condition(rule_l["if"], cc)
    return policy


def _compile_details(effect: str, raw: Any, cc: CompileCtx, name: str) -> dict[str, Any]:
    if effect in EXISTENCE:
        if not isinstance(raw, dict):
            raise UnsupportedError(f"{name}: {effect} needs details")
        d = lower_keys(raw)
        if "type" not in d:
            raise UnsupportedError(f"{name}: {effect} details.type is required")
        ecc = CompileCtx(
            cc.parameters,
            cc.declared,
            cc.catalogue,
            region="existenceCondition",
            unknown_aliases=cc.unknown_aliases,
        )
        scope_v = compile_value(d.get("existencescope", "ResourceGroup"), cc)
        return {
            "type": compile_value(d["type"], cc),
            "name": compile_value(d["name"], cc) if "name" in d else None,
            "resourcegroupname": compile_value(d["resourcegroupname"], cc) if "resourcegroupname" in d else None,
            "existencescope": str(scope_v.value if scope_v.const else "resourcegroup").lower(),
            "existencecondition": compile_condition(d["existencecondition"], ecc, "then.details.existenceCondition")
            if "existencecondition" in d
            else None,
        }
    if effect == "modify":
        if not isinstance(raw, dict):
            raise UnsupportedError(f"{name}: modify needs details.operations")
        d = lower_keys(raw)
        conflict = compile_value(d.get("conflicteffect", "deny"), cc)
        return {
            "operations": compile_operations(d.get("operations"), cc, append=False),
            "conflicteffect": str(conflict.value if conflict.const else "deny").lower(),
        }
    if effect == "append":
        return {"operations": compile_operations(raw, cc, append=True)}
    if effect in ("manual", "denyaction") and isinstance(raw, dict):
        d = lower_keys(raw)
        out: dict[str, Any] = {}
        for key in ("defaultstate", "actionnames"):
            if key in d:
                c: Compiled = compile_value(d[key], cc)
                out[key] = c.value if c.const else None
        return out
    return {}
