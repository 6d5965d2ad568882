"""What `policygen check` deploys: ARM templates expanded offline, or ARM resource JSON as given.

Templates go through the emulator's expression engine (parameters, variables, `copy`, `condition`, the pure
template functions) without an emulator behind it. `reference()` and `list*()` read a live deployment, so
they are never guessed: the property they feed keeps a SYMBOLIC placeholder and is listed per resource, and
`check` reports the resource as undecidable when a policy's outcome reads it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.emulator.template_expressions import Expressions, TemplateError, resource_path
from policygen.errors import Diagnostic, InputError
from policygen.evaluate.inventory import load_json_file, resources_from_json

SYMBOLIC = "<symbolic until deployment: "  # prefix of the placeholder a reference()/list*() value becomes
MAX_COPY = 800  # ARM's limit on a copy loop's count


@dataclass
class Placed:
    """One resource of the deployment, at its ARM id."""

    resource: dict[str, Any]  # the ARM body the request would carry (with `id`)
    source: str  # the file that declares it
    line: int  # line of its `"type"` key (1 when not found)
    symbolic: list[str] = field(default_factory=list)  # JSON paths whose value needs reference()/list*()
    unplaced: str | None = None  # its type, name, condition or copy count needs reference()/list*()

    @property
    def id(self) -> str:
        return str(self.resource.get("id", ""))


class _Symbolic(Exception):
    """An expression calls reference() or list*(): its value exists only during a real deployment."""


class _SymbolicExpressions(Expressions):
    def _node(self, node: tuple) -> Any:
        if node[0] == "call" and (node[1] == "reference" or node[1].startswith("list")):
            raise _Symbolic(node[2])
        return super()._node(node)


def _evaluate(ctx: Expressions, value: Any, path: str, symbolic: list[str]) -> Any:
    """Evaluate every leaf; a leaf that needs reference()/list*() becomes the placeholder."""
    if isinstance(value, str):
        try:
            return ctx.evaluate(value)
        except _Symbolic:
            symbolic.append(path or "/")
            return f"{SYMBOLIC}{value}>"
    if isinstance(value, list):
        return [_evaluate(ctx, v, f"{path}/{i}", symbolic) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _evaluate(ctx, v, f"{path}/{k}", symbolic) for k, v in value.items()}
    return value


def is_template(data: Any) -> bool:
    return isinstance(data, dict) and "resources" in data and (
        "$schema" in data or "contentVersion" in data or "parameters" in data or "variables" in data)


def load(paths: list[Path], *, scope: str, location: str, parameters: dict[str, Any]) -> list[Placed]:
    """Every resource of the templates / resource files / folders in `paths`, placed under `scope`
    (a resource group or subscription id); every unusable input is reported at once."""
    problems: list[Diagnostic] = []
    placed: list[Placed] = []
    for path in paths:
        if not path.exists():
            problems.append(Diagnostic(str(path), 0, 0, "no such file or folder"))
            continue
        for f in sorted(path.rglob("*.json")) if path.is_dir() else [path]:
            try:
                data = load_json_file(f, "deployment")
                if is_template(data):
                    placed.extend(_expand(f, data, scope, location, parameters, problems))
                else:
                    placed.extend(_as_given(f, data, scope))
            except InputError as exc:
                problems.extend(exc.diagnostics)
    if problems:
        raise InputError(problems)
    return placed


def _as_given(f: Path, data: Any, scope: str) -> list[Placed]:
    text = f.read_text(encoding="utf-8-sig", errors="replace")
    lines = _TypeLines(text)
    out = []
    for r in resources_from_json(data, str(f)):
        rtype, name = r.get("type"), r.get("name")
        if not (isinstance(r.get("id"), str) and r["id"].startswith("/")):
            if not isinstance(rtype, str) or not isinstance(name, str):
                raise InputError(Diagnostic(str(f), lines.find(rtype), 1, "a resource needs an id, or a type and name"))
            try:
                r = {**r, "id": f"{scope}/providers/{resource_path(rtype, name)}"}
            except TemplateError as exc:
                raise InputError(Diagnostic(str(f), lines.find(rtype), 1, str(exc))) from None
        out.append(Placed(r, str(f), lines.find(rtype)))
    return out


def _expand(f: Path, template: dict, scope: str, location: str, given: dict[str, Any],
            problems: list[Diagnostic]) -> list[Placed]:
    from policygen.arm.scopes import subscription_and_group

    sub, rg = subscription_and_group(scope)
    ctx = _SymbolicExpressions(subscription_id=sub or "", resource_group=rg, location=location,
                               deployment_name=f.stem)
    lines = _TypeLines(f.read_text(encoding="utf-8-sig", errors="replace"))
    shapes = (("parameters", dict), ("variables", dict), ("resources", (list, dict)))
    wrong = [k for k, t in shapes if template.get(k) is not None and not isinstance(template.get(k), t)]
    if wrong or template.get("resources") is None:
        for k in wrong or ["resources"]:
            problems.append(Diagnostic(str(f), 1, 1, f"the template's '{k}' must be "
                                       + ("an object" if k != "resources" else "an array of resources")))
        return []
    declared = template.get("parameters") or {}
    values = {k.lower(): (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in given.items()}
    before = len(problems)
    for pname, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        try:
            if pname.lower() in values:
                ctx.parameters[pname] = values[pname.lower()]
            elif "defaultValue" in spec:
                ctx.parameters[pname] = ctx.evaluate(spec["defaultValue"])
            else:
                problems.append(Diagnostic(str(f), 1, 1, f"the template parameter '{pname}' has no value "
                                           "(give it with --parameters)"))
                continue
        except (TemplateError, _Symbolic) as exc:
            problems.append(Diagnostic(str(f), 1, 1, f"parameter '{pname}': {exc}"))
            continue
        allowed = spec.get("allowedValues")
        if allowed is not None and ctx.parameters[pname] not in allowed:
            problems.append(Diagnostic(str(f), 1, 1, f"the value of parameter '{pname}' is not one of {allowed}"))
    if len(problems) > before:
        return []
    ctx.variables = dict(template.get("variables") or {})
    raw = template["resources"]
    items = list(raw.values()) if isinstance(raw, dict) else list(raw)
    out: list[Placed] = []
    for res in items:
        if not isinstance(res, dict):
            continue
        line = lines.find(res.get("type"))
        try:
            out.extend(_instances(ctx, res, scope, str(f), line))
        except _Symbolic as exc:
            why = f"its type, name, condition or copy count needs {exc}() (known only during deployment)"
            stub = {"id": "", "type": str(res.get("type", "")), "name": str(res.get("name", ""))}
            out.append(Placed(stub, str(f), line, ["/name"], why))
        except TemplateError as exc:
            problems.append(Diagnostic(str(f), line, 1, f"resource {res.get('name')!r}: {exc}"))
    return out


def _instances(ctx: Expressions, res: dict, scope: str, source: str, line: int) -> list[Placed]:
    copy = res.get("copy")
    indexes: list[dict[str, int]] = [{}]
    if isinstance(copy, dict):
        count = ctx.evaluate(copy.get("count", 0))
        if not isinstance(count, int) or not 0 <= count <= MAX_COPY:
            raise TemplateError(f"copy count must be an integer from 0 to {MAX_COPY}, not {count!r}")
        indexes = [{str(copy.get("name", "copy")).lower(): i} for i in range(count)]
    out = []
    for idx in indexes:
        ctx.copy_indexes = idx
        try:
            if "condition" in res and not ctx.evaluate(res["condition"]):
                continue
            rtype, name = ctx.evaluate(res.get("type", "")), ctx.evaluate(res.get("name", ""))
            if not (isinstance(rtype, str) and "/" in rtype and isinstance(name, str) and name):
                raise TemplateError("a template resource needs a type 'Namespace/type' and a name, both strings")
            if rtype.lower() == "microsoft.resources/deployments":
                raise TemplateError("nested deployments are not expanded by check yet")
            symbolic: list[str] = []
            body = {k: _evaluate(ctx, v, f"/{k}", symbolic) for k, v in res.items()
                    if k not in _DEPLOYMENT_ONLY and k not in ("type", "name", "id")}
            rid = f"{scope}/providers/{resource_path(rtype, name)}"
            out.append(Placed({"id": rid, "type": rtype, "name": name.rsplit("/", 1)[-1], **body}, source, line,
                              symbolic))
        finally:
            ctx.copy_indexes = {}
    return out


_DEPLOYMENT_ONLY = ("apiVersion", "dependsOn", "condition", "copy", "scope", "comments", "resourceGroup",
                    "subscriptionId", "resources")


class _TypeLines:
    """Line of each resource's `"type"` key: the n-th declaration of a type is its n-th occurrence."""

    def __init__(self, text: str):
        self.text = text
        self.seen: dict[str, int] = {}

    def find(self, rtype: Any) -> int:
        if not isinstance(rtype, str):
            return 1
        pattern = re.compile(r'"type"\s*:\s*' + re.escape(json.dumps(rtype)))
        n = self.seen.get(rtype, 0)
        self.seen[rtype] = n + 1
        for i, m in enumerate(pattern.finditer(self.text)):
            if i == n:
                return self.text.count("\n", 0, m.start()) + 1
        return 1
