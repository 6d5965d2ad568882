"""ARM scopes and resource ids, parsed once so every stage agrees on what an id names.

An id is the tenant root `/`, a management group, a subscription, a resource group, or a resource
(`.../providers/{namespace}/{type}/{name}[/{childType}/{childName}...]`), where a resource may itself sit on
another resource, a resource group, a subscription, a management group or the tenant (an extension
resource such as a policy assignment or a lock). ARM compares ids case-insensitively and prints the fixed
segments in one casing (`/subscriptions/…/resourceGroups/…`, `/providers/Microsoft.Management/
managementGroups/…`); `Scope` does the same. Management-group membership of a subscription is data of the
tenant, not part of an id, so a subscription's parent here is the tenant root.
https://learn.microsoft.com/azure/azure-resource-manager/management/overview#understand-scope
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource#resourceid
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "Scope",
    "ScopeError",
    "ScopeKind",
    "extension_scope",
    "is_scope",
    "key",
    "name_of_id",
    "parse_scope",
    "resource_type_of",
    "subscription_and_group",
]

_SUBSCRIPTIONS = "subscriptions"
_RESOURCE_GROUPS = "resourceGroups"
_PROVIDERS = "providers"
_MG_NAMESPACE = "Microsoft.Management"
_MG_TYPE = "managementGroups"
MG_PREFIX = f"/{_PROVIDERS}/{_MG_NAMESPACE}/{_MG_TYPE}/"


class ScopeKind(StrEnum):
    """What an id names; the values are ARM's own names of the deployment scopes."""

    TENANT = "tenant"
    MANAGEMENT_GROUP = "managementGroup"
    SUBSCRIPTION = "subscription"
    RESOURCE_GROUP = "resourceGroup"
    RESOURCE = "resource"


class ScopeError(ValueError):
    """A string that is not an ARM scope or resource id."""


def key(arm_id: str | None) -> str:
    """Comparison key of an ARM id or name: case-insensitive, no surrounding blanks or trailing slash.

    For strings that may not be ids at all (names, object ids from another store); `Scope.key` is the
    same value for a parsed id."""
    return (arm_id or "").strip().rstrip("/").lower()


@dataclass(frozen=True, slots=True)
class _Provider:
    """One `providers/{namespace}/{type}/{name}[/{type}/{name}...]` block of a resource id."""

    namespace: str
    pairs: tuple[tuple[str, str], ...]  # (type segment, name) from the top-level type down


@dataclass(frozen=True, eq=False, slots=True)
class Scope:
    """A parsed ARM id. Equal (and hashed) case-insensitively; `str()` prints it as ARM does."""

    kind: ScopeKind
    management_group: str | None = None
    subscription: str | None = None
    resource_group: str | None = None
    providers: tuple[_Provider, ...] = ()
    id: str = ""  # as ARM prints it
    key: str = ""  # lower-case id: what equality, hashing and indexes use

    # ---- identity --------------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"Scope({self.id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scope) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    # ---- what the id names -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """Last segment: the management group, subscription, resource group or resource name ('' for `/`)."""
        if self.providers:
            return self.providers[-1].pairs[-1][1]
        return self.resource_group or self.subscription or self.management_group or ""

    @property
    def resource_type(self) -> str | None:
        """`Namespace/type[/childType...]` of a resource (of the extension itself for extension resources)."""
        if self.kind is ScopeKind.RESOURCE:
            last = self.providers[-1]
            return "/".join((last.namespace, *(t for t, _ in last.pairs)))
        return {
            ScopeKind.MANAGEMENT_GROUP: f"{_MG_NAMESPACE}/{_MG_TYPE}",
            ScopeKind.SUBSCRIPTION: "Microsoft.Resources/subscriptions",
            ScopeKind.RESOURCE_GROUP: "Microsoft.Resources/resourceGroups",
        }.get(self.kind)

    @property
    def full_name(self) -> str:
        """`parent/child` name of a nested resource (what ARM calls `fullName`); else `name`."""
        if self.providers:
            return "/".join(n for _, n in self.providers[-1].pairs)
        return self.name

    @property
    def is_extension(self) -> bool:
        """A resource that sits on another resource (`…/providers/A/x/y/providers/B/z/w`)."""
        return len(self.providers) > 1

    # ---- hierarchy -------------------------------------------------------------------------------

    @property
    def parent(self) -> Scope | None:
        """The scope one level up in the id (None for the tenant root)."""
        if self.kind is ScopeKind.RESOURCE:
            *outer, last = self.providers
            if len(last.pairs) > 1:
                return _build(self.management_group, self.subscription, self.resource_group,
                              (*outer, _Provider(last.namespace, last.pairs[:-1])))
            return _build(self.management_group, self.subscription, self.resource_group, tuple(outer))
        if self.kind is ScopeKind.RESOURCE_GROUP:
            return _build(None, self.subscription, None, ())
        if self.kind is ScopeKind.TENANT:
            return None
        return TENANT

    @property
    def container(self) -> Scope:
        """The nearest enclosing tenant, management group, subscription or resource group (itself if one)."""
        if self.kind is not ScopeKind.RESOURCE:
            return self
        return _build(self.management_group, self.subscription, self.resource_group, ())

    def ancestors(self) -> Iterator[Scope]:
        """Parent, grandparent, … up to the tenant root."""
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def chain(self) -> tuple[Scope, ...]:
        """The scope and its ancestors, innermost first."""
        return (self, *self.ancestors())

    def contains(self, other: Scope) -> bool:
        """`other` is this scope or lies beneath it by its id (the tenant root contains everything)."""
        if self.kind is ScopeKind.TENANT or other.key == self.key:
            return True
        return other.key.startswith(self.key + "/") and any(a.key == self.key for a in other.ancestors())

    @property
    def short(self) -> str:
        """Human name for messages: `mg:contoso`, `sub:0000…`, `rg:name`, the id of a resource."""
        if self.kind is ScopeKind.MANAGEMENT_GROUP:
            return f"mg:{self.management_group}"
        if self.kind is ScopeKind.SUBSCRIPTION:
            return f"sub:{self.subscription}"
        if self.kind is ScopeKind.RESOURCE_GROUP:
            return f"rg:{self.resource_group}"
        return self.id


def _render(mg: str | None, sub: str | None, rg: str | None, providers: tuple[_Provider, ...]) -> str:
    parts: list[str] = []
    if mg is not None:
        parts += [_PROVIDERS, _MG_NAMESPACE, _MG_TYPE, mg]
    elif sub is not None:
        parts += [_SUBSCRIPTIONS, sub]
        if rg is not None:
            parts += [_RESOURCE_GROUPS, rg]
    for p in providers:
        parts += [_PROVIDERS, p.namespace]
        for t, n in p.pairs:
            parts += [t, n]
    return "/" + "/".join(parts)


def _build(mg: str | None, sub: str | None, rg: str | None, providers: tuple[_Provider, ...]) -> Scope:
    if providers:
        kind = ScopeKind.RESOURCE
    elif rg is not None:
        kind = ScopeKind.RESOURCE_GROUP
    elif sub is not None:
        kind = ScopeKind.SUBSCRIPTION
    elif mg is not None:
        kind = ScopeKind.MANAGEMENT_GROUP
    else:
        kind = ScopeKind.TENANT
    text = _render(mg, sub, rg, providers)
    return Scope(kind, mg, sub, rg, providers, text, text.lower())


TENANT = Scope(ScopeKind.TENANT, id="/", key="/")


def parse_scope(text: str) -> Scope:
    """Parse an ARM id (leading/trailing slashes and surrounding blanks tolerated); raises ScopeError."""
    if not isinstance(text, str):
        raise ScopeError(f"{text!r} is not an ARM id (not a string)")
    return _parse(text)


@lru_cache(maxsize=1 << 16)
def _parse(text: str) -> Scope:
    body = text.strip().strip("/")
    if not body:
        return TENANT
    segs = body.split("/")
    if any(not s or s != s.strip() for s in segs):
        raise ScopeError(f"{text!r} is not an ARM id (empty or blank segment)")
    low = [s.lower() for s in segs]
    mg = sub = rg = None
    i = 0
    if low[0] == "subscriptions":
        if len(segs) < 2:
            raise ScopeError(f"{text!r} is not an ARM id (subscription id missing)")
        sub, i = segs[1], 2
        if i < len(segs) and low[i] == "resourcegroups":
            if i + 1 >= len(segs):
                raise ScopeError(f"{text!r} is not an ARM id (resource group name missing)")
            rg, i = segs[i + 1], i + 2
    elif low[:3] == ["providers", "microsoft.management", "managementgroups"]:
        if len(segs) < 4:
            raise ScopeError(f"{text!r} is not an ARM id (management group name missing)")
        mg, i = segs[3], 4
    providers: list[_Provider] = []
    while i < len(segs):
        if low[i] != "providers" or i + 3 >= len(segs):
            raise ScopeError(
                f"{text!r} is not an ARM id (expected providers/{{namespace}}/{{type}}/{{name}} at segment {i + 1})"
            )
        namespace, pairs = segs[i + 1], []
        i += 2
        while i < len(segs) and low[i] != "providers":
            if i + 1 >= len(segs):
                raise ScopeError(f"{text!r} is not an ARM id (resource type {segs[i]!r} has no name)")
            pairs.append((segs[i], segs[i + 1]))
            i += 2
        if not pairs:
            raise ScopeError(f"{text!r} is not an ARM id (provider {namespace!r} names no resource type)")
        providers.append(_Provider(namespace, tuple(pairs)))
    return _build(mg, sub, rg, tuple(providers))


_SUB_RG = re.compile(r"^/subscriptions/([^/]+)(?:/resourcegroups/([^/]+))?", re.IGNORECASE)


def subscription_and_group(arm_id: str) -> tuple[str | None, str | None]:
    """(subscription, resource group) of an id as written, read from its prefix only.

    For hot paths (indexing an inventory of millions of resources), where building a `Scope` per id costs
    ten times more. Agrees with `parse_scope` on every id; a string that is no id gives what prefix it has."""
    m = _SUB_RG.match(arm_id)
    return (m.group(1), m.group(2)) if m else (None, None)


def extension_scope(arm_id: str) -> str | None:
    """For an id with two or more provider blocks (`<scope id>/providers/<ns>/<type>/<name>`, where the scope
    is a resource or a management group), the scope id as written; None for one provider block (ordinary
    resources, extensions of a subscription or resource group: their prefix is their scope). String-level,
    for the same hot paths as `subscription_and_group`."""
    low = arm_id.lower()
    first = low.find("/providers/")
    last = low.rfind("/providers/")
    if first == -1 or first == last:
        return None
    return arm_id[:last]


def name_of_id(arm_id: str) -> str:
    """Last segment of an id string (the object's name), without parsing it: ids of other stores pass too."""
    return arm_id.rstrip("/").rsplit("/", 1)[-1]


def is_scope(value: object) -> bool:
    """A string starting with `/` that parses as an ARM id (how parameter values are told apart from names)."""
    if not isinstance(value, str) or not value.startswith("/"):
        return False
    try:
        parse_scope(value)
    except ScopeError:
        return False
    return True


def resource_type_of(resource_id: str) -> str | None:
    """`Namespace/type[/child…]` of an id (None when it is not an ARM id)."""
    try:
        return parse_scope(resource_id).resource_type
    except ScopeError:
        return None


def scope_of_id(arm_id: str) -> str | None:
    """Where an extension object (policy definition, assignment, exemption, role assignment) lives, as ARM
    prints it: `/` for tenant-level objects such as built-ins; None when the id does not parse."""
    try:
        parent = parse_scope(arm_id).parent
    except ScopeError:
        return None
    return str(parent) if parent is not None else None
