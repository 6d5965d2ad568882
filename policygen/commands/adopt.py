"""CLI command of the adopt area: `policygen import`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from policygen.errors import ExitCode


class Source(StrEnum):
    epac = "epac"
    alz = "alz"


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_cmd(
        pack: Path = typer.Argument(Path("."), help="Pack whose policygen.yaml names the environment (--env)."),
        out: Path = typer.Option(..., "--out", "-o", help="Folder for the new pack; owned by policygen."),
        env: str = typer.Option(None, "--env", "-e",
                                help="Environment to read (Azure), or the EPAC pacSelector / ALZ scope set."),
        scope: list[str] = typer.Option([], "--scope", help="ARM scope to read (repeatable; default: the "
                                        "environment's definition scope and scope keys)."),
        source: Source = typer.Option(None, "--from", help="Read files instead of Azure: epac or alz."),
        path: Path = typer.Option(None, "--path", help="With --from: the EPAC Definitions/ or ALZ library folder "
                                  "(default: PACK)."),
        name: str = typer.Option(None, "--name", help="Name of the new pack."),
        adopt: bool = typer.Option(False, "--adopt", help="Make this pack the owner of what it imports on the "
                                   "next apply (the plan shows each adoption)."),
        owner_id: str = typer.Option(None, "--owner-id", help="Owner id of the new pack (default: the marker "
                                     "most objects carry)."),
        force: bool = typer.Option(False, "--force", help="Replace a non-empty folder policygen did not write."),
        builtins: Path = typer.Option(None, "--builtins", help="With --from epac: built-in definitions folder "
                                      "(azure-policy layout), for CSV parameter files of built-in sets."),
        cloud: str = typer.Option(None, "--cloud", help="With --from alz: the cloud whose <name>.<cloud>.json "
                                  "variants to read (AzureCloud, AzureChinaCloud, AzureUSGovernment; default: "
                                  "AzureCloud)."),
    ) -> None:
        """Bring an existing estate under policygen: Azure (or the emulator), an EPAC tree or an ALZ library."""
        from policygen.tasks import adopt as task
        from policygen.views.adopt import render_import

        options = {"name": name, "adopt": adopt, "owner_id": owner_id}
        if cloud is not None:
            if source is not Source.alz:
                raise typer.BadParameter("--cloud is for --from alz (an EPAC tree or Azure says its cloud itself)")
            options["cloud"] = cloud
        if source is None:
            if not env:
                raise typer.BadParameter("--env is required when reading Azure (or pass --from epac|alz)")
            report = task.from_azure(pack, env, list(scope), **options)
        else:
            report = task.from_files(source.value, path or pack, env, builtins, **options)
        render_import(task.write(report, out, force=force))
        raise typer.Exit(int(ExitCode.OK))
