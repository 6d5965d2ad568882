"""CLI commands of the export area: `export`, `docs` and `init`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from policygen.errors import ExitCode


class ExportFormat(StrEnum):
    epac = "epac"
    alz = "alz"
    arm = "arm"
    bicep = "bicep"
    terraform = "terraform"


class CiKind(StrEnum):
    github = "github"
    azure_pipelines = "azure-pipelines"


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""

    @app.command("export")
    def export_cmd(
        pack: Path = typer.Argument(Path("."), help="Pack folder (with policygen.yaml)."),
        fmt: ExportFormat = typer.Option(..., "--format", "-f", help="Target engine's format."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder; owned by policygen and kept in sync."),
        env: str = typer.Option(None, "--env", "-e",
                                help="Environment (default: EPAC all Azure ones, other formats the first Azure one)."),
        force: bool = typer.Option(False, "--force", help="Replace a non-empty folder policygen did not write."),
    ) -> None:
        """Export the pack for a landing zone: EPAC, ALZ library, ARM, Bicep or Terraform."""
        from policygen.export import compile_for_export, export_pack
        from policygen.views.export import render_sync

        build = compile_for_export(pack, env)
        render_sync(fmt.value, export_pack(build, fmt.value, out, env=env, force=force))
        raise typer.Exit(int(ExitCode.OK))

    @app.command("docs")
    def docs_cmd(
        pack: Path = typer.Argument(Path("."), help="Pack folder (with policygen.yaml)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder for the Markdown; kept in sync."),
        env: str = typer.Option(None, "--env", "-e",
                                help="Environment whose scopes are shown (default: the first Azure one)."),
        force: bool = typer.Option(False, "--force", help="Replace a non-empty folder policygen did not write."),
    ) -> None:
        """Write Markdown documentation: initiatives, assignments and a compliance view by group."""
        from policygen.export import compile_for_export
        from policygen.export.common import sync_tree
        from policygen.export.docs import render_docs
        from policygen.views.export import render_sync

        render_sync("docs", sync_tree(out, render_docs(compile_for_export(pack, env)), force=force))
        raise typer.Exit(int(ExitCode.OK))

    @app.command("init")
    def init_cmd(
        folder: Path = typer.Argument(..., help="Folder for the new pack (created if missing)."),
        ci: CiKind = typer.Option(CiKind.github, "--ci", help="CI workflow to scaffold."),
        name: str = typer.Option(None, "--name", help="Pack name (default: from the folder name)."),
        force: bool = typer.Option(False, "--force",
                                   help="Write into a non-empty folder, replacing files of the same name."),
    ) -> None:
        """Scaffold a pack: settings, example intents with tests, and a CI workflow (validate, test, plan, apply)."""
        from policygen.export.scaffold import scaffold
        from policygen.views.export import render_scaffold

        render_scaffold(folder, scaffold(folder, ci=ci.value, name=name, force=force))
        raise typer.Exit(int(ExitCode.OK))
