"""What a build produces, consumed by validate, evaluate, plan/apply and export.

Bodies are REST form (`{"name": ..., "properties": {...}}`, assignments also `identity`/`location`),
exactly what is written to `OUT/definitions|initiatives|assignments|exemptions/<key>.json` and sent to Azure
(the key is the name, or `name@label` for each scope's copy of an assignment assigned at several scopes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

ArtefactKind = Literal["definition", "initiative", "assignment", "exemption"]
FOLDERS: dict[str, str] = {"definition": "definitions", "initiative": "initiatives", "assignment": "assignments",
                           "exemption": "exemptions"}


@dataclass(frozen=True)
class SourceRef:
    """Where something came from in the intent YAML (1-based line/col)."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.line else self.file


@dataclass
class Artefact:
    kind: ArtefactKind
    name: str
    body: dict[str, Any]
    source: SourceRef
    intent: str  # the intent's name (a definition intent fanning out to several types shares it)
    # Assignments and exemptions: the resolved ARM scope (exemptions may sit on a resource id).
    scope: str | None = None
    # Assignments only: remediation settings from the intent ({"enabled": bool, ...}).
    remediation: dict[str, Any] = field(default_factory=dict)
    # Definitions only: the intent's default non-compliance message, copied into assignments per member.
    non_compliance_message: str | None = None
    # Pointer (JSON pointer into body) → SourceRef, for mapping findings back to YAML lines.
    pointers: dict[str, SourceRef] = field(default_factory=dict)
    # Assignments only: the intent's unresolved scope, notScopes and identity location
    # (render.assignments.Placement), to place one build in another environment of the pack.
    placement: Any = None
    # Assignments with a `rollout`: {"stage", "index", "stages", "effect", "from", "members", "locations"}.
    rollout: dict[str, Any] | None = None
    # The build's key: the name, or `name@scope-label` for one scope's copy of a multi-scope assignment
    # (ARM names an assignment per scope: the same name may be assigned at several scopes).
    key: str = ""

    def __post_init__(self) -> None:
        self.key = self.key or self.name

    @property
    def relpath(self) -> str:
        return f"{FOLDERS[self.kind]}/{self.key}.json"

    @property
    def scope_as_written(self) -> str | None:
        """An assignment's scope as its intent wrote it (a scope key or an id): this copy's, for a multi-scope
        one (whose `metadata.policygen.scope` lists them all)."""
        scope = getattr(self.placement, "scope", None)
        return scope if isinstance(scope, str) else None

    @property
    def arm_id(self) -> str:
        """ARM id of an assignment or exemption: `<scope>/providers/Microsoft.Authorization/<type>/<name>`."""
        rtype = "policyAssignments" if self.kind == "assignment" else "policyExemptions"
        return f"{(self.scope or '').rstrip('/')}/providers/Microsoft.Authorization/{rtype}/{self.name}"

    @property
    def assignment_id(self) -> str:
        """An assignment's ARM id (`arm_id`)."""
        return self.arm_id

    @property
    def properties(self) -> dict[str, Any]:
        return self.body["properties"]

    def text(self) -> str:
        """Deterministic serialisation: sorted keys, two-space indent, final newline."""
        return json.dumps(self.body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def source_for(self, pointer: str) -> SourceRef:
        """The most specific YAML location known for a JSON pointer into the body."""
        while pointer:
            if pointer in self.pointers:
                return self.pointers[pointer]
            pointer = pointer.rsplit("/", 1)[0]
        return self.source


@dataclass(frozen=True)
class Expectation:
    """What a policy unit test expects. Unset fields are not checked."""

    compliant: bool | None = None  # None: the effect resolves to disabled / not applicable
    effect: str | None = None  # lower-case resolved effect, e.g. "deny"
    matched: bool | None = None  # the `if` result
    modified: dict[str, Any] | None = None  # for modify/append: a subset the modified resource must contain


@dataclass(frozen=True)
class TestCase:
    """A policy unit test carried by a definition intent (`tests:` in its YAML)."""

    __test__ = False  # not a pytest class

    definition: str  # artefact name of the definition under test
    name: str
    resource: dict[str, Any]
    expect: Expectation
    source: SourceRef
    parameters: dict[str, Any] = field(default_factory=dict)
    related: list[dict[str, Any]] = field(default_factory=list)  # for auditIfNotExists/deployIfNotExists
    context: dict[str, Any] | None = None  # the test's `context:` (evaluate.context shape)


@dataclass
class PackSettings:
    """`policygen.yaml`: pack identity and deployment environments (raw environment dicts, validated)."""

    name: str
    owner_id: str
    definition_scope: str
    root: str  # pack folder
    version: str = "1.0.0"
    default_category: str = "General"
    environments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Build:
    pack: PackSettings
    definitions: dict[str, Artefact] = field(default_factory=dict)
    initiatives: dict[str, Artefact] = field(default_factory=dict)
    assignments: dict[str, Artefact] = field(default_factory=dict)
    tests: list[TestCase] = field(default_factory=list)
    # Policy exemptions: not policy documents (validate/evaluate read them through `exemptions_for`).
    exemptions: dict[str, Artefact] = field(default_factory=dict)

    def artefacts(self) -> list[Artefact]:
        """Every policy artefact in dependency order (definitions, initiatives, assignments), sorted by name."""
        out: list[Artefact] = []
        for group in (self.definitions, self.initiatives, self.assignments):
            out.extend(group[name] for name in sorted(group))
        return out

    def written(self) -> list[Artefact]:
        """Everything `build --out` writes: the policy artefacts, then the exemptions."""
        return [*self.artefacts(), *(self.exemptions[n] for n in sorted(self.exemptions))]

    def assignment_id(self, name: str) -> str:
        """ARM id of the assignment the build keys `name` (its name, or `name@label` for a multi-scope copy)."""
        return self.assignments[name].assignment_id

    def assignments_named(self, name: str) -> list[Artefact]:
        """Every assignment with this ARM name or build key (several when one name is assigned at several
        scopes), sorted by key."""
        if name in self.assignments:
            return [self.assignments[name]]
        return [self.assignments[k] for k in sorted(self.assignments) if self.assignments[k].name == name]

    def exemptions_for(self, assignment: str) -> list[Artefact]:
        """Exemptions of one assignment (by build key, or a full id), sorted by name."""
        target = self.assignment_id(assignment).lower() if assignment in self.assignments else assignment.lower()
        return [self.exemptions[n] for n in sorted(self.exemptions)
                if str(self.exemptions[n].properties.get("policyAssignmentId", "")).lower() == target]

    def definition_id(self, kind: ArtefactKind, name: str, scope: str | None = None) -> str:
        """ARM id of a custom definition or initiative living at the pack's definition scope."""
        rtype = "policyDefinitions" if kind == "definition" else "policySetDefinitions"
        return f"{(scope or self.pack.definition_scope).rstrip('/')}/providers/Microsoft.Authorization/{rtype}/{name}"
