"""Export a pack in a landing-zone engine's native form (EPAC, ALZ library, ARM, Bicep, Terraform).

Each format module has `render(pack_dir, env) -> {relative path: text}`: pure and deterministic (sorted
keys and names, no timestamps). `export_pack` writes that set into an output folder it owns and keeps
synchronised (stale files removed, nothing outside the folder touched).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from policygen.errors import InputError
from policygen.export.common import SyncSummary, default_environment, sync_tree


@dataclass(frozen=True)
class Format:
    name: str
    module: str
    summary: str

    def renderer(self) -> Callable[[Path, str | None], dict[str, str]]:
        return importlib.import_module(f"policygen.export.{self.module}").render


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("epac", "epac", "EPAC Definitions/ tree (global-settings, definitions, sets, assignment trees)"),
    Format("alz", "alz", "Azure Landing Zones library member (assets, archetypes, metadata, default values)"),
    Format("arm", "arm", "ARM deployment template at management-group scope"),
    Format("bicep", "bicep", "Bicep at management-group scope with the policy JSON loaded from files"),
    Format("terraform", "terraform", "Terraform azurerm module (definitions, sets, assignments, roles, remediations)"),
)}


def render_format(pack_dir: Path | str, fmt: str, env: str | None = None) -> dict[str, str]:
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    if env is None and fmt != "epac":  # EPAC maps every Azure environment to a pacSelector itself
        env = default_environment(pack_dir)
    return FORMATS[fmt].renderer()(Path(pack_dir), env)


def export_pack(pack_dir: Path | str, fmt: str, out_dir: Path | str, env: str | None = None,
                force: bool = False) -> SyncSummary:
    """Render `fmt` and synchronise `out_dir` with it; refuses to write inside the pack's own intents."""
    files = render_format(pack_dir, fmt, env)
    out, pack = Path(out_dir).resolve(), Path(pack_dir).resolve()
    if out == pack or pack.is_relative_to(out):
        raise InputError(f"{out_dir}: the output folder would contain the pack itself; choose a separate folder")
    return sync_tree(out, files, force=force)


__all__ = ["FORMATS", "Format", "export_pack", "render_format", "SyncSummary"]
