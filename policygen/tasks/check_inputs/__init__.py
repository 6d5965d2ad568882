"""What `policygen check` reads: every deployment form, expanded to ARM bodies placed at their ids.

- ARM templates (`template`): parameters, variables, copy (resources, properties, variables), conditions,
  child resources, nested deployments, deployment scopes from `$schema`, languageVersion 2.0;
- `az deployment ... what-if` and `... validate` output (`whatif`): the bodies ARM expanded;
- `terraform show -json` plans (`terraform`): azapi_resource bodies at their parent_id;
- files or folders of ARM resource JSON: the bodies as given, placed under `--scope` when they carry no id.
Every file is parsed once with its positions (`jsondoc`), so each resource carries the line that declares it
(SARIF) and every unusable input is reported at once with `file:line:col`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policygen.arm.scopes import ScopeError, parse_scope
from policygen.errors import Diagnostic, InputError
from policygen.evaluate.inventory import resources_from_json
from policygen.tasks.check_inputs import jsondoc, template, terraform, whatif
from policygen.tasks.check_inputs.placed import SYMBOLIC, Placed
from policygen.templates.names import TemplateError, resource_path

__all__ = ["SYMBOLIC", "Placed", "is_template", "load"]


def is_template(data: Any) -> bool:
    return isinstance(data, dict) and "resources" in data and (
        "$schema" in data or "contentVersion" in data or "parameters" in data or "variables" in data)


def load(paths: list[Path], *, scope: str, location: str, parameters: dict[str, Any]) -> list[Placed]:
    """Every resource of the deployments in `paths` (files or folders), placed; `scope` is where templates and
    id-less resource files deploy (what-if output and plans carry their own ids)."""
    problems: list[Diagnostic] = []
    placed: list[Placed] = []
    for path in paths:
        if not path.exists():
            problems.append(Diagnostic(str(path), 0, 0, "no such file or folder"))
            continue
        for f in sorted(path.rglob("*.json")) if path.is_dir() else [path]:
            try:
                placed.extend(_one(jsondoc.read(f), scope, location, parameters, problems))
            except InputError as exc:
                problems.extend(exc.diagnostics)
    if problems:
        raise InputError(problems)
    return placed


def _one(doc: jsondoc.Document, scope: str, location: str, parameters: dict[str, Any],
         problems: list[Diagnostic]) -> list[Placed]:
    data = doc.data
    if terraform.is_plan(data):
        return terraform.from_plan(doc, data, problems)
    changes = whatif.changes_of(data)
    if changes is not None:
        return whatif.from_whatif(doc, changes)
    validated = whatif.validated_of(data)
    if validated is not None:
        return whatif.from_validate(doc, validated)
    if is_template(data):
        target = template.target_for(doc, data, scope)
        if isinstance(target, Diagnostic):
            problems.append(target)
            return []
        return template.expand(doc, data, target, location, parameters, problems)
    if isinstance(data, dict) and "deploymentparameters" in str(data.get("$schema", "")).lower():
        problems.append(doc.at(data, "this is a template parameters file: give it with --parameters", "$schema"))
        return []
    return _as_given(doc, scope)


def _as_given(doc: jsondoc.Document, scope: str) -> list[Placed]:
    out = []
    try:
        resources = resources_from_json(doc.data, doc.name)
    except InputError:
        raise InputError(Diagnostic(doc.name, 1, 1, "not a deployment check reads: expected an ARM template, what-if "
                                    "or validate output, a 'terraform show -json' plan, or ARM resource JSON (one "
                                    "resource, an array, or {\"value\": [...]})")) from None
    for r in resources:
        rtype, name, line = r.get("type"), r.get("name"), doc.line(r)
        rid = r.get("id")
        if not (isinstance(rid, str) and _is_id(rid)):
            if not isinstance(rtype, str) or not isinstance(name, str):
                raise InputError(Diagnostic(doc.name, line, 1, "a resource needs an id, or a type and name"))
            try:
                rid = f"{scope}/providers/{resource_path(rtype, name)}"
            except TemplateError as exc:
                raise InputError(Diagnostic(doc.name, line, 1, str(exc))) from None
            if not _is_id(rid):
                raise InputError(Diagnostic(doc.name, line, 1, f"'{rtype}' named '{name}' gives no resource id"))
        out.append(Placed({**r, "id": rid}, doc.name, line))
    return out


def _is_id(text: str) -> bool:
    if not text.startswith("/"):
        return False
    try:
        return parse_scope(text).id != "/"
    except ScopeError:
        return False
