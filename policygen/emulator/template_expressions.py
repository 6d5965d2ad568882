"""ARM template expressions in one deployment's context (`templates` deploys; `effective` resolves parameters).

Expressions are parsed by the evaluator's parser and the pure ARM functions are the evaluator's; this module
adds only what belongs to a *deployment*: `parameters()`, `variables()`, `resourceGroup()`,
`subscription()`, `resourceId()` and friends, `reference()`, `copyIndex()`, `deployment()`. It reads the
emulator's state (for `reference()` and `resourceGroup()`) and never writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from policygen.arm.expressions import is_expression
from policygen.arm.scopes import MG_PREFIX
from policygen.emulator.context import Context
from policygen.emulator.core import copy_json

MAX_VARIABLE_DEPTH = 64  # variables('a') -> variables('b') -> ...
MAX_LAMBDA_WORK = 1_000_000  # lambda calls plus the members they return, per deployment context


class TemplateError(Exception):
    """A template that cannot be deployed (ARM's InvalidTemplate / DeploymentFailed)."""

    cause: str | None = None  # the innermost reason, when expressions nest (variables of variables)


def _engine() -> tuple[Callable[[str], tuple], dict[str, Callable[..., Any]], tuple[type[Exception], ...]]:
    from policygen.evaluate import functions
    from policygen.evaluate.errors import EvaluationFailure, UnsupportedError
    from policygen.evaluate.expr import parse

    # UnsupportedError: an expression the parser cannot read (e.g. a user-defined `namespace.function()`)
    return parse, functions.PURE, (EvaluationFailure, UnsupportedError)


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
    emulator: Context | None = None
    copy_indexes: dict[str, int] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)
    _lambda_frames: list[dict[str, Any]] = field(default_factory=list)
    _lambda_work: int = 0  # calls plus members returned, bounded (nested map() over range() would not be)

    def evaluate(self, value: Any) -> Any:
        """Evaluate every expression string inside a JSON value."""
        if isinstance(value, str):
            if is_expression(value):
                parse, _, failure = _engine()
                try:
                    return self._node(parse(value))
                except (*failure, TemplateError, KeyError, TypeError, IndexError, ValueError) as exc:
                    # the outermost expression and the root cause (not every variable in between)
                    cause = getattr(exc, "cause", None) or str(exc)
                    error = TemplateError(f"cannot evaluate {value}: {cause}")
                    error.cause = cause
                    raise error from exc
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
        if low == "lambda":  # its body is evaluated per item by map(), filter()... (template-functions-lambda)
            if not args:
                raise TemplateError("lambda() needs a body")
            return _Lambda(tuple(str(self._node(a)) for a in args[:-1]), args[-1])
        if low == "lambdavariables":
            var = str(self._node(args[0])) if args else ""
            for frame in reversed(self._lambda_frames):
                if var in frame:
                    return frame[var]
            raise TemplateError(f"lambdaVariables('{var}') is used outside a lambda that declares it")
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
        if len(self._resolving) >= MAX_VARIABLE_DEPTH:  # a chain of thousands would exhaust the stack
            raise TemplateError(f"variables refer to variables more than {MAX_VARIABLE_DEPTH} deep")
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
        rid = target if target.startswith("/") else self.f_resourceid(*split_type_name(target))
        found = lookup_any(self.emulator, rid)
        if not found:
            raise TemplateError(f"reference(): the resource '{rid}' is not found")
        full = any(str(r).lower() == "full" for r in rest)
        return copy_json(found) if full else copy_json(found.get("properties") or {})

    # ------------------------------------------------------------------ lambda functions

    def _apply(self, fn: Any, *values: Any) -> Any:
        if not isinstance(fn, _Lambda):
            raise TemplateError("expected a lambda() as the function argument")
        self._lambda_work += 1
        if self._lambda_work > MAX_LAMBDA_WORK:
            raise TemplateError(f"lambda functions do more than {MAX_LAMBDA_WORK:,} steps")
        self._lambda_frames.append(dict(zip(fn.params, values, strict=False)))
        try:
            out = self._node(fn.body)
        finally:
            self._lambda_frames.pop()
        if isinstance(out, (list, dict)):
            self._lambda_work += len(out)
        return out

    def f_map(self, items: list, fn: Any) -> list:
        return [self._apply(fn, x, i) for i, x in enumerate(items)]

    def f_filter(self, items: list, fn: Any) -> list:
        return [x for i, x in enumerate(items) if self._apply(fn, x, i)]

    def f_reduce(self, items: list, initial: Any, fn: Any) -> Any:
        for i, x in enumerate(items):
            initial = self._apply(fn, initial, x, i)
        return initial

    def f_sort(self, items: list, fn: Any) -> list:
        from functools import cmp_to_key

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

    def f_newguid(self) -> str:
        import uuid

        return str(uuid.uuid4())

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


@dataclass(frozen=True)
class _Lambda:
    """A `lambda('x', ..., body)` argument: parameter names and the unevaluated body."""

    params: tuple[str, ...]
    body: tuple


def child_type_name(parent_type: str, parent_name: str, rtype: str, name: str) -> tuple[str, str]:
    """A child declared in its parent's `resources`: a single-segment type and name composed with the parent's
    (Learn, child-resource-name-type); a full type (with its namespace) and full name are taken as they are."""
    full_type = rtype if "/" in rtype else f"{parent_type}/{rtype}"
    if "/" not in rtype and "/" in name:
        raise TemplateError(f"a child resource declared in its parent takes a single-segment name, not '{name}'")
    needed = len(full_type.split("/")) - 1
    segments = name.strip("/").split("/")
    if len(segments) >= needed:
        return full_type, name
    return full_type, "/".join([*parent_name.split("/")[: needed - len(segments)], *segments])


def split_type_name(text: str) -> tuple[str, ...]:
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


def lookup_any(emu: Context, object_id: str) -> dict | None:
    """Any emulated object by id, for `reference()`."""
    for kind in (
        "resources",
        "policyAssignments",
        "policyDefinitions",
        "policySetDefinitions",
        "roleAssignments",
        "policyExemptions",
        "deployments",
        "resourceGroups",
    ):
        found = emu.store.get(kind, object_id)
        if found is not None:
            return found
    return None
