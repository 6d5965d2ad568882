"""Lifecycle intents: exemptions (`exemptions/*.yaml`) and an assignment's safe-rollout fields (resource
selectors, overrides, the `rollout` shorthand, pinned definition versions).

Azure's documented limits are checked here, offline, so a plan never carries a body ARM would refuse:
- assignment structure, "Resource selectors" and "Overrides":
  https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
  (selector kinds, each kind once per selector list, `in` xor `notIn` with at most 50 values,
  resourceLocation never beside resourceWithoutLocation, which only knows `subscriptionLevelResources`;
  at most 10 resource selectors and 10 overrides per assignment)
- exemption structure: https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure
  (category Waiver | Mitigated, expiresOn in UTC ISO 8601, policyDefinitionReferenceIds, resourceSelectors,
  assignmentScopeValidation Default | DoNotValidate)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policygen.arm import effects

MAX_SELECTOR_VALUES = 50
MAX_RESOURCE_SELECTORS = 10
MAX_OVERRIDES = 10
VERSION_PIN_RE = r"^\d+\.(\d+|\*)\.(\d+|\*)$"
# An initiative member may pin a pre-release line too: the ALZ library pins built-ins to `1.*.*-preview`
# (platform/alz/policy_set_definitions/Deny-PublicPaaSEndpoints.alz_policy_set_definition.json).
MEMBER_VERSION_PIN_RE = r"^\d+\.(\d+|\*)\.(\d+|\*)(-[0-9A-Za-z]+)?$"
RESOURCE_KINDS = ("resourceLocation", "resourceType", "resourceWithoutLocation")
SelectorKind = Literal["resourceLocation", "resourceType", "resourceWithoutLocation", "policyDefinitionReferenceId"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class SelectorSpec(_Strict):
    """One selector: a kind with `in` or `notIn` values."""

    kind: SelectorKind
    in_: list[str] | None = Field(default=None, alias="in", max_length=MAX_SELECTOR_VALUES)
    notIn: list[str] | None = Field(default=None, max_length=MAX_SELECTOR_VALUES)

    @model_validator(mode="after")
    def _one_list(self) -> SelectorSpec:
        if (self.in_ is None) == (self.notIn is None):
            raise ValueError("a selector has exactly one of 'in' or 'notIn'")
        values = self.in_ if self.in_ is not None else self.notIn
        if not values:
            raise ValueError("a selector's 'in'/'notIn' needs at least one value")
        if self.kind == "resourceWithoutLocation" and [v.lower() for v in values] != ["subscriptionlevelresources"]:
            raise ValueError("resourceWithoutLocation only accepts the value 'subscriptionLevelResources'")
        return self

    @property
    def values(self) -> list[str]:
        return list(self.in_ if self.in_ is not None else self.notIn or [])

    def to_azure(self) -> dict[str, Any]:
        return {"kind": self.kind, ("in" if self.in_ is not None else "notIn"): self.values}


def _check_kinds(selectors: list[SelectorSpec], allowed: tuple[str, ...], where: str) -> None:
    kinds = [s.kind for s in selectors]
    for k in kinds:
        if k not in allowed:
            raise ValueError(f"selector kind {k!r} is not allowed in {where}; allowed: {', '.join(allowed)}")
    dup = sorted({k for k in kinds if kinds.count(k) > 1})
    if dup:
        raise ValueError(f"selector kind {dup[0]!r} is used twice in one {where}")
    if "resourceLocation" in kinds and "resourceWithoutLocation" in kinds:
        raise ValueError("resourceLocation and resourceWithoutLocation cannot be used in the same selector list")


class ResourceSelectorSpec(_Strict):
    """A named subset of the resources an assignment (or exemption) applies to."""

    name: str = Field(min_length=1, max_length=64)
    selectors: list[SelectorSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _kinds(self) -> ResourceSelectorSpec:
        _check_kinds(self.selectors, RESOURCE_KINDS, "resource selector")
        return self

    def to_azure(self) -> dict[str, Any]:
        return {"name": self.name, "selectors": [s.to_azure() for s in self.selectors]}


class OverrideSpec(_Strict):
    """An effect (or definition version) other than the assignment's, for the members/resources selected."""

    kind: Literal["policyEffect", "definitionVersion"] = "policyEffect"
    value: str = Field(min_length=1)
    selectors: list[SelectorSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _value(self) -> OverrideSpec:
        _check_kinds(self.selectors, (*RESOURCE_KINDS, "policyDefinitionReferenceId"), "override")
        if self.kind == "policyEffect" and effects.canonical(self.value) is None:
            raise ValueError(f"override value {self.value!r} is not an Azure Policy effect")
        if self.kind == "definitionVersion":
            import re

            if not re.fullmatch(VERSION_PIN_RE, self.value):
                raise ValueError(f"definitionVersion override {self.value!r} is not like 1.*.*")
        return self

    def to_azure(self) -> dict[str, Any]:
        value = effects.canonical(self.value) if self.kind == "policyEffect" else self.value
        out: dict[str, Any] = {"kind": self.kind, "value": value}
        if self.selectors:
            out["selectors"] = [s.to_azure() for s in self.selectors]
        return out


class RolloutStage(_Strict):
    name: str = Field(min_length=1, max_length=64)
    locations: list[str] | None = Field(
        default=None, max_length=MAX_SELECTOR_VALUES,
        description="Regions where the target effect applies in this stage; omitted: everywhere; []: nowhere yet.")

    def covers(self, other: RolloutStage) -> bool:
        """This stage applies the effect at least wherever `other` does."""
        if self.locations is None:
            return True
        if other.locations is None:
            return False
        return {x.lower() for x in other.locations} <= {x.lower() for x in self.locations}


class RolloutSpec(_Strict):
    """Roll one effect out in stages: `from` everywhere, `effect` in the stage's regions (then all).

    Expands into overrides (policyEffect with resourceLocation and policyDefinitionReferenceId selectors),
    so each stage is one reviewed change to `stage`."""

    effect: str = Field(description="The effect being rolled out, e.g. Deny.")
    from_: str = Field(default="Audit", alias="from", description="The effect outside the stage's regions.")
    members: list[str] = Field(default_factory=list,
                               description="policyDefinitionReferenceIds rolled out (initiatives); empty: all.")
    stages: list[RolloutStage] = Field(min_length=1)
    stage: str = Field(description="The stage in force now.")

    @field_validator("effect", "from_")
    @classmethod
    def _effect(cls, v: str) -> str:
        name = effects.canonical(v)
        if name is None:
            raise ValueError(f"{v!r} is not an Azure Policy effect")
        return name

    @model_validator(mode="after")
    def _stage(self) -> RolloutSpec:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("rollout stage names must be unique")
        if self.stage not in names:
            raise ValueError(f"rollout stage {self.stage!r} is not one of the stages: {', '.join(names)}")
        for earlier, later in zip(self.stages, self.stages[1:], strict=False):
            if not later.covers(earlier):
                raise ValueError(f"stage {later.name!r} drops regions of {earlier.name!r}: stages only widen")
        return self

    @property
    def index(self) -> int:
        return [s.name for s in self.stages].index(self.stage)

    @property
    def current(self) -> RolloutStage:
        return self.stages[self.index]


def _expiry(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    else:
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"expiresOn {value!r} is not an ISO 8601 date or date-time") from None
    return when.replace(tzinfo=when.tzinfo or UTC).astimezone(UTC)


class ExemptionIntent(_Strict):
    """`exemptions/*.yaml`: a time-boxed, approved exception to an assignment at a scope or resource."""

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                             description="Exemption name; default: the file name.")
    displayName: str = Field(min_length=1, max_length=128)
    description: str = Field(default="", max_length=1024)
    assignment: str = Field(description="An assignment intent name, or a full policy assignment id.")
    scope: str | list[str] = Field(description="A scope key of the environment, an ARM scope id, or a resource id; "
                                   "a list exempts each under the same name (EPAC's `scopes`).")
    category: Literal["Waiver", "Mitigated"]
    expiresOn: Any = Field(default=None, description="UTC date or date-time (ISO 8601) after which it lapses.")
    policyDefinitionReferenceIds: list[str] = Field(default_factory=list)
    resourceSelectors: list[ResourceSelectorSpec] = Field(default_factory=list, max_length=MAX_RESOURCE_SELECTORS)
    assignmentScopeValidation: Literal["Default", "DoNotValidate"] = "Default"
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description="Who requested and approved it, the ticket link, ...")

    @field_validator("expiresOn")
    @classmethod
    def _expires(cls, v: Any) -> Any:
        return _expiry(v)

    @property
    def expires(self) -> datetime | None:
        return self.expiresOn

    @property
    def scopes(self) -> list[str]:
        return [self.scope] if isinstance(self.scope, str) else list(self.scope)

    @field_validator("scope")
    @classmethod
    def _scopes(cls, v: Any) -> Any:
        if isinstance(v, list) and (not v or len({str(s).lower() for s in v}) != len(v)):
            raise ValueError("a list of scopes needs at least one scope, each once")
        return v


def iso_utc(when: datetime) -> str:
    """ARM's form of a UTC instant: yyyy-MM-ddTHH:mm:ssZ."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
