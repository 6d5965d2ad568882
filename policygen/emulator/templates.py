"""A small ARM template deployment engine for the templates deployIfNotExists policies carry.

Expressions are parsed by the evaluator's parser and the pure ARM functions are the evaluator's; this module
adds only what belongs to a *deployment*: `parameters()`, `variables()`, `resourceGroup()`,
`subscription()`, `resourceId()` and friends, `reference()`, `copyIndex()`, `deployment()`, plus resource
ids, `condition`, `copy` loops, `dependsOn` ordering and nested `Microsoft.Resources/deployments`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from policygen.emulator.core import copy_json
from policygen.emulator.core import parse_scope as hierarchy_scope
from policygen.emulator.store import public

if TYPE_CHECKING:
    from policygen.emulator.app import Emulator

MG_PREFIX = "/providers/Microsoft.Management/managementGroups/"
DEPLOYMENT_ONLY = (
    "apiVersion",
    "dependsOn",
    "condition",
    "copy",
    "scope",
    "comments",
    "resourceGroup",
    "subscriptionId",
)


class TemplateError(Exception):
    """A template that cannot be deployed (ARM's InvalidTemplate / DeploymentFailed)."""


def _engine() -> tuple[Callable[[str], tuple], dict[str, Callable[..., Any]], type[Exception]]:
    from policygen.evaluate import functions
    from policygen.evaluate.errors import EvaluationFailure
    from policygen.evaluate.parser import parse

    return parse, functions.PURE, EvaluationFailure


@dataclass
class Expressions:
    """Evaluates ARM template expressions in one deployment's context."""

    parameters: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    subscription_id: str = ""
    resource_group: str | None = None
    location: str = "westeurope"
    tenant_id: str = ""
    deployment_name: str = "deployment"
    management_group: str | None = None  # set for management-group deployments
    emulator: Any = None
    copy_indexes: dict[str, int] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)

    def evaluate(self, value: Any) -> Any:
        """Evaluate every expression string inside a JSON value."""
        if isinstance(value, str):
            if len(value) >= 2 and value[0] == "[" and value[-1] == "]" and not value.startswith("[["):
                parse, _, failure = _engine()
                try:
                    return self._node(parse(value))
                except (failure, TemplateError, KeyError, TypeError, IndexError, ValueError) as exc:
                    raise TemplateError(f"cannot evaluate {value}: {exc}") from exc
            return value[1:] if value.startswith("[[") else value
        if isinstance(value, list):
            return [self.evaluate(v) for v in value]
        if isinstance(value, dict):
            return {k: self.evaluate(v) for k, v in value.items()}
        return value

    def base(self) -> str:
        """The deployment's scope id."""
        if self.management_group:
            return MG_PREFIX + self.management_group
        return f"/subscriptions/{self.subscription_id}" + (
            f"/resourceGroups/{self.resource_group}" if self.resource_group else ""
        )

    # ------------------------------------------------------------------ AST

    def _node(self, node: tuple) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "member":
            base = self._node(node[1])
            if not isinstance(base, dict):
                raise TemplateError(f"cannot read '.{node[2]}' of {type(base).__name__}")
            low = {k.lower(): v for k, v in base.items()}
            if node[2].lower() not in low:
                raise TemplateError(f"the object has no property '{node[2]}'")
            return low[node[2].lower()]
        if kind == "index":
            base, idx = self._node(node[1]), self._node(node[2])
            if isinstance(base, dict):
                return {k.lower(): v for k, v in base.items()}[str(idx).lower()]
            return base[int(idx)]
        _, low, name, args = node
        if low == "if":
            cond = self._node(args[0])
            return self._node(args[1] if cond else args[2])
        own = getattr(self, f"f_{low}", None)
        values = [self._node(a) for a in args]
        if own is not None:
            return own(*values)
        _, pure, _ = _engine()
        impl = pure.get(low)
        if impl is None:
            raise TemplateError(f"the template function '{name}' is not supported by the emulator")
        return impl(*values)

    # ------------------------------------------------------------------ deployment functions

    def f_parameters(self, name: str) -> Any:
        low = {k.lower(): v for k, v in self.parameters.items()}
        if name.lower() not in low:
            raise TemplateError(f"the template parameter '{name}' is not found")
        return low[name.lower()]

    def f_variables(self, name: str) -> Any:
        low = {k.lower(): k for k in self.variables}
        if name.lower() not in low:
            raise TemplateError(f"the template variable '{name}' is not found")
        real = low[name.lower()]
        if real in self._resolving:
            raise TemplateError(f"the variable '{name}' refers to itself")
        self._resolving.add(real)
        try:
            value = self.evaluate(self.variables[real])
        finally:
            self._resolving.discard(real)
        return value

    def f_resourcegroup(self) -> dict:
        if not self.resource_group:
            raise TemplateError("resourceGroup() is not available in a subscription-level deployment")
        loc = self.location
        if self.emulator is not None:
            rg = self.emulator.store.get(
                "resourceGroups", f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            )
            loc = (rg or {}).get("location", loc)
        return {
            "id": f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}",
            "name": self.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
            "location": loc,
            "properties": {"provisioningState": "Succeeded"},
        }

    def f_subscription(self) -> dict:
        return {
            "id": f"/subscriptions/{self.subscription_id}",
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
            "displayName": self.subscription_id,
        }

    def f_tenant(self) -> dict:
        return {"tenantId": self.tenant_id, "id": f"/tenants/{self.tenant_id}"}

    def f_deployment(self) -> dict:
        return {"name": self.deployment_name, "properties": {"templateLink": None}, "location": self.location}

    def f_utcnow(self, fmt: str = "") -> str:
        return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    def f_copyindex(self, *args: Any) -> int:
        loop, offset = None, 0
        for a in args:
            if isinstance(a, int):
                offset = a
            else:
                loop = str(a)
        if loop is None:
            if not self.copy_indexes:
                raise TemplateError("copyIndex() used outside a copy loop")
            return list(self.copy_indexes.values())[-1] + offset
        return self.copy_indexes[loop.lower()] + offset

    def f_resourceid(self, *args: str) -> str:
        args = tuple(str(a) for a in args)
        sub, rg = self.subscription_id, self.resource_group
        i = 0
        # Optional leading subscriptionId and resourceGroupName (a type contains a '/').
        while i < len(args) and "/" not in args[i] and i < 2:
            i += 1
        lead = args[:i]
        if len(lead) == 2:
            sub, rg = lead
        elif len(lead) == 1:
            rg = lead[0]
        rtype, names = args[i], args[i + 1 :]
        base = f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
        return base + "/providers/" + resource_path(rtype, "/".join(names))

    def f_subscriptionresourceid(self, *args: str) -> str:
        args = tuple(str(a) for a in args)
        sub = self.subscription_id
        if args and "/" not in args[0]:
            sub, args = args[0], args[1:]
        return f"/subscriptions/{sub}/providers/" + resource_path(args[0], "/".join(args[1:]))

    def f_tenantresourceid(self, *args: str) -> str:
        return "/providers/" + resource_path(str(args[0]), "/".join(str(a) for a in args[1:]))

    def f_extensionresourceid(self, scope: str, rtype: str, *names: str) -> str:
        return scope.rstrip("/") + "/providers/" + resource_path(rtype, "/".join(names))

    def f_reference(self, target: str, *rest: Any) -> Any:
        if self.emulator is None:
            raise TemplateError("reference() needs the emulator's state")
        from policygen.emulator.deployments import lookup_any

        rid = target if target.startswith("/") else self.f_resourceid(*_split_type_name(target))
        found = lookup_any(self.emulator, rid)
        if not found:
            raise TemplateError(f"reference(): the resource '{rid}' is not found")
        full = any(str(r).lower() == "full" for r in rest)
        return copy_json(found) if full else copy_json(found.get("properties") or {})

    def f_environment(self) -> dict:
        return {"name": "AzureCloud", "resourceManager": "https://management.azure.com/"}

    def f_managementgroup(self) -> dict:
        if not self.management_group:
            raise TemplateError("managementGroup() is available in management-group deployments only")
        return {
            "id": MG_PREFIX + self.management_group,
            "name": self.management_group,
            "type": "Microsoft.Management/managementGroups",
            "properties": {"tenantId": self.tenant_id},
        }

    def f_managementgroupresourceid(self, *args: str) -> str:
        args = tuple(str(a) for a in args)
        mg = self.management_group
        if args and "/" not in args[0]:
            mg, args = args[0], args[1:]
        if not mg:
            raise TemplateError("managementGroupResourceId() needs a management group")
        return f"{MG_PREFIX}{mg}/providers/" + resource_path(args[0], "/".join(args[1:]))


def _split_type_name(text: str) -> tuple[str, ...]:
    parts = text.strip("/").split("/")
    ns, rest = parts[0], parts[1:]
    types = [ns] + rest[0::2]
    return ("/".join(types), *rest[1::2])


def resource_path(rtype: str, name: str) -> str:
    """`Microsoft.Storage/storageAccounts/blobServices` + `sa/default` → the id tail after /providers/."""
    tsegs = rtype.strip("/").split("/")
    nsegs = [n for n in name.strip("/").split("/") if n != ""]
    path = [tsegs[0]]
    ni = 0
    for t in tsegs[1:]:
        if ni >= len(nsegs):
            raise TemplateError(f"the resource name '{name}' has too few segments for type '{rtype}'")
        if t.lower() == "providers":
            path += ["providers", nsegs[ni]]
        else:
            path += [t, nsegs[ni]]
        ni += 1
    if ni != len(nsegs):
        raise TemplateError(f"the resource name '{name}' has too many segments for type '{rtype}'")
    return "/".join(path)


@dataclass
class DeploymentResult:
    resources: list[str]
    outputs: dict[str, Any]


def deploy(
    emu: Emulator,
    template: dict,
    parameters: dict[str, Any],
    *,
    subscription_id: str,
    resource_group: str | None,
    location: str,
    name: str,
    management_group: str | None = None,
) -> DeploymentResult:
    """Deploy `template` (incremental mode) into a resource group, a subscription or a management group."""
    if not isinstance(template, dict) or "resources" not in template:
        raise TemplateError("the template has no 'resources'")
    ctx = Expressions(
        subscription_id=subscription_id,
        resource_group=resource_group,
        location=location,
        tenant_id=emu.tenant_id,
        deployment_name=name,
        management_group=management_group,
        emulator=emu,
    )
    declared = template.get("parameters") or {}
    given = {
        k.lower(): (v.get("value") if isinstance(v, dict) and "value" in v else v)
        for k, v in (parameters or {}).items()
    }
    for pname in given:
        if pname not in {p.lower() for p in declared}:
            raise TemplateError(f"the parameter '{pname}' is not declared in the template")
    for pname, spec in declared.items():
        if pname.lower() in given:
            ctx.parameters[pname] = given[pname.lower()]
        elif isinstance(spec, dict) and "defaultValue" in spec:
            ctx.parameters[pname] = ctx.evaluate(spec["defaultValue"])
        else:
            raise TemplateError(f"the template parameter '{pname}' has no value")
        allowed = (spec or {}).get("allowedValues")
        if allowed is not None and ctx.parameters[pname] not in allowed:
            raise TemplateError(f"the value of parameter '{pname}' is not one of {allowed}")
    ctx.variables = dict(template.get("variables") or {})
    deployed: list[str] = []
    raw = template["resources"]
    items = list(raw.values()) if isinstance(raw, dict) else list(raw)
    _deploy_resources(emu, ctx, items, deployed)
    outputs = {}
    for oname, spec in (template.get("outputs") or {}).items():
        outputs[oname] = {"type": spec.get("type"), "value": ctx.evaluate(spec.get("value"))}
    return DeploymentResult(deployed, outputs)


def _expand(ctx: Expressions, res: dict) -> list[tuple[dict, dict[str, int]]]:
    copy = res.get("copy")
    if not copy:
        return [(res, {})]
    count = int(ctx.evaluate(copy.get("count", 0)))
    loop = str(copy.get("name", "copy")).lower()
    return [(res, {loop: i}) for i in range(count)]


def _deploy_resources(emu: Emulator, ctx: Expressions, items: list[dict], deployed: list[str]) -> None:
    pending = [(r, idx) for r0 in items for r, idx in _expand(ctx, r0)]
    done_names: set[str] = set()
    for _ in range(len(pending) + 1):
        if not pending:
            return
        progress, rest = False, []
        for res, idx in pending:
            deps = [str(ctx.evaluate(d)).lower() for d in res.get("dependsOn") or []] if not idx else []
            if any(not any(n.endswith(d.rsplit("/", 1)[-1]) for n in done_names) for d in deps):
                rest.append((res, idx))
                continue
            ctx.copy_indexes = idx
            rid = _deploy_one(emu, ctx, res, deployed)
            ctx.copy_indexes = {}
            if rid:
                done_names.add(rid.lower())
            progress = True
        pending = rest
        if not progress:  # unresolvable dependsOn (e.g. on an existing resource): deploy in order
            for res, idx in pending:
                ctx.copy_indexes = idx
                _deploy_one(emu, ctx, res, deployed)
            return


def _deploy_one(emu: Emulator, ctx: Expressions, res: dict, deployed: list[str]) -> str | None:
    from policygen.emulator import hierarchy
    from policygen.emulator import resources as res_mod

    if "condition" in res and not ctx.evaluate(res["condition"]):
        return None
    rtype = str(ctx.evaluate(res.get("type", "")))
    rname = str(ctx.evaluate(res.get("name", "")))
    if rtype.lower() == "microsoft.resources/deployments":
        return _nested(emu, ctx, res, rname, deployed)
    if rtype.lower() == "microsoft.resources/resourcegroups":
        hierarchy.put_resource_group(
            emu,
            ctx.subscription_id,
            rname,
            str(ctx.evaluate(res.get("location"))) or ctx.location,
            ctx.evaluate(res.get("tags")),
        )
        rid = f"/subscriptions/{ctx.subscription_id}/resourceGroups/{rname}"
        deployed.append(rid)
        return rid
    base = _scope_of(ctx, res["scope"]) if res.get("scope") else ctx.base()
    if rtype.lower().startswith("microsoft.authorization/"):
        from policygen.emulator.deployments import put_authorization

        body = {k: ctx.evaluate(v) for k, v in res.items() if k not in DEPLOYMENT_ONLY and k not in ("type", "name")}
        rid = put_authorization(emu, base, rtype, rname, body)
        deployed.append(rid)
        return rid
    if not base.lower().startswith("/subscriptions/"):
        raise TemplateError(f"the emulator deploys '{rtype}' only under a subscription, not at '{base or '/'}'")
    rid = base + "/providers/" + resource_path(rtype, rname)
    body = {k: ctx.evaluate(v) for k, v in res.items() if k not in DEPLOYMENT_ONLY and k not in ("type", "name")}
    existing = emu.store.get("resources", rid)
    if existing and isinstance(body.get("properties"), dict):
        body = res_mod.merge_patch(copy_json(public(existing)), body)
    res_mod.put_raw(emu, {**body, "id": rid}, policy=True)
    deployed.append(rid)
    return rid


def _scope_of(ctx: Expressions, raw: Any) -> str:
    """A resource's `scope` property: an id, a management group path, or a resource relative to the deployment."""
    scope = str(ctx.evaluate(raw)).rstrip("/")
    if scope.startswith("/"):
        return scope
    if scope.lower().startswith("microsoft.management/managementgroups/"):
        return "/providers/" + scope
    return ctx.f_resourceid(*_split_type_name(scope))


def _nested(emu: Emulator, ctx: Expressions, res: dict, name: str, deployed: list[str]) -> str | None:
    props = res.get("properties") or {}
    inner = str(((props.get("expressionEvaluationOptions") or {}).get("scope")) or "outer").lower() == "inner"
    mg: str | None = ctx.management_group
    sub, rg = ctx.subscription_id, ctx.resource_group
    if res.get("scope"):
        target = hierarchy_scope(_scope_of(ctx, res["scope"]))
        mg, sub, rg = target.mg, target.sub or "", target.rg
    if "subscriptionId" in res:
        mg, sub, rg = None, str(ctx.evaluate(res["subscriptionId"])), None
    if "resourceGroup" in res:
        mg, rg = None, ctx.evaluate(res["resourceGroup"])
    template = props.get("template")
    if not isinstance(template, dict):
        raise TemplateError(f"nested deployment '{name}' has no inline template (templateLink is not supported)")
    if rg and not emu.store.get("resourceGroups", f"/subscriptions/{sub}/resourceGroups/{rg}"):
        raise TemplateError(f"the resource group '{rg}' of nested deployment '{name}' does not exist")
    if inner:
        params = {
            k: (ctx.evaluate(v.get("value")) if isinstance(v, dict) else v)
            for k, v in (props.get("parameters") or {}).items()
        }
        result = deploy(
            emu,
            template,
            params,
            subscription_id=sub,
            resource_group=rg,
            location=str(ctx.evaluate(res.get("location", ctx.location))),
            name=name,
            management_group=mg,
        )
        deployed.extend(result.resources)
    else:
        outer = Expressions(
            parameters=ctx.parameters,
            variables={**ctx.variables, **(template.get("variables") or {})},
            subscription_id=sub,
            resource_group=rg,
            location=ctx.location,
            tenant_id=ctx.tenant_id,
            deployment_name=name,
            management_group=mg,
            emulator=emu,
        )
        raw = template.get("resources") or []
        _deploy_resources(emu, outer, list(raw.values()) if isinstance(raw, dict) else list(raw), deployed)
    where = MG_PREFIX + mg if mg else f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
    return f"{where}/providers/Microsoft.Resources/deployments/{name}"
