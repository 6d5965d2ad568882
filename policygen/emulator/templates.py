"""A small ARM template deployment engine for the templates deployIfNotExists policies and exports carry.

Expressions are `template_expressions`'; this module adds resource ids, `condition`, `copy` loops,
`dependsOn` ordering and nested `Microsoft.Resources/deployments`. Resources are written through
`Context.write_resource` (request-time policy and deployIfNotExists, like any PUT); Microsoft.Authorization
resources go through the same functions as the REST API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policygen.emulator import assignments, exemptions, hierarchy, inventory, policy, rbac
from policygen.emulator.context import Context
from policygen.emulator.core import copy_json, parse_scope
from policygen.emulator.store import public
from policygen.emulator.template_expressions import (
    MG_PREFIX,
    Expressions,
    TemplateError,
    child_type_name,
    resource_path,
    split_type_name,
)

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


@dataclass
class _Outer(Expressions):
    """An outer-scope nested template (the default): its expressions — parameters, variables, resourceGroup(),
    subscription() — are the parent's, its resources go where the nested deployment points (Learn,
    linked-templates: "Expression evaluation scope in nested templates")."""

    deploy_to: tuple[str | None, str, str | None] = field(default=(None, "", None))  # (mg, subscription, group)


def _where(ctx: Expressions) -> tuple[str | None, str, str | None]:
    """(management group, subscription, resource group) the resources of `ctx`'s template deploy to."""
    if isinstance(ctx, _Outer):
        return ctx.deploy_to
    return ctx.management_group, ctx.subscription_id, ctx.resource_group


def _base(ctx: Expressions) -> str:
    mg, sub, rg = _where(ctx)
    if mg:
        return MG_PREFIX + mg
    return f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")


@dataclass
class DeploymentResult:
    resources: list[str]
    outputs: dict[str, Any]


def deploy(
    emu: Context,
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


def _deploy_resources(emu: Context, ctx: Expressions, items: list[dict], deployed: list[str]) -> None:
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


def _deploy_one(emu: Context, ctx: Expressions, res: dict, deployed: list[str],
                parent: tuple[str, str] | None = None) -> str | None:
    """The resource, then the children declared in its `resources` (deployed even when its condition is false:
    conditions do not cascade to children, Learn conditional-resource-deployment)."""
    deploy = "condition" not in res or bool(ctx.evaluate(res["condition"]))
    children = [c for c in res.get("resources") or [] if isinstance(c, dict)] \
        if isinstance(res.get("resources"), list) else []
    if not deploy and not children:
        return None
    rtype = str(ctx.evaluate(res.get("type", "")))
    rname = str(ctx.evaluate(res.get("name", "")))
    if parent is not None:
        rtype, rname = child_type_name(*parent, rtype, rname)
    rid = _deploy_own(emu, ctx, res, rtype, rname, deployed) if deploy else None
    for child in children:
        _deploy_one(emu, ctx, child, deployed, (rtype, rname))
    return rid


def _deploy_own(emu: Context, ctx: Expressions, res: dict, rtype: str, rname: str, deployed: list[str]) -> str | None:
    if rtype.lower() == "microsoft.resources/deployments":
        return _nested(emu, ctx, res, rname, deployed)
    if rtype.lower() == "microsoft.resources/resourcegroups":
        sub = _where(ctx)[1]
        hierarchy.put_resource_group(
            emu,
            sub,
            rname,
            str(ctx.evaluate(res.get("location"))) or ctx.location,
            ctx.evaluate(res.get("tags")),
        )
        rid = f"/subscriptions/{sub}/resourceGroups/{rname}"
        deployed.append(rid)
        return rid
    base = _scope_of(ctx, res["scope"]) if res.get("scope") else _base(ctx)
    if rtype.lower().startswith("microsoft.authorization/"):
        body = {k: ctx.evaluate(v) for k, v in res.items() if k not in DEPLOYMENT_ONLY and k not in ("type", "name")}
        rid = put_authorization(emu, base, rtype, rname, body)
        deployed.append(rid)
        return rid
    if not base.lower().startswith("/subscriptions/"):
        raise TemplateError(f"the emulator deploys '{rtype}' only under a subscription, not at '{base or '/'}'")
    rid = base + "/providers/" + resource_path(rtype, rname)
    body = {k: ctx.evaluate(v) for k, v in res.items()
            if k not in DEPLOYMENT_ONLY and k not in ("type", "name", "resources")}
    existing = emu.store.get("resources", rid)
    if existing and isinstance(body.get("properties"), dict):
        body = inventory.merge_patch(copy_json(public(existing)), body)
    emu.write_resource({**body, "id": rid}, policy=True)
    deployed.append(rid)
    return rid


def _scope_of(ctx: Expressions, raw: Any) -> str:
    """A resource's `scope` property: an id, a management group path, or a resource relative to the deployment."""
    scope = str(ctx.evaluate(raw)).rstrip("/")
    if scope.startswith("/"):
        return scope
    if scope.lower().startswith("microsoft.management/managementgroups/"):
        return "/providers/" + scope
    return ctx.f_resourceid(*split_type_name(scope))


def _nested(emu: Context, ctx: Expressions, res: dict, name: str, deployed: list[str]) -> str | None:
    props = res.get("properties") or {}
    inner = str(((props.get("expressionEvaluationOptions") or {}).get("scope")) or "outer").lower() == "inner"
    mg, sub, rg = _where(ctx)
    if res.get("scope"):
        target = parse_scope(_scope_of(ctx, res["scope"]))
        mg, sub, rg = target.management_group, target.subscription or "", target.resource_group
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
        outer = _Outer(
            parameters=ctx.parameters,
            variables={**(template.get("variables") or {}), **ctx.variables},  # the parent's win
            subscription_id=ctx.subscription_id,
            resource_group=ctx.resource_group,
            location=ctx.location,
            tenant_id=ctx.tenant_id,
            deployment_name=ctx.deployment_name,
            management_group=ctx.management_group,
            emulator=emu,
            deploy_to=(mg, sub, rg),
        )
        raw = template.get("resources") or []
        _deploy_resources(emu, outer, list(raw.values()) if isinstance(raw, dict) else list(raw), deployed)
    where = MG_PREFIX + mg if mg else f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
    return f"{where}/providers/Microsoft.Resources/deployments/{name}"


def put_authorization(emu: Context, scope: str, rtype: str, name: str, body: dict) -> str:
    """A Microsoft.Authorization resource from a template, through the same code as the REST API."""
    kind = rtype.split("/", 1)[1].lower() if "/" in rtype else ""
    if kind in ("policydefinitions", "policysetdefinitions"):
        scope = policy.definition_scope(emu, scope)
        put = policy.put_definition if kind == "policydefinitions" else policy.put_set_definition
        return put(emu, scope, name, body)["id"]
    if kind == "policyassignments":
        return assignments.put_assignment(emu, scope, name, body)["id"]
    if kind == "roleassignments":
        hierarchy.require_scope(emu, parse_scope(scope))
        return rbac.put_role_assignment(emu, scope, name, body)["id"]
    if kind == "policyexemptions":
        hierarchy.require_scope(emu, parse_scope(scope))
        rid = f"{scope}{exemptions.SEGMENT}{name}"
        return exemptions.put_exemption(emu, scope, name, rid, emu.store.get("policyExemptions", rid), body)["id"]
    raise TemplateError(f"the emulator cannot deploy '{rtype}' from a template")
