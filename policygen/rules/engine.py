"""Run the rules over compiled packs, JSON files and folders: the validator's entry points.

The engine never compiles a pack: callers compile each pack once (`find_inputs(paths).packs`) and pass
the Build, so one command shares one compilation between validation, export and deployment.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from policygen.arm.aliases import default_catalogue
from policygen.artefacts import Build
from policygen.rules.base import Finding, Summary
from policygen.rules.checking import RunResult, validate_doc
from policygen.rules.inputs import Inputs, PackInput, find_inputs
from policygen.rules.json_input import SameContent, validate_json_file
from policygen.rules.parallel import check_chunks, workers_for
from policygen.rules.registry import run_collection

__all__ = ["validate_build", "validate_files"]


def _within(file: Path, only: Path) -> bool:
    """True when `file` is `only`, or lies under it when `only` is a folder."""
    file, only = file.resolve(), only.resolve()
    return file == only or (only.is_dir() and only in file.parents)


def validate_build(
    build: Build,
    *,
    catalogue: Any = None,
    only: Path | None = None,
    result: RunResult | None = None,
    summaries: list[Summary] | None = None,
) -> RunResult:
    """Validate a compiled pack as our own content; findings point at the intent YAML that made them.

    Args:
        only: report only findings whose source is this intent file (or lies under this folder).
        result, summaries: accumulate into a larger run (validate_files); None starts a run of its own.
    """
    own_run = result is None
    result = RunResult() if result is None else result
    summaries = [] if summaries is None else summaries
    catalogue = catalogue if catalogue is not None else default_catalogue()
    known: dict[str, dict] = {}
    for group, kind in ((build.definitions, "definition"), (build.initiatives, "initiative")):
        for name, art in group.items():
            known[name] = art.body
            known[build.definition_id(kind, name).lower()] = art.body
    for art in build.artefacts():
        result.objects += 1
        findings = validate_doc(
            art.body,
            kind=art.kind,
            source=art.relpath,
            own=True,
            custom=True,
            catalogue=catalogue,
            definitions=known,
            assignment_scope=art.scope,
            summaries=summaries,
        )
        for f in findings:
            ref = art.source_for(f.pointer)
            if only is not None and not _within(Path(ref.file), only):
                continue
            result.findings.append(
                Finding(
                    f.code,
                    f.severity,
                    f"{art.relpath}: {f.message}",
                    ref.file,
                    ref.line or None,
                    f.pointer,
                    ref.col or None,
                )
            )
    result.files += 1
    if own_run:
        result.findings.extend(run_collection(summaries))
        result.findings.sort(key=Finding.sort_key)
    return result


def validate_files(
    paths: Sequence[Path] | Inputs,
    *,
    catalogue: Any = None,
    escaped: bool | None = None,
    builds: Mapping[Path, Build | None] | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Validate policy JSON files and folders, and the packs among them from their compiled `builds`.

    `builds` maps each of `find_inputs(paths).packs` to its Build, or to None when the caller could not
    compile it (and reports why). The cyclic GC pauses for the run: it creates no garbage cycles worth
    collecting mid-run, and full collections over a 65,000-alias catalogue cost ~8% of a corpus run.
    `jobs`: worker processes for large JSON runs (None: every available core; 1: this process only);
    the result is the same whatever the number.
    """
    inputs = paths if isinstance(paths, Inputs) else find_inputs(paths)
    builds = builds or {}
    missing = [str(p) for p in inputs.packs if p not in builds]
    if missing:
        raise ValueError(f"intent packs not compiled by the caller: {', '.join(missing)}")
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _validate(inputs, builds, catalogue=catalogue, escaped=escaped, jobs=jobs)
    finally:
        if was_enabled:
            gc.enable()


def _validate(
    inputs: Inputs, builds: Mapping[Path, Build | None], *, catalogue: Any, escaped: bool | None, jobs: int | None
) -> RunResult:
    result = RunResult(diagnostics=list(inputs.diagnostics))
    cat = catalogue if catalogue is not None else default_catalogue()
    summaries: list[Summary] = []
    # Packs, and runs of consecutive JSON files (never across a pack, so the order stays the input's).
    steps: list[PackInput | list[tuple[str, bool]]] = []
    for item in inputs.items:
        if isinstance(item, PackInput):
            steps.append(item)
        elif steps and isinstance(steps[-1], list):
            steps[-1].append((item.path, item.explicit))
        else:
            steps.append([(item.path, item.explicit)])
    chunks = [step for step in steps if isinstance(step, list)]
    same = SameContent()
    workers = workers_for(sum(map(len, chunks)), jobs)
    done = iter(check_chunks(chunks, catalogue=cat, escaped=escaped, workers=workers) if workers > 1 else ())
    for step in steps:
        if isinstance(step, PackInput):
            build = builds[step.root]
            if build is not None:
                validate_build(build, catalogue=cat, only=step.only, result=result, summaries=summaries)
        elif workers > 1:
            part, part_summaries = next(done)
            result.extend(part)
            summaries.extend(part_summaries)
        else:
            for path, explicit in step:
                validate_json_file(
                    path, catalogue=cat, escaped=escaped, explicit=explicit, result=result, summaries=summaries,
                    same=same,
                )  # fmt: skip
    result.findings.extend(run_collection(summaries))
    result.findings.sort(key=Finding.sort_key)
    return result
