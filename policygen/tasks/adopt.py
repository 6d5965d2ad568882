"""`policygen import`: read an estate (Azure, EPAC, ALZ), write a pack, say what was lifted and what differs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from policygen.adopt.estate import Estate
from policygen.adopt.pack import Report, import_estate
from policygen.artefacts import Build, PackSettings
from policygen.errors import DiagnosticSink, InputError
from policygen.export.common import sync_tree
from policygen.intents.load import validate_model
from policygen.intents.models import PackFile
from policygen.intents.pack import SETTINGS_FILE
from policygen.intents.yamlload import load_yaml, to_plain


def pack_settings(pack: Path) -> PackFile:
    """Only `policygen.yaml` of the reference pack: its environments say where Azure is."""
    sink = DiagnosticSink()
    path = Path(pack) / SETTINGS_FILE
    if not path.is_file():
        raise InputError(f"{path}: missing; `policygen import --env` reads the environment from a pack's "
                         f"{SETTINGS_FILE} (run in a pack folder or pass its path)")
    settings = validate_model(PackFile, load_yaml(path, sink, str(path)), str(path), sink)
    sink.raise_if_any()
    assert settings is not None
    return settings


def from_azure(pack: Path, env: str, scopes: list[str], **options: Any) -> Report:
    from policygen.adopt.azure import read_estate
    from policygen.azure.target import resolve_target
    from policygen.azure.workflow import connect

    settings = pack_settings(pack)
    if env not in settings.environments:
        raise InputError(f"{Path(pack) / SETTINGS_FILE}: no environment {env!r}; declared: "
                         f"{', '.join(settings.environments) or 'none'}")
    spec = settings.environments[env]
    definition_scope = spec.definitionScope or settings.definitionScope
    envs = {k: v.model_dump(exclude_none=True) for k, v in settings.environments.items()}
    build = Build(PackSettings(settings.name, settings.ownerId, definition_scope, str(pack), environments=envs))
    target = resolve_target(build, env)
    arm = connect(target)
    try:
        raw = to_plain(spec.model_dump(exclude_none=True))
        estate = read_estate(arm, env=env, spec=raw, definition_scope=definition_scope,
                             scopes=scopes or [definition_scope, *target.scopes.values()])
    finally:
        arm.clients.close()
    return import_estate(estate, options.pop("name", None) or settings.name, **options)


def from_files(fmt: str, path: Path, env: str | None, builtins: Path | None = None, **options: Any) -> Report:
    """Read an EPAC `Definitions/` tree or an ALZ library; `builtins` (azure-policy layout) lets EPAC trees
    whose CSV parameter files or identities depend on built-in definitions be read as EPAC reads them."""
    if builtins is not None and not Path(builtins).is_dir():
        raise InputError(f"{builtins}: --builtins must be a folder (azure-policy layout: policyDefinitions/, "
                         "policySetDefinitions/)")
    if fmt == "epac":
        from policygen.adopt.epac import read_tree

        estate: Estate = read_tree(path, env, builtins)
    else:
        from policygen.adopt.alz import read_library

        estate = read_library(path, env, options.pop("cloud", None))
    name = options.pop("name", None) or _name_from(path)
    return import_estate(estate, name, **options)


def _name_from(path: Path) -> str:
    stem = Path(path).resolve().name.lower()
    if stem in ("definitions", "lib", "library", ""):
        stem = Path(path).resolve().parent.name.lower() or "imported"
    return re.sub(r"[^a-z0-9-]+", "-", stem).strip("-")[:63] or "imported"


def write(report: Report, out: Path, *, force: bool = False) -> Report:
    """Write the pack (the folder is policygen's, as for export: stale files removed, foreign folders refused)."""
    sync_tree(out, report.files, force=force)
    report.out = str(out)
    return report
