"""Template deployments in the emulator: what the one expander (`policygen.templates`) places is written here.

The expander does parameters, variables (with `copy`), resource and property `copy`, conditions, children,
nested deployments and placement; this module resolves reference() against the emulator's store (what was
deployed before it, in `dependsOn` order) and writes each resource through `Context.write_resource`
(request-time policy and deployIfNotExists, like any PUT); Microsoft.Authorization resources go through the
same functions as the REST API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policygen.emulator import assignments, exemptions, hierarchy, inventory, policy, rbac
from policygen.emulator.context import Context
from policygen.emulator.core import copy_json, parse_scope
from policygen.emulator.store import public
from policygen.templates.expand import Expander, Instance, Target
from policygen.templates.expressions import Expressions
from policygen.templates.names import TemplateError, split_type_name

__all__ = ["DeploymentResult", "TemplateError", "deploy", "put_authorization"]


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
    declared = {str(p).lower() for p in template.get("parameters") or {}}
    for pname in parameters or {}:
        if str(pname).lower() not in declared:
            raise TemplateError(f"the parameter '{str(pname).lower()}' is not declared in the template")
    sink = _Writer(emu)
    target = Target(management_group, subscription_id or None, resource_group)
    ctx = Expander(sink, location, name, tenant_id=emu.tenant_id).run(template, target, parameters or {})
    outputs = {}
    for oname, spec in (template.get("outputs") or {}).items() if ctx is not None else ():
        outputs[oname] = {"type": spec.get("type"), "value": ctx.evaluate(spec.get("value"))}
    return DeploymentResult(sink.deployed, outputs)


class _Writer:
    """The expander's sink in the emulator: reference() read from the store, resources written as placed."""

    ordered = True  # a reference() reads what was deployed before it
    missing_hint = ""

    def __init__(self, emu: Context):
        self.emu = emu
        self.resolver = self
        self.deployed: list[str] = []

    # ------------------------------------------------------------------ Resolver

    def call(self, ctx: Expressions, name: str, args: list[Any]) -> Any:
        if name != "reference":
            raise TemplateError(f"the template function '{name}' is not supported by the emulator")
        target = str(args[0]) if args else ""
        rid = target if target.startswith("/") else ctx.f_resourceid(*split_type_name(target))
        found = lookup_any(self.emu, rid)
        if not found:
            raise TemplateError(f"reference(): the resource '{rid}' is not found")
        full = any(str(r).lower() == "full" for r in args[1:])
        return copy_json(found) if full else copy_json(found.get("properties") or {})

    def group_location(self, subscription: str, group: str) -> str | None:
        rg = self.emu.store.get("resourceGroups", f"/subscriptions/{subscription}/resourceGroups/{group}")
        return (rg or {}).get("location")

    # ------------------------------------------------------------------ Sink

    def place(self, ctx: Expressions, item: Instance) -> None:
        emu, body, low = self.emu, item.body, item.declared_type.lower()
        if low == "microsoft.resources/resourcegroups":
            location = body.get("location")
            hierarchy.put_resource_group(emu, item.target.sub or "", item.name,
                                         str(location) if location else ctx.location, body.get("tags"))
        elif low.startswith("microsoft.authorization/"):
            self.deployed.append(put_authorization(emu, item.base, item.declared_type, item.name, body))
            return
        elif not item.base.lower().startswith("/subscriptions/"):
            raise TemplateError(f"the emulator deploys '{item.declared_type}' only under a subscription, "
                                f"not at '{item.base or '/'}'")
        else:
            existing = emu.store.get("resources", item.id)
            if existing and isinstance(body.get("properties"), dict):
                body = inventory.merge_patch(copy_json(public(existing)), body)
            emu.write_resource({**body, "id": item.id}, policy=True)
        self.deployed.append(item.id)

    def unplaced(self, declaration: dict, why: str, rid: str = "") -> None:
        raise TemplateError(why)

    def problem(self, at: Any, message: str, key: str = "type") -> None:
        raise TemplateError(message)

    def entering(self, target: Target, name: str) -> None:
        if target.rg and not self.emu.store.get("resourceGroups",
                                                f"/subscriptions/{target.sub}/resourceGroups/{target.rg}"):
            raise TemplateError(f"the resource group '{target.rg}' of nested deployment '{name}' does not exist")


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


def lookup_any(emu: Context, object_id: str) -> dict | None:
    """Any emulated object by id, for `reference()`."""
    for kind in ("resources", "policyAssignments", "policyDefinitions", "policySetDefinitions", "roleAssignments",
                 "policyExemptions", "deployments", "resourceGroups"):
        found = emu.store.get(kind, object_id)
        if found is not None:
            return found
    return None
