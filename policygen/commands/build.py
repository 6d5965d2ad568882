"""`policygen build` and `policygen schema`: render a pack to REST-form JSON; emit editor schemas."""

from __future__ import annotations

from pathlib import Path

import typer

from policygen.errors import ExitCode

PACK_ARG = typer.Argument(Path("."), help="Pack folder (contains policygen.yaml).", show_default=True)
ENV_OPT = typer.Option(None, "--env", "-e", help="Environment from policygen.yaml (default: the first declared).")


def register(app: typer.Typer) -> None:
    app.command("build")(build)
    app.command("schema")(schema)


def build(
    pack: Path = PACK_ARG,
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output folder; stale files in it are removed."),
    env: str | None = ENV_OPT,
    skip_validation: bool = typer.Option(False, "--skip-validation",
                                         help="Write the output even when the validator reports errors."),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="A previous build folder to check version bumps against (default: --out)."),
    no_version_check: bool = typer.Option(False, "--no-version-check",
                                          help="Skip the breaking-change check of definition versions."),
) -> None:
    """Render intents into policy definitions, initiatives and assignments (REST-form JSON).

    Output is deterministic: keys and files sorted, two builds byte-identical. The validator runs first:
    errors stop the build (exit 1) unless --skip-validation. Each definition and initiative is compared with
    the previous build (--baseline, default the --out folder): a breaking change needs a major version bump,
    an added optional parameter or metadata a minor one, anything else a patch (exit 1 otherwise).
    """
    from policygen.render import compile_pack, write_build
    from policygen.tasks.validate import validation_errors
    from policygen.views.build import render_build
    from policygen.views.console import echo
    from policygen.views.findings_text import render_refusal

    build = compile_pack(pack, env=env)
    errors = [] if skip_validation else validation_errors(build)
    if errors:
        echo(render_refusal(errors, "build"), nl=False, err=True)
        raise typer.Exit(ExitCode.FINDINGS)
    if not no_version_check:
        from policygen.render.versions import compare_builds, read_build
        from policygen.views.build import render_version_problems

        problems = compare_builds(read_build(baseline or out), build)
        if problems:
            render_version_problems(problems)
            raise typer.Exit(ExitCode.FINDINGS)
    render_build(build, write_build(build, out), out)
    raise typer.Exit(ExitCode.OK)


def schema(
    out: Path = typer.Option(Path("schemas"), "--out", "-o", help="Folder for the four JSON Schema files."),
) -> None:
    """Write JSON Schemas for policygen.yaml and the three intent kinds (for editor autocompletion).

    Wire them with a first line such as `# yaml-language-server: $schema=../schemas/definition.schema.json`.
    """
    from policygen.intents.schema import write_schemas
    from policygen.views.build import render_schemas

    render_schemas(write_schemas(out))
