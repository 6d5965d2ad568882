"""Export a pack in a landing-zone engine's native form (EPAC, ALZ library, ARM, Bicep, Terraform).

Each format module has `render(build) -> {relative path: text}` (EPAC also takes the pacSelector): pure
and deterministic (sorted keys and names, no timestamps). The command compiles the pack once
(`compile_for_export`); `export_pack` writes the set into an output folder it owns and keeps synchronised
(stale files removed, nothing outside the folder touched).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from policygen.artefacts import Build
from policygen.errors import InputError
from policygen.export.common import SyncSummary, default_environment, sync_tree


@dataclass(frozen=True)
class Format:
    name: str
    module: str
    summary: str

    def renderer(self) -> Callable[..., dict[str, str]]:
        return importlib.import_module(f"policygen.export.{self.module}").render


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("epac", "epac", "EPAC Definitions/ tree (global-settings, definitions, sets, assignment trees)"),
    Format("alz", "alz", "Azure Landing Zones library member (assets, archetypes, metadata, default values)"),
    Format("arm", "arm", "ARM deployment template at management-group scope"),
    Format("bicep", "bicep", "Bicep at management-group scope with the policy JSON loaded from files"),
    Format("terraform", "terraform", "Terraform azurerm module (definitions, sets, assignments, roles, remediations)"),
)}


def compile_for_export(pack_dir: Path | str, env: str | None = None) -> Build:
    """The one Build an export or the docs need: for `env`, else the first Azure environment (exports
    target Azure, not the emulator; EPAC places it in every other Azure environment itself)."""
    from policygen.render import compile_pack

    return compile_pack(pack_dir, env or default_environment(pack_dir))


def render_format(build: Build, fmt: str, env: str | None = None) -> dict[str, str]:
    """`env` matters to EPAC only: that pacSelector alone (default: every Azure environment)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    render = FORMATS[fmt].renderer()
    return render(build, env) if fmt == "epac" else render(build)


def export_pack(build: Build, fmt: str, out_dir: Path | str, env: str | None = None,
                force: bool = False) -> SyncSummary:
    """Render `fmt` and synchronise `out_dir` with it; refuses to write inside the pack's own intents."""
    files = render_format(build, fmt, env)
    out, pack = Path(out_dir).resolve(), Path(build.pack.root).resolve()
    if out == pack or pack.is_relative_to(out):
        raise InputError(f"{out_dir}: the output folder would contain the pack itself; choose a separate folder")
    return sync_tree(out, files, force=force)


__all__ = ["FORMATS", "Format", "compile_for_export", "export_pack", "render_format", "SyncSummary"]
