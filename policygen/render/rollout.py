"""Safe rollout on an assignment: resource selectors, overrides and the `rollout` shorthand.

`rollout` expands into what Azure knows (assignment structure, "Overrides" and "Resource selectors",
https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure): the rolled-out members'
effect parameters are set to `from`, and one `policyEffect` override sets `effect` for those members
(`policyDefinitionReferenceId` selector) in the current stage's regions (`resourceLocation` selector; none
in a stage that covers every region). Each stage is then a one-line change a reviewer can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policygen.arm import effects
from policygen.intents.lifecycle import MAX_OVERRIDES
from policygen.intents.load import Loaded
from policygen.intents.models import AssignmentIntent


@dataclass(frozen=True)
class MemberEffect:
    """Where an assignment sets one member's effect, and the values it may take (None: unknown)."""

    parameter: str | None
    allowed: tuple[str, ...] | None


def member_effects(initiative: dict[str, Any] | None, params_decl: dict[str, Any] | None) -> dict[str, MemberEffect]:
    """Reference id ('' for a single definition) -> its effect parameter in the assignment."""
    def spec_of(pname: str) -> MemberEffect:
        spec = (params_decl or {}).get(pname)
        if spec is None:
            return MemberEffect(None, None)
        allowed = spec.get("allowedValues")
        return MemberEffect(pname, tuple(allowed) if allowed else None)

    if initiative is None:
        return {"": spec_of("effect") if params_decl is not None else MemberEffect(None, None)}
    out = {}
    for m in initiative["properties"]["policyDefinitions"]:
        ref = m["policyDefinitionReferenceId"]
        value = str(((m.get("parameters") or {}).get("effect") or {}).get("value", ""))
        pname = value[len("[parameters('"):-len("')]")] if value.startswith("[parameters('") else None
        out[ref] = spec_of(pname) if pname else MemberEffect(None, None)
    return out


def _allowed(effect: str, member: MemberEffect) -> bool:
    return member.allowed is None or effect.lower() in {str(v).lower() for v in member.allowed}


def lifecycle_fields(loaded: Loaded[AssignmentIntent], initiative: dict[str, Any] | None,
                     params_decl: dict[str, Any] | None, values: dict[str, Any],
                     add: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(properties to add: definitionVersion, resourceSelectors, overrides; rollout summary or None).

    `values` (the assignment's parameter values) receive the rolled-out members' `from` effect; `add(loc,
    message)` reports a problem at a YAML location."""
    intent = loaded.model
    members = member_effects(initiative, params_decl)
    refs = {r.lower(): r for r in members if r}
    props: dict[str, Any] = {}
    if intent.definitionVersion:
        props["definitionVersion"] = intent.definitionVersion
    if intent.resourceSelectors:
        props["resourceSelectors"] = [s.to_azure() for s in intent.resourceSelectors]
    overrides = [o.to_azure() for o in intent.overrides]
    for i, o in enumerate(intent.overrides):
        chosen = list(members)
        for j, sel in enumerate(o.selectors):
            if sel.kind != "policyDefinitionReferenceId":
                continue
            if initiative is None:
                if "/policysetdefinitions/" not in str(intent.builtin or "").lower():
                    add(("overrides", i, "selectors", j), "policyDefinitionReferenceId selectors need an initiative")
                continue  # a built-in initiative's members are not in the pack: Azure checks the ids
            for v in sel.values:
                if v.lower() not in refs:
                    add(("overrides", i, "selectors", j), f"no member with policyDefinitionReferenceId {v!r}")
            wanted = {v.lower() for v in sel.values}
            chosen = [r for r in chosen if (r.lower() in wanted) == (sel.in_ is not None)]
        if o.kind == "policyEffect":
            for r in chosen:
                if not _allowed(o.value, members[r]):
                    add(("overrides", i, "value"),
                        f"effect {o.value!r} is not allowed for {r or 'the definition'}: "
                        f"{', '.join(members[r].allowed or ())}")
                    break
    summary = None
    if intent.rollout is not None:
        ro = intent.rollout
        targets = ro.members or ([""] if initiative is None else [])
        if initiative is not None and not ro.members:
            add(("rollout",), "rollout on an initiative names its members (policyDefinitionReferenceIds)")
        for r in ro.members:
            if initiative is None:
                add(("rollout", "members"), "rollout members need an initiative assignment")
                break
            if r.lower() not in refs:
                add(("rollout", "members"), f"no member with policyDefinitionReferenceId {r!r}")
        targets = [refs.get(r.lower(), r) for r in targets if r == "" or r.lower() in refs]
        for r in targets:
            m = members.get(r, MemberEffect(None, None))
            for eff, what in ((ro.effect, "effect"), (ro.from_, "from")):
                if not _allowed(eff, m):
                    add(("rollout", what), f"effect {eff!r} is not allowed for {r or 'the definition'}: "
                        f"{', '.join(m.allowed or ())}")
            if m.parameter:
                given = values.get(m.parameter)
                if given is not None and str(given.get("value")).lower() != ro.from_.lower():
                    add(("parameters", m.parameter), f"{m.parameter} is {given.get('value')!r} but the rollout "
                        f"starts from {ro.from_!r}: drop the parameter (rollout sets it)")
                values[m.parameter] = {"value": _canonical_in(ro.from_, m)}
        stage = ro.current
        selectors: list[dict[str, Any]] = []
        if initiative is not None and targets:
            selectors.append({"kind": "policyDefinitionReferenceId", "in": sorted(targets)})
        if stage.locations:
            selectors.append({"kind": "resourceLocation", "in": list(stage.locations)})
        if stage.locations != []:  # [] is the stage before the first region: `from` everywhere
            override: dict[str, Any] = {"kind": "policyEffect", "value": _canonical_in(ro.effect, members.get(
                targets[0] if targets else "", MemberEffect(None, None)))}
            if selectors:
                override["selectors"] = selectors
            overrides.append(override)
        if len(overrides) > MAX_OVERRIDES:
            add(("rollout",), f"{len(overrides)} overrides; Azure allows {MAX_OVERRIDES} per assignment")
        summary = {"stage": stage.name, "index": ro.index, "stages": [s.name for s in ro.stages],
                   "effect": ro.effect, "from": ro.from_, "members": sorted(targets),
                   "locations": None if stage.locations is None else list(stage.locations),
                   "next": ro.stages[ro.index + 1].name if ro.index + 1 < len(ro.stages) else None}
    if overrides:
        props["overrides"] = overrides
    return props, summary


def _canonical_in(effect: str, member: MemberEffect) -> str:
    """The effect spelt as the definition's allowedValues spell it (Azure compares them case-sensitively)."""
    for v in member.allowed or ():
        if str(v).lower() == effect.lower():
            return str(v)
    return effects.canonical(effect) or effect
