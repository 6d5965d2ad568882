"""`policygen test`: compile a pack once and run the unit tests its definition intents declare."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policygen.artefacts import Build


@dataclass
class PolicyTestRun:
    build: Build
    run: Any  # evaluate.testing.TestRun
    keyword: str | None

    @property
    def failed(self) -> bool:
        return bool(self.run.failed)


def run_policy_tests(pack: Path, *, env: str | None = None, aliases: Sequence[Path] = (),
                     keyword: str | None = None, context: Path | None = None) -> PolicyTestRun:
    """Tests whose `definition::name` contains `keyword` (case-insensitive), all when None; `context` is a
    context file for every test (a test's own `context:` wins)."""
    from policygen.arm.aliases import load_catalogue
    from policygen.errors import InputError
    from policygen.evaluate.refusals import build_refusals
    from policygen.evaluate.testing import run_tests
    from policygen.render import compile_pack

    build = compile_pack(pack, env=env)
    cases = [c for c in build.tests if not keyword or keyword.lower() in f"{c.definition}::{c.name}".lower()]
    catalogue = load_catalogue(list(aliases))
    # a definition Azure would not have created is not tested: its validator errors, at the intent's line
    refused = build_refusals(build, catalogue, {c.definition for c in cases})
    if refused:
        raise InputError([d for name in sorted(refused) for d in refused[name]])
    from policygen.evaluate.context import load_context

    return PolicyTestRun(
        build, run_tests(build.definitions, cases, catalogue=catalogue, context=load_context(context)), keyword
    )
