"""Where `policygen check` gets the assignments in force: the pack (offline) or a live environment (Azure or
the emulator, through the SDK clients `plan` uses). Both give the same thing: the scopes above the
deployment's scope, and per resource the assignments in force there as `evaluate.admission.InForce` (REST
bodies with ids, members with their parameter values, exemptions), so the verdicts cannot depend on where
the assignments were read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen import assignment_effects as shared
from policygen.arm.scopes import MG_PREFIX, key, subscription_and_group
from policygen.errors import InputError
from policygen.evaluate.admission import InForce, Member

AUTH = "/providers/Microsoft.Authorization"
Lookup = Callable[[str], dict[str, Any] | None]


@dataclass
class Assignments:
    """The assignments that may be in force below `chain` (REST bodies, with ids), how to read their
    definitions, and their exemptions."""

    chain: list[str]  # management groups (top first), subscription, resource group
    bodies: list[dict[str, Any]]
    lookup: Lookup
    exemptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # assignment id (key) -> bodies
    skipped: list[str] = field(default_factory=list)
    source: str = "pack"
    _members: dict[str, list[Member]] = field(default_factory=dict)
    # the management groups above a subscription, top first (default: those above the deployment's scope)
    groups_of: Callable[[str], list[str]] | None = None

    def scopes_of(self, resource_id: str) -> set[str]:
        """The scopes that hold `resource_id` where it lands (a nested deployment or a plan may place it in
        another resource group or subscription than --scope): the management groups above its subscription,
        the subscription, the group, the resource and every resource it sits in (keys)."""
        sub, rg = subscription_and_group(resource_id)
        groups = [s for s in self.chain if key(s).startswith(key(MG_PREFIX))]
        if sub and self.groups_of is not None and key(f"/subscriptions/{sub}") not in {key(s) for s in self.chain}:
            groups = [MG_PREFIX + g for g in self.groups_of(sub)]
        out = {key(g) for g in groups} | {key(_chain([], sub, rg)[-1])} if sub else {key(g) for g in groups}
        rid = key(resource_id)
        while "/providers/" in rid:  # the resource, then the resource an extension sits on
            out.add(rid)
            rid = rid.rsplit("/providers/", 1)[0]
        return out | ({key(f"/subscriptions/{sub}")} if sub else set())

    def in_force(self, resource_id: str) -> list[InForce]:
        """The assignments whose scope holds `resource_id` and whose notScopes do not (sorted by id)."""
        chain = self.scopes_of(resource_id)
        out = []
        for body in sorted(self.bodies, key=lambda b: key(b["id"])):
            props = body.get("properties") or {}
            if key(props.get("scope", "")) not in chain or any(key(n) in chain for n in props.get("notScopes") or []):
                continue
            ex = [e for e in self.exemptions.get(key(body["id"]), []) if _covers(e, chain, resource_id)]
            out.append(InForce(body, self.members(body), ex))
        return out

    def members(self, body: dict[str, Any]) -> list[Member]:
        """What the assignment runs: its definition, or its initiative's members with the values passed down."""
        aid = key(body["id"])
        if aid not in self._members:
            self._members[aid] = _members(body, self.lookup, self.skipped)
        return self._members[aid]


def _covers(exemption: dict[str, Any], chain: set[str], resource_id: str) -> bool:
    """An exemption at a scope of the chain, or at the resource (or a parent of it)."""
    scope = key(str(exemption.get("id", "")).lower().rsplit("/providers/microsoft.authorization/policyexemptions/",
                                                                1)[0])
    return scope in chain or key(resource_id).startswith(scope + "/")


def _members(body: dict[str, Any], lookup: Lookup, skipped: list[str]) -> list[Member]:
    from policygen.emulator.effective import resolve  # evaluates the expressions an initiative passes down

    props = body.get("properties") or {}
    target_id = str(props.get("policyDefinitionId", ""))
    target = lookup(target_id)
    name = body.get("name")
    if target is None:
        skipped.append(f"{name}: {target_id} cannot be read")
        return []
    set_params = shared.assignment_parameters(body, target)
    if "/policysetdefinitions/" not in target_id.lower():
        return [Member(target, set_params)]
    out = []
    for ref in (target.get("properties") or {}).get("policyDefinitions") or []:
        did = str(ref.get("policyDefinitionId", ""))
        definition = lookup(did)
        if definition is None:
            skipped.append(f"{name}/{ref.get('policyDefinitionReferenceId')}: {did} cannot be read")
            continue
        m = shared.member(did, definition, shared.values_of(ref.get("parameters")), set_params,
                          ref.get("policyDefinitionReferenceId"), resolver=resolve)
        out.append(Member(definition, m.parameters, m.reference_id, target))
    return out


# ---------------------------------------------------------------------------------------------- the pack


def from_pack(pack: Path, env: str | None, scope: str, management_groups: list[str]) -> Assignments:
    from policygen.render import compile_pack

    build = compile_pack(pack, env=env)
    sub, rg = subscription_and_group(scope)
    groups = [m.rsplit("/", 1)[-1] for m in management_groups] or _seed_ancestors(build, env, str(sub))
    chain = _chain(groups, str(sub), rg)
    definition_scope = build.pack.definition_scope.rstrip("/")
    by_id: dict[str, dict[str, Any]] = {}
    for kind, group in (("policyDefinitions", build.definitions), ("policySetDefinitions", build.initiatives)):
        for name, art in group.items():
            did = f"{definition_scope}{AUTH}/{kind}/{name}"
            by_id[_tail(did)] = {**art.body, "id": did, "name": name}

    def lookup(definition_id: str) -> dict[str, Any] | None:
        return by_id.get(_tail(definition_id))

    bodies, exemptions = [], {}
    for name, art in build.assignments.items():
        aid = build.assignment_id(name)
        props = {"scope": art.scope, **art.properties}  # the read-only scope Azure returns
        bodies.append({**art.body, "id": aid, "name": name, "properties": props})
        exemptions[key(aid)] = [{**e.body, "id": f"{(e.scope or '').rstrip('/')}{AUTH}/policyExemptions/{e.name}",
                                 "name": e.name} for e in build.exemptions_for(name)]
    given = [m.rsplit("/", 1)[-1] for m in management_groups]
    return Assignments(chain, bodies, lookup, exemptions, source="pack",
                       groups_of=lambda s: given or _seed_ancestors(build, env, s))


def _tail(definition_id: str) -> str:
    """`policydefinitions/name` (lower-case): a pack definition is found whatever scope the id names."""
    parts = definition_id.rstrip("/").lower().rsplit("/", 2)
    return "/".join(parts[-2:])


def _chain(groups: list[str], sub: str, rg: str | None) -> list[str]:
    out = [MG_PREFIX + g for g in groups] + [f"/subscriptions/{sub}"]
    if rg:
        out.append(f"/subscriptions/{sub}/resourceGroups/{rg}")
    return out


def _seed_ancestors(build: Any, env: str | None, subscription: str) -> list[str]:
    """The management groups above `subscription` in the environment's seed hierarchy, top first."""
    from policygen.emulator import seed

    envs = build.pack.environments
    for e in [envs.get(env)] if env else list(envs.values())[:1]:
        path = (e or {}).get("seed") if isinstance(e, dict) else None
        if not path:
            continue
        data, _ = seed.load(Path(build.pack.root) / path)
        root = str(data.get("tenantId") or "")

        def walk(groups: list, above: list[str]) -> list[str] | None:
            for g in groups or []:
                here = [*above, str(g.get("name"))]
                if any(str(s.get("id", "")).lower() == subscription.lower() for s in g.get("subscriptions") or []):
                    return here
                found = walk(g.get("children") or [], here)
                if found:
                    return found
            return None

        found = walk(data.get("managementGroups") or [], [root] if root else [])
        if found:
            return found
    return []


# ---------------------------------------------------------------------------------------------- live


CLOUDS = ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud", "local")


def live_target(env: str) -> Any:
    """The environment `env` of the pack in the working folder (its cloud and endpoint), else `env` read as a
    cloud name (`local`: the emulator). POLICYGEN_ENDPOINT overrides the endpoint, as for plan."""
    from policygen.azure.target import Target
    from policygen.intents.pack import SETTINGS_FILE, find_pack

    spec: dict[str, Any] = {}
    root = find_pack(Path.cwd())
    if root is not None:
        spec = _environment(root / SETTINGS_FILE, env)
    if not spec:
        cloud = next((c for c in CLOUDS if c.lower() == env.lower()), None)
        if cloud is None:
            raise InputError(f"--env {env!r} is neither an environment of ./policygen.yaml nor a cloud "
                             f"({', '.join(CLOUDS)}); or give --pack to check against a pack offline")
        spec = {"cloud": cloud}
    return Target.from_description({"name": env, "cloud": spec.get("cloud") or "AzureCloud",
                                    "endpoint": spec.get("endpoint"), "tenantId": spec.get("tenantId"),
                                    "definitionScope": ""})


def _environment(settings: Path, env: str) -> dict[str, Any]:
    """`environments.<env>` of a policygen.yaml (only its cloud and endpoint are used), {} when absent."""
    import yaml

    try:
        data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{settings}: cannot read the environments: {exc}") from None
    envs = data.get("environments") if isinstance(data, dict) else None
    spec = envs.get(env) if isinstance(envs, dict) else None
    return dict(spec) if isinstance(spec, dict) else {}


def from_environment(env: str, scope: str, management_groups: list[str]) -> Assignments:
    """The assignments at `scope` and above, their definitions and initiatives (built-ins included) and their
    exemptions, read with the SDK clients plan uses (`policygen.azure.arm.Arm`)."""
    from azure.core.exceptions import ResourceNotFoundError

    from policygen.azure.workflow import connect

    arm = connect(live_target(env), concurrency=8)
    try:
        sub, rg = subscription_and_group(scope)
        groups = [m.rsplit("/", 1)[-1] for m in management_groups] or _live_ancestors(arm, str(sub))
        chain = _chain(groups, str(sub), rg)
        bodies: list[dict[str, Any]] = []
        for s in chain:
            try:
                bodies.extend(arm.list_assignments(s))
            except ResourceNotFoundError:  # a resource group the deployment will create
                continue
        cache: dict[str, dict[str, Any] | None] = {}

        def lookup(definition_id: str) -> dict[str, Any] | None:
            k = key(definition_id)
            if k not in cache:
                cache[k] = arm.get_definition(definition_id) if definition_id else None
            return cache[k]

        out = Assignments(chain, bodies, lookup, source=f"environment {env}")
        for body in bodies:
            out.members(body)  # read every definition now, while the clients are open
            out.exemptions[key(body["id"])] = arm.list_exemptions(body["id"])
        return out
    finally:
        arm.clients.close()


def _live_ancestors(arm: Any, subscription: str) -> list[str]:
    """The management groups above a subscription, top first (its `parentNameChain` among the entities)."""
    from policygen.azure.arm import as_dict

    ops = arm.clients.management_groups().entities
    for item in arm._list(lambda: ops.list()):
        entity = as_dict(item)
        if str(entity.get("name", "")).lower() == subscription.lower() and \
                str(entity.get("type", "")).lower().endswith("subscriptions"):
            return [str(n) for n in (entity.get("properties") or {}).get("parentNameChain") or []]
    return []
