"""The deployment functions of template expressions (resourceGroup(), resourceId() and friends, deployment())
and the lambda functions (map, filter, reduce...), mixed into `expressions.Expressions`.

Learn: template-functions-resource, template-functions-scope, template-functions-deployment,
template-functions-lambda.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cmp_to_key
from typing import Any

from policygen.arm.expressions import Node
from policygen.arm.scopes import MG_PREFIX
from policygen.templates.names import TemplateError, resource_path


@dataclass(frozen=True)
class Lambda:
    """A `lambda('x', ..., body)` argument: parameter names and the unevaluated body."""

    params: tuple[str, ...]
    body: Node


class DeploymentFunctions:
    """Functions that read the deployment's context; `self` is an `Expressions`."""

    subscription_id: str
    resource_group: str | None
    management_group: str | None
    location: str
    tenant_id: str
    deployment_name: str
    resolver: Any

    def _apply(self, fn: Any, *values: Any) -> Any:  # Expressions evaluates a lambda's body
        raise NotImplementedError

    def base(self) -> str:
        """The deployment's scope id."""
        if self.management_group:
            return MG_PREFIX + self.management_group
        return f"/subscriptions/{self.subscription_id}" + (
            f"/resourceGroups/{self.resource_group}" if self.resource_group else ""
        )

    # ------------------------------------------------------------------ scope functions

    def f_resourcegroup(self) -> dict:
        if not self.resource_group:
            raise TemplateError("resourceGroup() is not available in a subscription-level deployment")
        known = self.resolver.group_location(self.subscription_id, self.resource_group) if self.resolver else None
        return {
            "id": f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}",
            "name": self.resource_group,
            "type": "Microsoft.Resources/resourceGroups",
            "location": known or self.location,
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

    def f_managementgroup(self) -> dict:
        if not self.management_group:
            raise TemplateError("managementGroup() is available in management-group deployments only")
        return {
            "id": MG_PREFIX + self.management_group,
            "name": self.management_group,
            "type": "Microsoft.Management/managementGroups",
            "properties": {"tenantId": self.tenant_id},
        }

    def f_deployment(self) -> dict:
        return {"name": self.deployment_name, "properties": {"templateLink": None}, "location": self.location}

    def f_environment(self) -> dict:
        return {"name": "AzureCloud", "resourceManager": "https://management.azure.com/"}

    def f_utcnow(self, fmt: str = "") -> str:
        return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    def f_newguid(self) -> str:
        return str(uuid.uuid4())

    # ------------------------------------------------------------------ resource ids

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

    def f_managementgroupresourceid(self, *args: str) -> str:
        args = tuple(str(a) for a in args)
        mg = self.management_group
        if args and "/" not in args[0]:
            mg, args = args[0], args[1:]
        if not mg:
            raise TemplateError("managementGroupResourceId() needs a management group")
        return f"{MG_PREFIX}{mg}/providers/" + resource_path(args[0], "/".join(args[1:]))

    # ------------------------------------------------------------------ lambda functions

    def f_map(self, items: list, fn: Any) -> list:
        return [self._apply(fn, x, i) for i, x in enumerate(items)]

    def f_filter(self, items: list, fn: Any) -> list:
        return [x for i, x in enumerate(items) if self._apply(fn, x, i)]

    def f_reduce(self, items: list, initial: Any, fn: Any) -> Any:
        for i, x in enumerate(items):
            initial = self._apply(fn, initial, x, i)
        return initial

    def f_sort(self, items: list, fn: Any) -> list:
        return sorted(items, key=cmp_to_key(lambda a, b: -1 if self._apply(fn, a, b) else
                                             (1 if self._apply(fn, b, a) else 0)))

    def f_toobject(self, items: list, key_fn: Any, value_fn: Any = None) -> dict:
        return {str(self._apply(key_fn, x)): (self._apply(value_fn, x) if value_fn is not None else x) for x in items}

    def f_groupby(self, items: list, fn: Any) -> dict:
        out: dict[str, list] = {}
        for x in items:
            out.setdefault(str(self._apply(fn, x)), []).append(x)
        return out

    def f_mapvalues(self, obj: dict, fn: Any) -> dict:
        return {k: self._apply(fn, v) for k, v in obj.items()}

    def f_flatten(self, arrays: list) -> list:
        return [x for a in arrays for x in (a if isinstance(a, list) else [a])]
