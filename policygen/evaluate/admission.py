"""What Azure Policy does to one create or update request: the one answer `policygen check`, the emulator's
`checkPolicyRestrictions` and its request-time deny (403 RequestDisallowedByPolicy) all give.

Given the request body (with its ARM id) and the assignments in force where it lands (each with its
members, parameter values, exemptions, selectors, overrides and enforcementMode), `decide` returns one
verdict per (assignment, member) that acts on it: denied, modified, deployIfNotExists, audited, exempt,
notEnforced or undecidable, plus the request as modify/append leave it.

Azure's rules encoded here:
- order of evaluation: append and modify first, and since they change the request "a change made may prevent
  an audit or deny effect from triggering"; then deny, then audit; auditIfNotExists/deployIfNotExists after
  the resource provider succeeded (https://learn.microsoft.com/azure/governance/policy/concepts/effect-basics,
  "Order of evaluation");
- resource selectors choose the resources an assignment evaluates; the first `policyEffect` override whose
  selectors hold changes the member's effect only, the rule and the details stay as written
  (https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure, "Resource selectors",
  "Overrides");
- an unexpired exemption of the assignment (and member) at or above the resource waives it
  (https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure);
- enforcementMode DoNotEnforce: nothing is denied, changed or deployed, compliance is still reported
  (assignment structure, "Enforcement mode");
- a denial carries the assignment's non-compliance message for that member, else its default one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from policygen.arm.effects import EXISTENCE
from policygen.evaluate.assignment_gate import exempting, override_for, selected_any
from policygen.evaluate.policy import CompiledPolicy, Outcome, compile_policy

log = logging.getLogger("policygen.evaluate")

OUTCOMES = ("denied", "undecidable", "modified", "deployIfNotExists", "audited", "notEnforced", "exempt")
CHANGING = ("append", "modify")  # evaluated first: they change the request
EXEMPTION_SEGMENT = "/providers/microsoft.authorization/policyexemptions/"

Compile = Callable[[dict, dict], CompiledPolicy]
Context = Callable[[dict, Any], Any]  # (assignment, member) -> EvalContext | None


@dataclass
class Member:
    """One definition an assignment runs (the emulator's `effective.Member` has the same fields)."""

    definition: dict[str, Any]  # REST body, with `id`
    parameters: dict[str, Any]  # values in force, defaults applied
    reference_id: str | None = None  # policyDefinitionReferenceId inside an initiative
    set_definition: dict[str, Any] | None = None
    compiled: dict[str | None, Any] = field(default_factory=dict)  # effect override -> compiled policy


@dataclass
class InForce:
    """An assignment in force where the request lands, what it runs and the exemptions that may cover it."""

    assignment: dict[str, Any]  # REST body: id, name, properties
    members: Sequence[Any]  # Member-like
    exemptions: Sequence[dict[str, Any]] = ()  # REST bodies (id, name, properties) of this assignment's exemptions


@dataclass
class Verdict:
    """What one assignment member does to the request."""

    outcome: str  # one of OUTCOMES
    assignment: dict[str, Any]
    member: Any
    effect: str  # the effect in force (an override's, else the member's), lower-case
    message: str = ""  # the assignment's non-compliance message for this member
    changes: list[dict[str, Any]] = field(default_factory=list)  # modify/append: {path, before, after}
    detail: str = ""
    exemption: dict[str, Any] | None = None
    result: Outcome | None = None

    @property
    def label(self) -> str:
        """`assignment` or `assignment/policyDefinitionReferenceId`: what to quote when asking for an exemption."""
        name = str(self.assignment.get("name", ""))
        return f"{name}/{self.member.reference_id}" if self.member.reference_id else name


@dataclass
class Decision:
    request: dict[str, Any]  # the request after the enforced modify/append verdicts
    verdicts: list[Verdict]
    skipped: list[str] = field(default_factory=list)  # members the evaluator cannot run

    @property
    def denial(self) -> Verdict | None:
        return next((v for v in self.verdicts if v.outcome == "denied"), None)


def with_effect(definition: dict[str, Any], effect: str) -> dict[str, Any]:
    """The definition as an override runs it: `then.effect` replaced, everything else as written (its id
    marked so caches keep the two apart)."""
    rest = isinstance(definition.get("properties"), dict) and "policyRule" in definition["properties"]
    props = definition["properties"] if rest else definition
    rule = props.get("policyRule") or {}
    then = dict(rule.get("then") or {})
    for k in [k for k in then if k.lower() == "effect"]:
        del then[k]
    then["effect"] = effect
    new_props = {**props, "policyRule": {**rule, "then": then}}
    if not rest:
        return new_props
    return {**definition, "id": f"{definition.get('id', '')}#effect={effect}", "properties": new_props}


def compiled_for(member: Any, override: str | None, compile: Compile = compile_policy) -> tuple[Any, str]:
    """(the member's compiled policy with the override's effect, or None; why not), once per member and effect."""
    cache = getattr(member, "compiled", None)
    if cache is not None and override in cache:
        return cache[override], ""
    definition = with_effect(member.definition, override) if override else member.definition
    try:
        found, why = compile(definition, member.parameters), ""
    except Exception as exc:  # noqa: BLE001 - a member the evaluator cannot run is skipped and reported
        found, why = None, str(exc)
    if cache is not None:
        cache[override] = found
    return found, why


def evaluate_member(resource: dict, assignment: dict, member: Any, *, related: Any = (),
                    context: Any = None, compile: Compile = compile_policy) -> Outcome | None:
    """The outcome of one assignment member on one resource, None when it does not apply (resource selectors,
    mode, applicability, disabled, or a member the evaluator cannot run)."""
    props = assignment.get("properties") or {}
    if not selected_any(props.get("resourceSelectors"), resource, member.reference_id):
        return None
    cp, _ = compiled_for(member, override_for(props.get("overrides"), resource, member.reference_id), compile)
    if cp is None or not cp.applies_to(resource):
        return None
    outcome = _run(cp, resource, related, context)
    if outcome is None:
        return None
    if outcome.compliant is None and outcome.matched and outcome.effect == "manual":
        return outcome  # a manual policy applies; its state comes from attestations
    return outcome if outcome.compliant is not None else None


def _run(cp: CompiledPolicy, resource: dict, related: Any, context: Any, explain: bool = False) -> Outcome | None:
    rel = (related() if callable(related) else related) if cp.effect in EXISTENCE else ()
    try:
        return cp.evaluate(resource, related=rel, context=context, explain=explain)
    except Exception:  # an evaluator bug must not take a request down; it is logged
        log.exception("evaluating %s against %s failed", cp.name, resource.get("id"))
        return None


def decide(request: dict, in_force: Sequence[InForce], *, related: Any = (), context: Context | None = None,
           compile: Compile = compile_policy, only: Collection[str] | None = None, placeholder: str | None = None,
           now: datetime | None = None) -> Decision:
    """Every verdict of the assignments in force on `request`, in Azure's order of evaluation.

    `related`: the resources auditIfNotExists/deployIfNotExists look among (or a callable giving them, called
    only when such a member applies); `context(assignment, member)`: the EvalContext; `only`: the effects to
    evaluate besides append/modify (which always run, since they change what the others see);
    `placeholder`: the prefix of values known only during deployment, whose verdicts are `undecidable`."""
    wanted = {e.lower() for e in only} if only is not None else None
    pairs: list[tuple[InForce, Any, CompiledPolicy]] = []
    skipped: list[str] = []
    for entry in in_force:
        props = entry.assignment.get("properties") or {}
        for member in entry.members:
            if not selected_any(props.get("resourceSelectors"), request, member.reference_id):
                continue
            override = override_for(props.get("overrides"), request, member.reference_id)
            cp, why = compiled_for(member, override, compile)
            if cp is None:
                if why:
                    skipped.append(f"{_label(entry.assignment, member)}: {why}")
                continue
            if cp.effect in CHANGING or wanted is None or cp.effect in wanted:
                pairs.append((entry, member, cp))
    current = request
    verdicts: list[Verdict] = []
    for changing in (True, False):
        for entry, member, cp in pairs:
            if (cp.effect in CHANGING) != changing:
                continue
            ctx = context(entry.assignment, member) if context else None
            v = _verdict(current, entry, member, cp, related, ctx, placeholder, now)
            if v is None:
                continue
            verdicts.append(v)
            if v.outcome == "modified" and v.result is not None and v.result.modified is not None:
                current = {**v.result.modified, "id": request.get("id")}
    return Decision(current, verdicts, skipped)


def _label(assignment: dict, member: Any) -> str:
    name = str(assignment.get("name", ""))
    return f"{name}/{member.reference_id}" if member.reference_id else name


def _verdict(resource: dict, entry: InForce, member: Any, cp: CompiledPolicy, related: Any, ctx: Any,
             placeholder: str | None, now: datetime | None) -> Verdict | None:
    if not cp.applies_to(resource):
        return None
    outcome = _run(cp, resource, related, ctx)
    kind = _kind(outcome) if outcome is not None else None
    if kind is None or outcome is None:
        return None
    props = entry.assignment.get("properties") or {}
    v = Verdict(kind, entry.assignment, member, outcome.effect,
                non_compliance_message(props, member.reference_id) or "", result=outcome)
    if outcome.error:
        v.detail = f"evaluation failed (Azure denies the request): {outcome.error}"
    if kind == "modified" and outcome.modified is not None:
        v.changes = changes(resource, outcome.modified)
    if placeholder and reads_placeholder(cp, resource, placeholder, related, ctx):
        v.outcome, v.detail = "undecidable", f"the outcome reads {', '.join(_placeholders(resource, placeholder))}" \
            ", known only during deployment (reference(), list*(), or Terraform's 'known after apply')"
    covering = exemption_for(entry, resource, member.reference_id, now)
    if covering is not None:
        v.exemption = covering
        v.detail = f"exemption {covering.get('name', '')} ({v.outcome} otherwise)"
        v.outcome = "exempt"
    elif str(props.get("enforcementMode", "Default")).lower() == "donotenforce" and \
            v.outcome in ("denied", "modified", "deployIfNotExists"):
        v.detail = f"enforcementMode DoNotEnforce ({v.outcome} otherwise)"
        v.outcome = "notEnforced"
    return v


def _kind(outcome: Outcome) -> str | None:
    if outcome.denied:
        return "denied"
    if outcome.compliant is not False:
        return None
    if outcome.effect in CHANGING:
        return "modified" if outcome.modified is not None else "audited"
    if outcome.effect == "deployifnotexists":
        return "deployIfNotExists"
    return "audited"  # audit, auditIfNotExists, manual, and effects the resource provider enforces


def exemption_for(entry: InForce, resource: dict, reference_id: str | None,
                  now: datetime | None = None) -> dict | None:
    """The unexpired exemption of the entry that covers this resource and member (its selectors hold)."""
    pairs = []
    for ex in entry.exemptions:
        eid = str(ex.get("id", ""))
        cut = eid.lower().rfind(EXEMPTION_SEGMENT)
        pairs.append((eid[:cut] if cut >= 0 else eid, ex.get("properties") or {}))
    props = exempting(pairs, resource, reference_id, now)
    return next((ex for ex, (_, p) in zip(entry.exemptions, pairs, strict=True) if p is props), None)


def non_compliance_message(assignment_props: dict, reference_id: str | None) -> str | None:
    """The assignment's message for this member: the one naming its reference id, else the default one
    (assignment structure, "Non-compliance messages")."""
    messages = assignment_props.get("nonComplianceMessages") or []
    for m in messages:
        if reference_id and str(m.get("policyDefinitionReferenceId") or "").lower() == reference_id.lower():
            return m.get("message")
    return next((m.get("message") for m in messages if not m.get("policyDefinitionReferenceId")), None)


def changes(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """The fields modify/append change, as JSON paths."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for k in sorted({*before, *after}):
            if k != "id":
                out.extend(changes(before.get(k), after.get(k), f"{path}/{k}"))
        return out
    return [] if before == after else [{"path": path, "before": before, "after": after}]


def reads_placeholder(cp: CompiledPolicy, resource: dict, placeholder: str, related: Any = (),
                      context: Any = None) -> bool:
    """Does the verdict read a value known only during deployment? Its traced evaluation shows the
    placeholder, or the verdict changes when the placeholders are replaced by other values."""
    if not _placeholders(resource, placeholder):
        return False
    traced = _run(cp, resource, related, context, explain=True)
    if traced is None or any(placeholder in line for line in traced.reasons):
        return True
    for probe in ("", "Disabled", "Enabled", None):
        other = _run(cp, _replaced(resource, placeholder, probe), related, context)
        if other is None or (other.compliant, other.denied) != (traced.compliant, traced.denied):
            return True
    return False


def _placeholders(value: Any, placeholder: str, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path] if value.startswith(placeholder) else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _placeholders(v, placeholder, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _placeholders(v, placeholder, f"{path}/{i}")]
    return []


def _replaced(value: Any, placeholder: str, probe: Any) -> Any:
    if isinstance(value, str) and value.startswith(placeholder):
        return probe
    if isinstance(value, dict):
        return {k: _replaced(v, placeholder, probe) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, placeholder, probe) for v in value]
    return value
