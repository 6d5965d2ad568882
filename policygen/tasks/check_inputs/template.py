"""ARM templates expanded offline as ARM would deploy them, each resource placed at its id.

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
`reference()` and `list*()` are never guessed: the value they feed becomes a placeholder (`placed.SYMBOLIC`).
"""

from __future__ import annotations

import copy as copy_module
from dataclasses import dataclass
from typing import Any

from policygen.arm.scopes import MG_PREFIX, ScopeError, ScopeKind, parse_scope, subscription_and_group
from policygen.emulator.template_expressions import TemplateError, child_type_name, resource_path, split_type_name
from policygen.errors import Diagnostic
from policygen.tasks.check_inputs.expressions import MAX_COPY, Budget, Symbolic, TemplateContext, count, walk
from policygen.tasks.check_inputs.jsondoc import Document
from policygen.tasks.check_inputs.placed import Placed, has_symbolic, placeholder, unplaced

__all__ = ["MAX_COPY", "Expander", "Target", "level", "target_for"]

MAX_RESOURCES = 20_000  # per file, after every loop and nested deployment (hostile input stays bounded)
MAX_NESTING = 20  # nested deployments inside nested deployments
DEPLOYMENTS = "microsoft.resources/deployments"
_NOT_BODY = ("apiVersion", "dependsOn", "condition", "copy", "scope", "comments", "resourceGroup",
             "subscriptionId", "resources", "existing", "type", "name", "id", "import")
MAX_CHILD_LEVELS = 5  # "Child resources can only be defined five levels deep" (child-resource-name-type)
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


def target_for(doc: Document, template: dict, scope: str) -> Target | Diagnostic:
    """The `--scope` the template deploys to, as its `$schema` requires."""
    lvl = level(template)
    sub, rg = subscription_and_group(scope)
    mg = scope[len(MG_PREFIX):].strip("/") if scope.lower().startswith(MG_PREFIX.lower()) else None
    if lvl == "tenant":
        return Target()
    if lvl == "managementGroup":
        return Target(mg=mg) if mg else doc.at(template, "a management-group template (its $schema) needs "
                                               f"--scope {MG_PREFIX}NAME, not {scope!r}", "$schema")
    if lvl == "subscription":
        return Target(sub=sub) if sub else doc.at(template, "a subscription template (its $schema) needs --scope "
                                                  f"/subscriptions/ID, not {scope!r}", "$schema")
    if sub and rg:
        return Target(sub=sub, rg=rg)
    return doc.at(template, "a resource-group template (its $schema) needs --scope "
                  f"/subscriptions/ID/resourceGroups/NAME, not {scope!r}", "$schema")


class Expander:
    """Expands one template file; problems go to `problems`, resources to `placed`."""

    def __init__(self, doc: Document, location: str, problems: list[Diagnostic]):
        self.doc, self.location, self.problems = doc, location, problems
        self.placed: list[Placed] = []
        self.budget = Budget()

    def run(self, template: dict, target: Target, given: dict[str, Any]) -> list[Placed]:
        ctx = self._context(target, self.location, self.doc.path.stem)
        if self._bind(ctx, template, {k.lower(): v for k, v in given.items()}, template, outer=None):
            self._resources(ctx, template, target, None, 0)
        return self.placed

    # ---------------------------------------------------------------- parameters and variables

    def _context(self, target: Target, location: str, name: str) -> TemplateContext:
        return TemplateContext(subscription_id=target.sub or "", resource_group=target.rg,
                               management_group=target.mg, location=location, deployment_name=name,
                               budget=self.budget)

    def _bind(self, ctx: TemplateContext, template: dict, values: dict[str, Any], at: Any,
              outer: TemplateContext | None) -> bool:
        """Parameter values (given, or `{"value": ...}` from a nested deployment evaluated by `outer`) and
        defaults; False when any is missing or not allowed (each reported)."""
        shapes = (("parameters", dict), ("variables", dict), ("resources", (list, dict)))
        wrong = [k for k, t in shapes if template.get(k) is not None and not isinstance(template.get(k), t)]
        if wrong or template.get("resources") is None:
            for k in wrong or ["resources"]:
                self.problems.append(self.doc.at(template, f"the template's '{k}' must be "
                                                 + ("an object" if k != "resources" else "an array of resources"),
                                                 k))
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
                    self.problems.append(self.doc.at(here, f"the template parameter '{pname}' has no value"
                                                     + (" (give it with --parameters)" if outer is None else "")))
                    ok = False
                    continue
            except TemplateError as exc:
                self.problems.append(self.doc.at(here, f"parameter '{pname}': {exc}"))
                ok = False
                continue
            allowed = spec.get("allowedValues")
            value = ctx.parameters[pname]
            if isinstance(allowed, list) and not has_symbolic(value) and value not in allowed:
                self.problems.append(self.doc.at(here, f"the value of parameter '{pname}' is not one of {allowed}"))
                ok = False
        ctx.set_variables(dict(template.get("variables") or {}))
        return ok

    @staticmethod
    def _given(raw: Any, outer: TemplateContext | None) -> Any:
        """A parameter value: a parameters-file entry, or a nested deployment's (evaluated by the parent)."""
        if isinstance(raw, dict) and "value" not in raw and "reference" in raw:
            return placeholder("a Key Vault reference")  # resolved by ARM during deployment
        value = raw["value"] if isinstance(raw, dict) and "value" in raw else raw
        return walk(outer, value, [], "") if outer is not None else value

    # ---------------------------------------------------------------- resources

    def _resources(self, ctx: TemplateContext, template: dict, target: Target, parent: _Parent | None,
                   depth: int, items: Any = None) -> None:
        raw = template.get("resources") if items is None else items
        for res in (list(raw.values()) if isinstance(raw, dict) else raw) if isinstance(raw, (list, dict)) else []:
            if not isinstance(res, dict) or res.get("existing") is True:
                continue
            try:
                self._declaration(ctx, res, target, parent, depth)
            except Symbolic as exc:
                why = f"its type, name, scope, condition or copy count needs {exc}() (known only during deployment)"
                self.placed.append(unplaced(res.get("type"), res.get("name"), self.doc.name, self.doc.line(res),
                                            why))
            except TemplateError as exc:
                self.problems.append(self.doc.at(res, f"resource {res.get('name')!r}: {exc}"))

    def _declaration(self, ctx: TemplateContext, res: dict, target: Target, parent: _Parent | None,
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

    def _instance(self, ctx: TemplateContext, res: dict, target: Target, parent: _Parent | None,
                  depth: int) -> None:
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
            rtype, name = _child(parent, rtype, name)
        elif "/" not in rtype:
            raise TemplateError(f"the type '{rtype}' needs its namespace ('Namespace/type')")
        if len(self.placed) >= MAX_RESOURCES:
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
            body = {k: walk(ctx, v, symbolic, f"/{k}") for k, v in res.items() if k not in _NOT_BODY}
            # the type policy sees is the id's: `X/y/providers/diagnosticSettings` is a Microsoft.Insights one
            real = parse_scope(rid).resource_type or rtype
            self.placed.append(Placed({"id": rid, "type": real, "name": name.rsplit("/", 1)[-1], **body},
                                      self.doc.name, self.doc.line(res), symbolic))
        if children:
            level = parent[3] + 1 if parent is not None else 1
            if level > MAX_CHILD_LEVELS:
                raise TemplateError(f"child resources can only be defined {MAX_CHILD_LEVELS} levels deep")
            self._resources(ctx, {}, target, (rtype, name, base, level), depth, children)

    def _scope(self, ctx: TemplateContext, raw: Any, target: Target) -> str:
        """A resource's `scope`: an id, a management group, or a resource relative to the deployment."""
        scope = str(ctx.evaluate(raw)).rstrip("/")
        if scope.startswith("/") or scope == "":
            return scope
        if scope.lower().startswith("microsoft.management/managementgroups/"):
            return "/providers/" + scope
        rtype, *names = split_type_name(scope)
        return f"{target.base()}/providers/{resource_path(rtype, '/'.join(names))}"

    # ---------------------------------------------------------------- nested deployments

    def _nested(self, ctx: TemplateContext, res: dict, name: str, target: Target, depth: int) -> None:
        props = res.get("properties")
        props = props if isinstance(props, dict) else {}
        where = self._nested_target(ctx, res, target)
        rid = f"{where.base()}/providers/Microsoft.Resources/deployments/{name}"
        template = props.get("template")
        if not isinstance(template, dict):
            link = props.get("templateLink")
            what = (f"links its template ({_link(link)})" if isinstance(link, dict)
                    else "has no inline template")
            self.placed.append(unplaced("Microsoft.Resources/deployments", name, self.doc.name, self.doc.line(res),
                                        f"nested deployment '{name}' {what}: check reads inline templates only; "
                                        "check the linked template itself with the parameters it is given", rid))
            return
        if depth >= MAX_NESTING:
            raise TemplateError(f"nested deployments deeper than {MAX_NESTING} levels")
        options = props.get("expressionEvaluationOptions")
        inner = isinstance(options, dict) and str(options.get("scope", "")).lower() == "inner"
        if inner:
            location = ctx.evaluate(res.get("location", ctx.location))
            child = self._context(where, location if isinstance(location, str) else ctx.location, name)
            given = props.get("parameters")
            values = {str(k).lower(): v for k, v in given.items()} if isinstance(given, dict) else {}
            if "parametersLink" in props and not values:
                self.placed.append(unplaced("Microsoft.Resources/deployments", name, self.doc.name,
                                            self.doc.line(res), f"nested deployment '{name}' reads its parameters "
                                            "from parametersLink, which check does not fetch", rid))
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
                self.problems.append(self.doc.at(template, "the template's 'resources' must be an array of resources",
                                                 "resources"))
                return
        self._resources(child, template, where, None, depth + 1)

    def _nested_target(self, ctx: TemplateContext, res: dict, target: Target) -> Target:
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


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or "/" in value:
        raise TemplateError(f"the nested deployment's {what} must be a name, not {value!r}")
    return value


def _link(link: dict) -> str:
    for k in ("uri", "id", "relativePath"):
        if isinstance(link.get(k), str):
            return f"templateLink.{k} {link[k]}"
    return "templateLink"


def _child(parent: _Parent, rtype: str, name: str) -> tuple[str, str]:
    return child_type_name(parent[0], parent[1], rtype, name)


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
