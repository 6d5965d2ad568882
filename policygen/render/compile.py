"""compile_pack: load a pack's intents and render every artefact; write_build: sync them to a folder."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from policygen.artefacts import FOLDERS, Build, PackSettings
from policygen.errors import DiagnosticSink, InputError
from policygen.intents.kinds import load_table
from policygen.intents.load import load_pack
from policygen.intents.models import EnvironmentSpec
from policygen.render.assignments import Targets, render_assignments
from policygen.render.definitions import render_definition_intent
from policygen.render.exemptions import render_exemptions
from policygen.render.initiatives import render_initiative


def compile_pack(pack_dir: Path | str, env: str | None = None) -> Build:
    """Render the pack at `pack_dir` for environment `env` (default: the first one declared).

    Raises InputError with every problem found across all files.
    """
    pack = load_pack(Path(pack_dir))
    sink = DiagnosticSink()
    environments = pack.settings.environments
    env_name = env or next(iter(environments), None)
    env_spec: EnvironmentSpec | None = None
    if env_name is not None:
        env_spec = environments.get(env_name)
        if env_spec is None:
            raise InputError(
                f"{pack.settings_file}: no environment {env_name!r}; declared: {', '.join(environments) or 'none'}"
            )
    owner = (env_spec.ownerId if env_spec and env_spec.ownerId else None) or pack.settings.ownerId
    settings = PackSettings(
        name=pack.settings.name,
        owner_id=owner,
        definition_scope=(
            env_spec.definitionScope if env_spec and env_spec.definitionScope else pack.settings.definitionScope
        ),
        root=str(pack.root),
        version=pack.settings.version,
        default_category=pack.settings.defaultCategory,
        environments={k: v.model_dump() for k, v in environments.items()},
    )
    build = Build(pack=settings)
    table = load_table()
    by_intent = {}
    for loaded in pack.definitions:
        arts, tests = render_definition_intent(loaded, table, owner, settings.default_category, sink)
        by_intent[loaded.name] = arts
        for art in arts:
            if art.name in build.definitions:
                sink.add(
                    loaded.file,
                    *loaded.pos(),
                    f"definition name {art.name!r} is also produced by {build.definitions[art.name].source.file}",
                )
            build.definitions[art.name] = art
        build.tests.extend(tests)

    def def_id(kind_or_name: str, name: str | None = None) -> str:
        if name is None:
            return build.definition_id("definition", kind_or_name)
        return build.definition_id("definition" if kind_or_name == "definition" else "initiative", name)

    failed = set()
    for loaded in pack.initiatives:
        art = render_initiative(loaded, by_intent, def_id, owner, settings.default_category, sink)
        if art is not None:
            build.initiatives[art.name] = art
        else:
            failed.add(loaded.name)
    names = Counter(loaded.name for loaded in pack.assignments)  # one name in several intents: keyed by scope
    targets = Targets(env_spec, env_name, build.definitions, by_intent, build.initiatives, def_id, owner, sink)
    for loaded in pack.assignments:
        if loaded.model.initiative in failed or by_intent.get(loaded.model.definition or "") == []:
            continue  # its target failed and was reported already
        for art in render_assignments(loaded, targets, keyed=names[loaded.name] > 1):
            if art.key in build.assignments:  # two intents of one name whose scopes end alike
                where = art.placement.scope_at
                sink.add(where.file, where.line, where.col, f"assignment {art.name!r} at {art.placement.scope!r} "
                         f"is keyed {art.key!r} like {build.assignments[art.key].source.file}'s: use scope keys")
                continue
            build.assignments[art.key] = art
    failed_assignments = {a.name for a in pack.assignments} - {a.name for a in build.assignments.values()}
    for loaded in pack.exemptions:
        if loaded.model.assignment in failed_assignments:
            continue  # its assignment failed and was reported already
        for art in render_exemptions(loaded, env_spec, env_name, build.assignments, build.initiatives, owner, sink):
            build.exemptions[art.key] = art
    sink.raise_if_any()
    return build


@dataclass
class WriteSummary:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def write_build(build: Build, out_dir: Path | str) -> WriteSummary:
    """Write every artefact to out_dir/<folder>/<name>.json; remove stale JSON files from those folders."""
    out = Path(out_dir)
    summary = WriteSummary()
    wanted: set[Path] = set()
    for art in build.written():
        target = (out / art.relpath).resolve()
        if not target.is_relative_to(out.resolve()):
            raise InputError(f"{art.source}: artefact name {art.name!r} would be written outside {out}")
        wanted.add(target)
        text = art.text()
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            summary.unchanged.append(art.relpath)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        summary.written.append(art.relpath)
    for folder in FOLDERS.values():
        for stale in sorted((out / folder).glob("*.json")) if (out / folder).is_dir() else []:
            if stale.resolve() not in wanted:
                stale.unlink()
                summary.removed.append(f"{folder}/{stale.name}")
    return summary
