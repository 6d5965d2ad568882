"""ARM templates expanded as ARM would deploy them, each resource placed at its id — for `check` (which
evaluates what is placed) and the emulator (which writes it).

Facts encoded (Microsoft Learn, azure-resource-manager/templates/...):
- the deployment's scope comes from `$schema` (deploy-to-subscription, deploy-to-management-group,
  deploy-to-tenant): resource group, subscription, management group or tenant;
- child resources declared in a parent's `resources` take a single-segment type and name that ARM composes
  with the parent's (child-resource-name-type); a child of a copied parent is expanded per parent instance;
- `copy` on a resource (copy-resources, count 0..800; not on a child declared inside its parent), on a property
  or variable (`expressions`); a false `condition` does not cascade to children (conditional-resource-deployment);
- a nested `Microsoft.Resources/deployments` deploys its inline `template` where its `resourceGroup` /
  `subscriptionId` / `scope` put it; with `expressionEvaluationOptions.scope` `outer` (the default) its
  expressions — parameters, variables, resourceGroup(), subscription() — are the parent's, with `inner` its
  own (linked-templates "Expression evaluation scope in nested templates"); a `templateLink` is not read;
- languageVersion 2.0 keys resources by symbolic name; an `existing` resource is a reference, not deployed.
What is placed goes to a `Sink`: check records it, the emulator writes it (in `dependsOn` order, so a
reference() reads what was deployed before it).
"""

from __future__ import annotations

import copy as copy_module
from dataclasses import dataclass, field
from typing import Any, Protocol

from policygen.arm.scopes import MG_PREFIX, ScopeError, ScopeKind, parse_scope
from policygen.templates.expressions import Budget, Expressions, Resolver, count, walk
from policygen.templates.names import TemplateError, child_type_name, resource_path, split_type_name
from policygen.templates.symbolic import Symbolic, has_symbolic, placeholder

MAX_RESOURCES = 20_000  # per file, after every loop and nested deployment (hostile input stays bounded)
MAX_NESTING = 20  # nested deployments inside nested deployments
MAX_CHILD_LEVELS = 5  # "Child resources can only be defined five levels deep" (child-resource-name-type)
DEPLOYMENTS = "microsoft.resources/deployments"
NOT_BODY = ("apiVersion", "dependsOn", "condition", "copy", "scope", "comments", "resourceGroup",
            "subscriptionId", "resources", "existing", "type", "name", "id", "import")
_Parent = tuple[str, str, str, int]  # full type, full name, scope id, nesting level of the parent
_LEVELS = (("tenantdeploymenttemplate", "tenant"), ("managementgroupdeploymenttemplate", "managementGroup"),
           ("subscriptiondeploymenttemplate", "subscription"))


@dataclass
class Target:
    """Where resources are deployed (a template's deployment scope, or where a nested deployment points)."""

    mg: str | None = None
    sub: str | None = None
    rg: str | None = None

    def base(self) -> str:
        if self.sub:
            return f"/subscriptions/{self.sub}" + (f"/resourceGroups/{self.rg}" if self.rg else "")
        return MG_PREFIX + self.mg if self.mg else ""


def level(template: dict) -> str:
    """The deployment scope `$schema` declares (resourceGroup when it names none of the others)."""
    schema = str(template.get("$schema", "")).lower()
    return next((lvl for marker, lvl in _LEVELS if marker in schema), "resourceGroup")


@dataclass
class Instance:
    """One resource placed: its id and the ARM body its PUT would carry."""

    id: str
    type: str  # the type policy sees (the id's: `X/y/providers/diagnosticSettings` is a Microsoft.Insights one)
    declared_type: str  # the full type as declared (composed with a parent's)
    name: str  # the full name as declared (composed with a parent's)
    base: str  # the scope it is deployed at
    target: Target  # where its deployment deploys
    body: dict[str, Any]  # evaluated properties, without what only the deployment reads
    declaration: dict  # the template's resource object (for its line)
    symbolic: list[str] = field(default_factory=list)  # JSON paths known only during deployment


class Sink(Protocol):
    """Receives what the expander places; says how reference()/list*() resolve and what problems do."""

    resolver: Resolver | None
    ordered: bool  # place in dependsOn order (the emulator writes as it goes)
    missing_hint: str  # said after "the template parameter 'x' has no value" (how to give one)

    def place(self, ctx: Expressions, item: Instance) -> None: ...

    def unplaced(self, declaration: dict, why: str, rid: str = "") -> None: ...

    def problem(self, at: Any, message: str, key: str = "type") -> None: ...

    def entering(self, target: Target, name: str) -> None: ...


class Expander:
    """Expands one template (and its nested ones) into `sink`; one work budget for all of it."""

    def __init__(self, sink: Sink, location: str, name: str, tenant_id: str = ""):
        self.sink, self.location, self.name, self.tenant_id = sink, location, name, tenant_id
        self.placed = 0
        self.budget = Budget()

    def run(self, template: dict, target: Target, given: dict[str, Any]) -> Expressions | None:
        """The template's context after its resources are placed (for its outputs); None when it cannot bind."""
        ctx = self._context(target, self.location, self.name)
        if not self._bind(ctx, template, {str(k).lower(): v for k, v in given.items()}, template, outer=None):
            return None
        self._resources(ctx, template, target, None, 0)
        return ctx

    # ---------------------------------------------------------------- parameters and variables

    def _context(self, target: Target, location: str, name: str) -> Expressions:
        return Expressions(subscription_id=target.sub or "", resource_group=target.rg, management_group=target.mg,
                           location=location, deployment_name=name, tenant_id=self.tenant_id,
                           resolver=self.sink.resolver, budget=self.budget)

    def _bind(self, ctx: Expressions, template: dict, values: dict[str, Any], at: Any,
              outer: Expressions | None) -> bool:
        """Parameter values (given, or `{"value": ...}` from a nested deployment evaluated by `outer`) and
        defaults; False when any is missing or not allowed (each reported)."""
        shapes = (("parameters", dict), ("variables", dict), ("resources", (list, dict)))
        wrong = [k for k, t in shapes if template.get(k) is not None and not isinstance(template.get(k), t)]
        if wrong or template.get("resources") is None:
            for k in wrong or ["resources"]:
                self.sink.problem(template, f"the template's '{k}' must be "
                                  + ("an object" if k != "resources" else "an array of resources"), k)
            return False
        ok = True
        for pname, declared in (template.get("parameters") or {}).items():
            spec = declared if isinstance(declared, dict) else {}
            here = declared if isinstance(declared, dict) else at  # a problem points at the declaration
            try:
                if pname.lower() in values:
                    ctx.parameters[pname] = self._given(values[pname.lower()], outer)
                elif "defaultValue" in spec:
                    ctx.parameters[pname] = walk(ctx, spec["defaultValue"], [], "")
                else:
                    self.sink.problem(here, f"the template parameter '{pname}' has no value"
                                      + (self.sink.missing_hint if outer is None else ""))
                    ok = False
                    continue
            except TemplateError as exc:
                self.sink.problem(here, f"parameter '{pname}': {exc}")
                ok = False
                continue
            allowed = spec.get("allowedValues")
            value = ctx.parameters[pname]
            if isinstance(allowed, list) and not has_symbolic(value) and value not in allowed:
                self.sink.problem(here, f"the value of parameter '{pname}' is not one of {allowed}")
                ok = False
        ctx.set_variables(dict(template.get("variables") or {}))
        return ok

    @staticmethod
    def _given(raw: Any, outer: Expressions | None) -> Any:
        """A parameter value: a parameters-file entry, or a nested deployment's (evaluated by the parent)."""
        if isinstance(raw, dict) and "value" not in raw and "reference" in raw:
            return placeholder("a Key Vault reference")  # resolved by ARM during deployment
        value = raw["value"] if isinstance(raw, dict) and "value" in raw else raw
        return walk(outer, value, [], "") if outer is not None else value

    # ---------------------------------------------------------------- resources

    def _resources(self, ctx: Expressions, template: dict, target: Target, parent: _Parent | None,
                   depth: int, items: Any = None) -> None:
        raw = template.get("resources") if items is None else items
        pairs = list(raw.items()) if isinstance(raw, dict) else list(enumerate(raw)) if isinstance(raw, list) else []
        pairs = [(k, r) for k, r in pairs if isinstance(r, dict) and r.get("existing") is not True]
        if self.sink.ordered and parent is None:
            pairs = _ordered(ctx, pairs)
        for _, res in pairs:
            try:
                self._declaration(ctx, res, target, parent, depth)
            except Symbolic as exc:
                why = f"its type, name, scope, condition or copy count needs {exc}() (known only during deployment)"
                self.sink.unplaced(res, why)
            except TemplateError as exc:
                self.sink.problem(res, f"resource {res.get('name')!r}: {exc}")

    def _declaration(self, ctx: Expressions, res: dict, target: Target, parent: _Parent | None,
                     depth: int) -> None:
        loop = res.get("copy")
        if not isinstance(loop, dict):
            self._instance(ctx, res, target, parent, depth)
            return
        if parent is not None:  # copy-resources, "Iteration for a child resource"
            raise TemplateError("a copy loop cannot be used on a child resource declared inside its parent; "
                                "declare it at the top level")
        name = str(loop.get("name", "copy"))
        outer_loop = ctx.resource_loop
        for i in range(count(ctx, loop.get("count", 0))):
            ctx.budget.spend()
            with ctx.loop(name, i):
                ctx.resource_loop = name.lower()
                try:
                    self._instance(ctx, res, target, parent, depth)
                finally:
                    ctx.resource_loop = outer_loop

    def _instance(self, ctx: Expressions, res: dict, target: Target, parent: _Parent | None, depth: int) -> None:
        # a false condition skips the resource but not the children declared in it: "Conditional deployment
        # doesn't cascade to child resources" (conditional-resource-deployment)
        deployed = "condition" not in res or bool(ctx.evaluate(res["condition"]))
        children = res.get("resources")
        if not deployed and not children:
            return
        rtype, name = ctx.evaluate(res.get("type", "")), ctx.evaluate(res.get("name", ""))
        if not (isinstance(rtype, str) and rtype and isinstance(name, str) and name):
            raise TemplateError("a template resource needs a type and a name, both strings")
        if parent is not None:
            rtype, name = child_type_name(parent[0], parent[1], rtype, name)
        elif "/" not in rtype:
            raise TemplateError(f"the type '{rtype}' needs its namespace ('Namespace/type')")
        if self.placed >= MAX_RESOURCES:
            raise TemplateError(f"the deployment expands to more than {MAX_RESOURCES} resources")
        if rtype.lower() == DEPLOYMENTS:
            if deployed:
                self._nested(ctx, res, name, target, depth)
            return
        base = parent[2] if parent is not None else (self._scope(ctx, res["scope"], target) if res.get("scope")
                                                     else target.base())
        rid = _resource_id(base, target, rtype, name)
        if deployed:
            symbolic: list[str] = []
            body = {k: walk(ctx, v, symbolic, f"/{k}") for k, v in res.items() if k not in NOT_BODY}
            self.placed += 1
            self.sink.place(ctx, Instance(rid, parse_scope(rid).resource_type or rtype, rtype, name, base, target,
                                          body, res, symbolic))
        if children:
            lvl = parent[3] + 1 if parent is not None else 1
            if lvl > MAX_CHILD_LEVELS:
                raise TemplateError(f"child resources can only be defined {MAX_CHILD_LEVELS} levels deep")
            self._resources(ctx, {}, target, (rtype, name, base, lvl), depth, children)

    def _scope(self, ctx: Expressions, raw: Any, target: Target) -> str:
        """A resource's `scope`: an id, a management group, or a resource relative to the deployment."""
        scope = str(ctx.evaluate(raw)).rstrip("/")
        if scope.startswith("/") or scope == "":
            return scope
        if scope.lower().startswith("microsoft.management/managementgroups/"):
            return "/providers/" + scope
        rtype, *names = split_type_name(scope)
        return f"{target.base()}/providers/{resource_path(rtype, '/'.join(names))}"

    # ---------------------------------------------------------------- nested deployments

    def _nested(self, ctx: Expressions, res: dict, name: str, target: Target, depth: int) -> None:
        props = res.get("properties")
        props = props if isinstance(props, dict) else {}
        where = self._nested_target(ctx, res, target)
        rid = f"{where.base()}/providers/Microsoft.Resources/deployments/{name}"
        template = props.get("template")
        if not isinstance(template, dict):
            link = props.get("templateLink")
            what = (f"links its template ({_link(link)})" if isinstance(link, dict)
                    else "has no inline template")
            self.sink.unplaced(res, f"nested deployment '{name}' {what}: only inline templates are read; "
                               "check the linked template itself with the parameters it is given", rid)
            return
        if depth >= MAX_NESTING:
            raise TemplateError(f"nested deployments deeper than {MAX_NESTING} levels")
        self.sink.entering(where, name)
        options = props.get("expressionEvaluationOptions")
        inner = isinstance(options, dict) and str(options.get("scope", "")).lower() == "inner"
        if inner:
            location = ctx.evaluate(res.get("location", ctx.location))
            child = self._context(where, location if isinstance(location, str) else ctx.location, name)
            given = props.get("parameters")
            values = {str(k).lower(): v for k, v in given.items()} if isinstance(given, dict) else {}
            if "parametersLink" in props and not values:
                self.sink.unplaced(res, f"nested deployment '{name}' reads its parameters from parametersLink, "
                                   "which is not fetched", rid)
                return
            if not self._bind(child, template, values, res, outer=ctx):
                return
        else:
            # outer (the default): the parent's parameters, variables and functions; resources still go to
            # the nested deployment's resource group / subscription
            child = copy_module.copy(ctx)
            inner_vars = template.get("variables") if isinstance(template.get("variables"), dict) else {}
            child.variables = {**inner_vars, **ctx.variables}
            if template.get("resources") is None or not isinstance(template.get("resources"), (list, dict)):
                self.sink.problem(template, "the template's 'resources' must be an array of resources", "resources")
                return
        self._resources(child, template, where, None, depth + 1)

    def _nested_target(self, ctx: Expressions, res: dict, target: Target) -> Target:
        where = Target(target.mg, target.sub, target.rg)
        if res.get("scope"):
            scope = self._scope(ctx, res["scope"], target)
            try:
                parsed = parse_scope(scope or "/")
            except ScopeError as exc:
                raise TemplateError(str(exc)) from None
            where = Target(parsed.management_group, parsed.subscription, parsed.resource_group)
        if "subscriptionId" in res:
            where = Target(None, _text(ctx.evaluate(res["subscriptionId"]), "subscriptionId"), None)
        if "resourceGroup" in res:
            where = Target(None, where.sub or target.sub, _text(ctx.evaluate(res["resourceGroup"]), "resourceGroup"))
            if not where.sub:
                raise TemplateError("a nested deployment into a resource group needs a subscription")
        return where


def _ordered(ctx: Expressions, pairs: list[tuple[Any, dict]]) -> list[tuple[Any, dict]]:
    """Declarations in `dependsOn` order: one waits while a declaration it names (by name, copy loop or
    symbolic name) is still to come; a dependency on nothing declared here (an existing resource) is met."""

    def keys(key: Any, res: dict) -> set[str]:
        out = {str(key).lower()} if isinstance(key, str) else set()
        if isinstance(res.get("copy"), dict):
            out.add(str(res["copy"].get("name", "")).lower())
        try:
            name = ctx.evaluate(res.get("name", ""))
        except (TemplateError, Symbolic):
            name = None
        if isinstance(name, str) and name:
            out.add(name.rsplit("/", 1)[-1].lower())
        return out

    def needs(res: dict) -> set[str]:
        out = set()
        deps = res.get("dependsOn")
        for dep in deps if isinstance(deps, list) else []:
            try:
                value = ctx.evaluate(dep)
            except (TemplateError, Symbolic):
                continue
            if isinstance(value, str) and value:
                out.add(value.rstrip("/").rsplit("/", 1)[-1].lower())
        return out

    named = [(k, r, keys(k, r), needs(r)) for k, r in pairs]
    done: list[tuple[Any, dict]] = []
    pending = named
    while pending:
        waiting: set[str] = set().union(*(p[2] for p in pending))
        ready = [p for p in pending if not (p[3] & (waiting - p[2]))]
        if not ready:  # a cycle ARM would refuse: deploy the rest in order
            ready = pending
        done += [(k, r) for k, r, _, _ in ready]
        pending = [p for p in pending if p not in ready]
    return done


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or "/" in value:
        raise TemplateError(f"the nested deployment's {what} must be a name, not {value!r}")
    return value


def _link(link: dict) -> str:
    for k in ("uri", "id", "relativePath"):
        if isinstance(link.get(k), str):
            return f"templateLink.{k} {link[k]}"
    return "templateLink"


def _resource_id(base: str, target: Target, rtype: str, name: str) -> str:
    low = rtype.lower()
    if low == "microsoft.resources/resourcegroups":
        if not target.sub:
            raise TemplateError("a resource group is deployed from a subscription template")
        return f"/subscriptions/{target.sub}/resourceGroups/{name}"
    if low == "microsoft.management/managementgroups":
        return MG_PREFIX + name
    rid = f"{base}/providers/{resource_path(rtype, name)}"
    try:
        parsed = parse_scope(rid)
    except ScopeError as exc:
        raise TemplateError(str(exc)) from None
    if parsed.kind is not ScopeKind.RESOURCE:
        raise TemplateError(f"'{rtype}' named '{name}' is no resource id")
    return rid
