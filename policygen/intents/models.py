"""The three intent file kinds (and the pack settings), as strict models.

Models forbid unknown keys (a misspelt `efect:` must not be ignored) and use the camelCase keys Azure
uses, so intent files read like the policies they become. JSON Schemas for editors come from here.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policygen.arm import effects
from policygen.intents.lifecycle import (
    MAX_OVERRIDES,
    MAX_RESOURCE_SELECTORS,
    MEMBER_VERSION_PIN_RE,
    VERSION_PIN_RE,
    OverrideSpec,
    ResourceSelectorSpec,
    RolloutSpec,
)

# Any name Azure accepts for a policy object: no `<>*%&:\?.+/` (and no `"` or `|`, which some file systems
# refuse, since names are also file names in builds and exports), no control characters, no leading or trailing
# space; 64 characters (the initiative and assignment limit; assignments at management-group scope: 24, checked
# at render). Microsoft's own examples use names such as "Audit a tag and it's value".
NAME_RE = r'^[^<>*%&:\\?.+/"|\x00-\x1f ](?:[^<>*%&:\\?.+/"|\x00-\x1f]{0,62}[^<>*%&:\\?.+/"|\x00-\x1f ])?$'
SEMVER_RE = r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Intents write Resource Manager mode definitions: the effects not tied to a Resource Provider mode.
INTENT_EFFECTS = effects.names(effects.GENERAL)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class EffectSpec(Strict):
    """The effect parameter every definition gets: its default and the values an assignment may pick."""

    default: str
    allowed: list[str] = Field(min_length=1)

    @field_validator("default")
    @classmethod
    def _known_default(cls, v: str) -> str:
        return _canonical_effect(v)

    @field_validator("allowed")
    @classmethod
    def _known_allowed(cls, v: list[str]) -> list[str]:
        out = [_canonical_effect(e) for e in v]
        if len({e.lower() for e in out}) != len(out):
            raise ValueError("allowed effects must be unique")
        return out

    @model_validator(mode="after")
    def _default_allowed(self) -> EffectSpec:
        if self.default not in self.allowed:
            raise ValueError(f"default effect {self.default!r} is not one of allowed {self.allowed}")
        return self


def _canonical_effect(value: str) -> str:
    name = effects.canonical(str(value))
    if name is None or name not in INTENT_EFFECTS:
        raise ValueError(f"unknown effect {value!r}; expected one of {', '.join(INTENT_EFFECTS)}")
    return name


PARAMETER_TYPES = ("String", "Array", "Object", "Boolean", "Integer", "Float", "DateTime")
# Any case: ARM reads a parameter type case-insensitively, and published definitions write "string" (the ALZ
# library does throughout). The case written is kept, so an imported definition builds as it was read.
PARAMETER_TYPE_PATTERN = "^(" + "|".join("".join(f"[{c.upper()}{c.lower()}]" for c in t)
                                         for t in PARAMETER_TYPES) + ")$"


class ParameterSpec(Strict):
    """An Azure Policy parameter, as in a definition or initiative."""

    type: str = Field(json_schema_extra={"pattern": PARAMETER_TYPE_PATTERN, "examples": list(PARAMETER_TYPES)},
                      description=f"{', '.join(PARAMETER_TYPES)} (any case; written as given).")
    defaultValue: Any = None
    allowedValues: list[Any] | None = None
    displayName: str | None = None
    description: str | None = None
    strongType: str | None = None
    assignPermissions: bool | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v.lower() not in {t.lower() for t in PARAMETER_TYPES}:
            raise ValueError(f"unknown parameter type {v!r}; expected one of {', '.join(PARAMETER_TYPES)}")
        return v

    def to_azure(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        meta = {
            k: v
            for k, v in (
                ("displayName", self.displayName),
                ("description", self.description),
                ("strongType", self.strongType),
                ("assignPermissions", self.assignPermissions),
            )
            if v is not None
        }
        if meta:
            out["metadata"] = meta
        if "defaultValue" in self.model_fields_set:
            out["defaultValue"] = self.defaultValue
        if self.allowedValues is not None:
            out["allowedValues"] = self.allowedValues
        if self.schema_ is not None:
            out["schema"] = self.schema_
        return out


class Expect(Strict):
    compliant: bool | None = None
    effect: str | None = None
    matched: bool | None = None
    modified: dict[str, Any] | None = None


class TestSpec(Strict):
    """A policy unit test: a sample resource (and related resources) and the expected outcome."""

    __test__ = False

    name: str
    resource: dict[str, Any]
    expect: Expect
    parameters: dict[str, Any] = Field(default_factory=dict)
    related: list[dict[str, Any]] = Field(default_factory=list)
    context: dict[str, Any] | None = Field(
        default=None,
        description="What Azure supplies to the evaluation: resourceGroup, subscription (tags, properties), "
        "policy, requestContext (apiVersion, identity), utcNow.",
    )
    for_: str | None = Field(
        default=None,
        alias="for",
        description="Resource type (row) the test targets when the intent fans out and the type is ambiguous.",
    )


class DefinitionIntent(Strict):
    """`definitions/*.yaml`: one governance intent; several resource types fan out to one definition each."""

    intent: str = Field(description="Intent kind, e.g. disable-public-network-access, or custom.")
    name: str | None = Field(default=None, pattern=NAME_RE, description="Definition name; default: the file name.")
    resourceTypes: list[str] = Field(default_factory=list)
    displayName: str = Field(min_length=1)
    description: str = ""
    category: str | None = None
    version: str = Field(default="1.0.0", pattern=SEMVER_RE)
    mode: str | None = None
    effect: EffectSpec | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    nonComplianceMessage: str | None = None
    tests: list[TestSpec] = Field(default_factory=list)

    @field_validator("resourceTypes")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        for t in v:
            if not re.fullmatch(r"[A-Za-z0-9.]+/[A-Za-z0-9./]+", t):
                raise ValueError(f"{t!r} is not a resource type like Microsoft.Storage/storageAccounts")
        return v


class ParamRef(Strict):
    parameter: str


class MemberSpec(Strict):
    definition: str | None = Field(
        default=None, description="A local definition intent name (fans out to every definition it renders)."
    )
    builtin: str | None = Field(default=None, description="A built-in definition GUID or full id.")
    referenceId: str | None = None
    groups: list[str] = Field(default_factory=list, description="groupNames; written when non-empty or given.")
    effect: str | None = Field(default=None, description="Default of this member's generated effect parameter.")
    effectParameter: bool = Field(
        default=True, description="false: no initiative parameter is generated for a local member's effect; the "
        "member runs its definition's default effect (as an initiative that passes no effect value does).")
    definitionVersion: str | None = Field(default=None, pattern=MEMBER_VERSION_PIN_RE,
                                          description="Pin the member's definition version, e.g. 1.*.* or "
                                          "1.*.*-preview")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Member parameter → literal value or {parameter: <initiative parameter>}."
    )

    @model_validator(mode="after")
    def _one_target(self) -> MemberSpec:
        if (self.definition is None) == (self.builtin is None):
            raise ValueError("a member names exactly one of 'definition' or 'builtin'")
        if self.builtin and not (GUID_RE.match(self.builtin) or self.builtin.lower().startswith("/providers/")):
            raise ValueError(f"builtin {self.builtin!r} is neither a GUID nor a definition id")
        if not self.effectParameter and (self.effect is not None or "effect" in self.parameters):
            raise ValueError("effectParameter: false passes no effect; drop 'effect' (or the effect parameter)")
        return self


class GroupSpec(Strict):
    name: str
    displayName: str | None = None
    category: str | None = None
    description: str | None = None
    additionalMetadataId: str | None = Field(default=None, description="Id of a policy metadata resource "
                                             "(e.g. a regulatory control) with more about the group.")


class InitiativeIntent(Strict):
    """`initiatives/*.yaml`: a policy set built from local intents and built-ins."""

    name: str | None = Field(default=None, pattern=NAME_RE)
    displayName: str = Field(min_length=1)
    description: str = ""
    category: str | None = None
    version: str = Field(default="1.0.0", pattern=SEMVER_RE)
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    groups: list[GroupSpec] | None = Field(
        default_factory=list, description="policyDefinitionGroups; written only when given (null is written "
        "as null, as some published initiatives have it).")
    members: list[MemberSpec] = Field(min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)


class IdentitySpec(Strict):
    type: Literal["SystemAssigned", "UserAssigned", "None"] = "SystemAssigned"
    userAssignedIdentity: str | None = None
    location: str | None = Field(
        default=None, description="Managed identity location; default: the environment's identityLocation."
    )

    @model_validator(mode="after")
    def _uai(self) -> IdentitySpec:
        if self.type == "UserAssigned" and not self.userAssignedIdentity:
            raise ValueError("identity type UserAssigned needs userAssignedIdentity (a resource id)")
        return self


class MessageSpec(Strict):
    message: str = Field(min_length=1, max_length=1024)
    policyDefinitionReferenceId: str | None = None


class RemediationSpec(Strict):
    enabled: bool = False
    resourceDiscoveryMode: Literal["ExistingNonCompliant", "ReEvaluateCompliance"] = "ExistingNonCompliant"
    locations: list[str] = Field(default_factory=list)
    failureThreshold: float | None = Field(default=None, ge=0, le=1)
    parallelDeployments: int | None = Field(default=None, ge=1, le=30)
    resourceCount: int | None = Field(default=None, ge=1, le=50000)


class AssignmentIntent(Strict):
    """`assignments/*.yaml`: where an initiative or definition is assigned, and how."""

    name: str | None = Field(default=None, pattern=NAME_RE)
    displayName: str = Field(min_length=1)
    description: str = ""
    initiative: str | None = None
    definition: str | None = None
    builtin: str | None = None
    scope: str | list[str] = Field(
        description="A scope key of the environment (e.g. prod) or a full ARM scope id; a list assigns the same "
                    "name at each scope (one assignment per scope, as EPAC's pacSelectors and the portal do).")
    notScopes: list[str] | dict[str, list[str]] = Field(
        default_factory=list,
        description="Scopes left out (keys or ids). With several scopes, a list goes to every assignment; a "
                    "mapping scope -> list gives each scope its own (a scope it does not name gets none).")
    parameters: dict[str, Any] = Field(default_factory=dict)
    enforcementMode: Literal["Default", "DoNotEnforce"] = "Default"
    identity: IdentitySpec | None = None
    nonComplianceMessages: list[MessageSpec] = Field(default_factory=list)
    remediation: RemediationSpec = Field(default_factory=RemediationSpec)
    metadata: dict[str, Any] = Field(default_factory=dict)
    definitionVersion: str | None = Field(default=None, pattern=VERSION_PIN_RE,
                                          description="Pin the assigned definition's version, e.g. 1.*.*")
    resourceSelectors: list[ResourceSelectorSpec] = Field(default_factory=list, max_length=MAX_RESOURCE_SELECTORS)
    overrides: list[OverrideSpec] = Field(default_factory=list, max_length=MAX_OVERRIDES)
    rollout: RolloutSpec | None = Field(default=None, description="Roll an effect out region by region.")

    @model_validator(mode="after")
    def _one_target(self) -> AssignmentIntent:
        if sum(x is not None for x in (self.initiative, self.definition, self.builtin)) != 1:
            raise ValueError("an assignment names exactly one of 'initiative', 'definition' or 'builtin'")
        if self.rollout is not None and len(self.overrides) + 1 > MAX_OVERRIDES:
            raise ValueError(f"rollout adds an override: at most {MAX_OVERRIDES - 1} others")
        scopes = self.scopes
        if not scopes or len({s.lower() for s in scopes}) != len(scopes):
            raise ValueError("scope: a list of scopes needs at least one scope, each once")
        return self

    @property
    def scopes(self) -> list[str]:
        """Every scope the intent assigns at (one for the plain `scope: key` form)."""
        return [self.scope] if isinstance(self.scope, str) else list(self.scope)


class EnvironmentSpec(Strict):
    """A deployment target: which cloud/tenant, where definitions live, where each assignment scope key goes."""

    cloud: Literal["AzureCloud", "AzureUSGovernment", "AzureChinaCloud", "local"] = "AzureCloud"
    endpoint: str | None = Field(default=None, description="ARM endpoint override (the emulator URL for cloud: local).")
    seed: str | None = Field(default=None, description="Seed file loaded into the emulator (cloud: local).")
    tenantId: str | None = None
    definitionScope: str | None = Field(
        default=None, description="Management group (or subscription) id where custom definitions live."
    )
    scopes: dict[str, str] = Field(default_factory=dict, description="Assignment scope key → ARM scope id.")
    identityLocation: str = "westeurope"
    ownerId: str | None = None
    strategy: Literal["ownedOnly", "full"] = "ownedOnly"
    inventory: str | None = Field(
        default=None, description="Resource inventory (JSON) `plan` evaluates each rollout stage against.")
    exemptionExpiryWarningDays: int = Field(
        default=30, ge=0, le=3650, description="`plan` warns about exemptions expiring within this many days.")


class PackFile(Strict):
    """`policygen.yaml` at the pack root."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    ownerId: str = Field(min_length=1, description="Ownership marker written as metadata.pacOwnerId on every object.")
    version: str = Field(default="1.0.0", pattern=SEMVER_RE)
    definitionScope: str = Field(description="Default definition location (management group id path).")
    defaultCategory: str = "General"
    environments: dict[str, EnvironmentSpec] = Field(default_factory=dict)
