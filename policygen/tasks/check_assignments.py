"""Where `policygen check` gets the assignments in force: the pack (offline) or a live environment (Azure or
the emulator, through the SDK clients `plan` uses). Both give the same thing: the scopes above the
deployment's scope, and per resource the assignments in force there as `evaluate.admission.InForce` (REST
bodies with ids, members with their parameter values, exemptions), so the verdicts cannot depend on where
the assignments were read.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen import assignment_effects as shared
from policygen.arm.scopes import MG_PREFIX, key, subscription_and_group
from policygen.errors import InputError
from policygen.evaluate.admission import InForce, Member

AUTH = "/providers/Microsoft.Authorization"
Lookup = Callable[[str, str | None], dict[str, Any] | None]  # (definition id, definitionVersion pin) -> body


@dataclass
class Assignments:
    """The assignments that may be in force (REST bodies, with ids), how to read their definitions, their
    exemptions, and the management groups above each subscription and management group."""

    chain: list[str]  # the scopes at and above --scope: management groups (top first), subscription, group
    bodies: list[dict[str, Any]]
    lookup: Lookup
    exemptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # assignment id (key) -> bodies
    skipped: list[str] = field(default_factory=list)
    source: str = "pack"
    ancestors: Callable[[str], list[str]] = lambda name: []  # subscription id or group name -> groups above
    _members: dict[str, list[Member]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bodies = sorted(self.bodies, key=lambda b: key(b["id"]))  # once, not per checked resource

    def in_force(self, resource_id: str) -> list[InForce]:
        """The assignments whose scope holds `resource_id` and whose notScopes do not (sorted by id)."""
        chain = {*(key(s) for s in scope_chain(resource_id, self.ancestors)), key(resource_id)}
        out = []
        for body in self.bodies:
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


def scope_chain(resource_id: str, ancestors: Callable[[str], list[str]]) -> list[str]:
    """The scopes above a resource (or at a deployment scope): management groups top first, then its
    subscription and resource group; for a management group (a management-group template) the groups above
    it and itself; for the tenant (`/`) none. Each resource gets its own: a nested deployment may place it in
    another subscription or group than --scope."""
    sub, rg = subscription_and_group(resource_id)
    if sub:
        out = [MG_PREFIX + g for g in ancestors(sub)] + [f"/subscriptions/{sub}"]
        return out + ([f"/subscriptions/{sub}/resourceGroups/{rg}"] if rg else [])
    if key(resource_id).startswith(key(MG_PREFIX)):
        group = resource_id[len(MG_PREFIX):].split("/", 1)[0]
        return [MG_PREFIX + g for g in ancestors(group) if key(g) != key(group)] + [MG_PREFIX + group]
    return []


def _ancestry(given: list[str], found: dict[str, list[str]]) -> Callable[[str], list[str]]:
    """`--management-group` (top first, taken for every subscription) when given, else the hierarchy read."""
    groups = [m.rsplit("/", 1)[-1] for m in given]
    return (lambda name: groups) if groups else (lambda name: found.get(name.lower(), []))


def _covers(exemption: dict[str, Any], chain: set[str], resource_id: str) -> bool:
    """An exemption at a scope of the chain, or at the resource (or a parent of it)."""
    scope = key(str(exemption.get("id", "")).lower().rsplit("/providers/microsoft.authorization/policyexemptions/",
                                                                1)[0])
    return scope in chain or key(resource_id).startswith(scope + "/")


def _members(body: dict[str, Any], lookup: Lookup, skipped: list[str]) -> list[Member]:
    from policygen.emulator.effective import resolve  # evaluates the expressions an initiative passes down

    props = body.get("properties") or {}
    target_id = str(props.get("policyDefinitionId", ""))
    target = lookup(target_id, props.get("definitionVersion"))
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
        definition = lookup(did, ref.get("definitionVersion"))
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
    ancestors = _ancestry(management_groups, _seed_hierarchy(build, env))
    definition_scope = build.pack.definition_scope.rstrip("/")
    by_id: dict[str, dict[str, Any]] = {}
    for kind, group in (("policyDefinitions", build.definitions), ("policySetDefinitions", build.initiatives)):
        for name, art in group.items():
            did = f"{definition_scope}{AUTH}/{kind}/{name}"
            by_id[_tail(did)] = {**art.body, "id": did, "name": name}

    def lookup(definition_id: str, pin: str | None = None) -> dict[str, Any] | None:
        return by_id.get(_tail(definition_id))  # a pack holds one version of each

    bodies, exemptions = [], {}
    for name, art in build.assignments.items():
        aid = build.assignment_id(name)
        props = {"scope": art.scope, **art.properties}  # the read-only scope Azure returns
        bodies.append({**art.body, "id": aid, "name": name, "properties": props})
        exemptions[key(aid)] = [{**e.body, "id": f"{(e.scope or '').rstrip('/')}{AUTH}/policyExemptions/{e.name}",
                                 "name": e.name} for e in build.exemptions_for(name)]
    return Assignments(scope_chain(scope, ancestors), bodies, lookup, exemptions, source="pack", ancestors=ancestors)


def _tail(definition_id: str) -> str:
    """`policydefinitions/name` (lower-case): a pack definition is found whatever scope the id names."""
    parts = definition_id.rstrip("/").lower().rsplit("/", 2)
    return "/".join(parts[-2:])


def _seed_hierarchy(build: Any, env: str | None) -> dict[str, list[str]]:
    """Subscription id / management group name (lower-case) -> the management groups above it, top first, from
    the environment's seed (the tenant root group first, as Azure lists it)."""
    from policygen.emulator import seed

    envs = build.pack.environments
    spec = envs.get(env) if env else next(iter(envs.values()), None)
    path = spec.get("seed") if isinstance(spec, dict) else None
    if not path:
        return {}
    data, _ = seed.load(Path(build.pack.root) / path)
    root = str(data.get("tenantId") or "")
    out: dict[str, list[str]] = {}

    def walk(groups: list, above: list[str]) -> None:
        for g in groups or []:
            name = str(g.get("name"))
            out[name.lower()] = above
            for sub in g.get("subscriptions") or []:
                out[str(sub.get("id", "")).lower()] = [*above, name]
            walk(g.get("children") or [], [*above, name])

    walk(data.get("managementGroups") or [], [root] if root else [])
    return out


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


def from_environment(env: str, scope: str, management_groups: list[str],
                     resource_ids: list[str] | None = None) -> Assignments:
    """What applies where each resource lands, read with the SDK clients plan uses (`policygen.azure.arm.Arm`):
    the assignments and exemptions listed with `$filter=atScope()` at its resource group (else subscription) —
    those made there and at every scope above it, so Reader on the subscription is enough — and their
    definitions and initiatives (built-ins included)."""
    from azure.core.exceptions import HttpResponseError

    from policygen.azure.workflow import connect

    arm = connect(live_target(env), concurrency=8)
    try:
        try:
            hierarchy = {} if management_groups else _live_hierarchy(arm)
        except HttpResponseError:  # no read on the management groups: they are named by what applies below
            hierarchy = {}
        ancestors = _ancestry(management_groups, hierarchy)
        deepest: dict[str, str] = {}
        for rid in [scope, *(resource_ids or [])]:
            chain = scope_chain(rid, ancestors)
            if chain:
                deepest.setdefault(key(chain[-1]), chain[-1])
        with ThreadPoolExecutor(max_workers=8) as pool:
            listed = list(pool.map(lambda s: _applying(arm, s), deepest.values()))
            bodies = list({key(b["id"]): b for found, _ in listed for b in found}.values())
            exempt: dict[str, dict[str, Any]] = {key(e["id"]): e for _, found in listed for e in found}
            if not management_groups:
                _name_groups(hierarchy, list(deepest.values()), listed)
            cache: dict[str, dict[str, Any] | None] = {}

            def read(ids: set[str]) -> None:
                todo = sorted(i for i in ids if i and key(i) not in cache)
                for i, body in zip(todo, pool.map(arm.get_definition, todo), strict=True):
                    cache[key(i)] = body

            # the assigned definitions and initiatives, then every initiative's members, in parallel
            pins = {(key(str(p.get("policyDefinitionId", ""))), p.get("definitionVersion"))
                    for p in (b.get("properties") or {} for b in bodies)}
            read({str((b.get("properties") or {}).get("policyDefinitionId", "")) for b in bodies})
            for target in list(cache.values()):
                for ref in (target or {}).get("properties", {}).get("policyDefinitions") or []:
                    pins.add((key(str(ref.get("policyDefinitionId", ""))), ref.get("definitionVersion")))
            read({str(ref.get("policyDefinitionId", "")) for target in list(cache.values()) if target
                  for ref in (target.get("properties") or {}).get("policyDefinitions") or []})
            wanted = [(i, pin) for i, pin in pins if pin and cache.get(i)]
            pinned = dict(zip(wanted, pool.map(lambda w: _pinned(arm, cache[w[0]], w[1]), wanted), strict=True))

        exemptions: dict[str, list[dict[str, Any]]] = {}
        for e in exempt.values():
            exemptions.setdefault(key((e.get("properties") or {}).get("policyAssignmentId", "")), []).append(e)
        def lookup(definition_id: str, pin: str | None = None) -> dict[str, Any] | None:
            return pinned.get((key(definition_id), pin)) or cache.get(key(definition_id))

        out = Assignments(scope_chain(scope, ancestors), bodies, lookup, exemptions, source=f"environment {env}",
                          ancestors=ancestors)
        for body in bodies:
            out.members(body)
        return out
    finally:
        arm.clients.close()


VERSIONS_API = "2024-04-01"  # policy definition versions (https://learn.microsoft.com/rest/api/policy/policy-definition-versions)


def _pinned(arm: Any, definition: dict[str, Any] | None, pin: str) -> dict[str, Any] | None:
    """The version a `definitionVersion` pin (`1.*.*`) runs: the newest of the definition's `versions` it
    allows, read from its versions collection and served under the definition's own id, as Azure resolves it
    (assignment structure, "Policy definition ID and version"); None when that is the current version."""
    from policygen.azure import rest
    from policygen.emulator.policy import version_matching

    if not definition:
        return None
    version = version_matching(definition, pin)
    if version == (definition.get("properties") or {}).get("version"):
        return None
    url = f"{rest.scope_path(definition['id'])}/versions/{version}?api-version={VERSIONS_API}"
    found = arm._call(lambda: rest.send(arm.clients.policy(), "GET", url))
    return {**found, "id": definition["id"], "name": definition.get("name"), "type": definition.get("type")}


def _applying(arm: Any, scope_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(assignments, exemptions) that apply at a scope: `$filter=atScope()` lists those made there and above
    (https://learn.microsoft.com/rest/api/policy/policy-assignments/list-for-resource-group); a resource group
    the deployment will create is read at its subscription."""
    from azure.core.exceptions import ResourceNotFoundError

    from policygen.arm.scopes import parse_scope
    from policygen.azure import rest
    from policygen.azure.exemptions import API_VERSION

    scope = parse_scope(scope_id)
    client = arm.clients.policy(scope.subscription)
    try:
        assignments = arm._raw_list(client, client.policy_assignments, scope, "policyAssignments", "atScope()")
        url = rest.list_url(scope.id, "policyExemptions", API_VERSION, "atScope()")
        return assignments, arm._call(lambda: rest.pages(client, url, API_VERSION))
    except ResourceNotFoundError:
        sub, rg = subscription_and_group(scope_id)
        if rg:
            return _applying(arm, f"/subscriptions/{sub}")
        return [], []


def _name_groups(hierarchy: dict[str, list[str]], scopes: list[str], listed: list[tuple[list, list]]) -> None:
    """Without the management-group hierarchy, the groups above a subscription are those that what applies
    there was made at (an assignment or exemption listed at its scope with atScope())."""
    for scope, (assignments, exemptions) in zip(scopes, listed, strict=True):
        sub, _ = subscription_and_group(scope)
        if not sub or sub.lower() in hierarchy:
            continue
        groups: list[str] = []
        for obj in [*assignments, *exemptions]:
            where = str(obj.get("id", ""))
            if key(where).startswith(key(MG_PREFIX)):
                name = where[len(MG_PREFIX):].split("/", 1)[0]
                if name not in groups:
                    groups.append(name)
        hierarchy[sub.lower()] = groups


def _live_hierarchy(arm: Any) -> dict[str, list[str]]:
    """Subscription id / management group name (lower-case) -> the management groups above it, top first:
    the `parentNameChain` of every entity the management groups API lists."""
    from policygen.azure.arm import as_dict

    ops = arm.clients.management_groups().entities
    out: dict[str, list[str]] = {}
    for item in arm._list(lambda: ops.list()):
        entity = as_dict(item)
        chain = (entity.get("properties") or {}).get("parentNameChain") or []
        out[str(entity.get("name", "")).lower()] = [str(n) for n in chain]
    return out
