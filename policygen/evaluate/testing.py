"""Policy unit tests: run a build's `TestCase`s (from the intents' `tests:` blocks) through the engine.

An `Expectation` field left unset is not checked; `modified` is a subset the remediated resource must
contain (objects compared key by key, case-insensitively, values with Azure's `equals`); `compliant:
true` is also met by a resource the policy does not apply to (Azure records no state for it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policygen.arm.aliases import AliasCatalogue
from policygen.artefacts import Artefact, TestCase
from policygen.evaluate.context import ContextError, context_from_mapping
from policygen.evaluate.errors import UnsupportedError
from policygen.evaluate.policy import CompiledPolicy, Outcome, compile_policy
from policygen.evaluate.runtime import EvalContext
from policygen.evaluate.values import loose_equals, show


@dataclass
class TestResult:
    __test__ = False

    case: TestCase
    passed: bool
    outcome: Outcome | None
    failures: list[str] = field(default_factory=list)


@dataclass
class TestRun:
    __test__ = False

    results: list[TestResult]
    seconds: float
    untested: list[str] = field(default_factory=list)  # definitions lacking a compliant or non-compliant case

    @property
    def failed(self) -> list[TestResult]:
        return [r for r in self.results if not r.passed]


def contains_subset(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        low = {str(k).lower(): v for k, v in actual.items()}
        return all(str(k).lower() in low and contains_subset(low[str(k).lower()], v) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(contains_subset(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return loose_equals(actual, expected)


def check(case: TestCase, out: Outcome) -> list[str]:
    exp = case.expect
    problems = []
    if exp.effect is not None and out.effect != exp.effect.lower():
        problems.append(f"expected effect {exp.effect.lower()}, got {out.effect or 'no effect'}")
    if exp.matched is not None and out.matched != exp.matched:
        problems.append(f"expected the if condition to be {str(exp.matched).lower()}, got {str(out.matched).lower()}")
    # `compliant: true` reads "not flagged": a resource the policy does not apply to (no state recorded,
    # policy-applicability page) satisfies it; `compliant: false` needs an actual non-compliant state.
    not_flagged = exp.compliant is True and not out.applicable and out.error is None
    if exp.compliant is not None and out.compliant != exp.compliant and not not_flagged:
        got = "not applicable (no compliance state)" if out.compliant is None else str(out.compliant).lower()
        problems.append(f"expected compliant={str(exp.compliant).lower()}, got {got}")
    if exp.modified is not None and not contains_subset(out.modified, exp.modified):
        problems.append(
            f"expected the remediated resource to contain {show(exp.modified, 200)}, got {show(out.modified, 200)}"
        )
    return problems


def run_tests(
    definitions: Mapping[str, Artefact],
    cases: Iterable[TestCase],
    *,
    catalogue: AliasCatalogue | None = None,
    context: EvalContext | None = None,
) -> TestRun:
    start = time.perf_counter()
    compiled: dict[tuple[str, str], CompiledPolicy | UnsupportedError] = {}
    results = []
    seen: dict[str, set[bool | None]] = {name: set() for name in definitions}
    for case in cases:
        art = definitions.get(case.definition)
        if art is None:
            results.append(TestResult(case, False, None, [f"no definition named {case.definition!r} in the build"]))
            continue
        if case.expect.compliant is not None:  # the side the case covers is what it expects, pass or fail
            seen[case.definition].add(case.expect.compliant)
        key = (case.definition, json.dumps(case.parameters, sort_keys=True, default=str))
        pol = compiled.get(key)
        if pol is None:
            try:
                pol = compile_policy(art.body, case.parameters, catalogue=catalogue)
            except UnsupportedError as exc:
                pol = exc
            compiled[key] = pol
        if isinstance(pol, UnsupportedError):
            results.append(TestResult(case, False, None, [f"cannot evaluate the definition: {pol}"]))
            continue
        case_context = context
        if case.context is not None:
            try:
                case_context = context_from_mapping(case.context)
            except ContextError as exc:
                results.append(TestResult(case, False, None, [f"context: {exc}"]))
                continue
        out = pol.evaluate(case.resource, related=case.related, context=case_context)
        problems = check(case, out)
        if case.expect.compliant is None and not problems:
            seen[case.definition].add(out.compliant)
        results.append(TestResult(case, not problems, out, problems))
    untested = sorted(name for name, states in seen.items() if not {True, False} <= states)
    return TestRun(results, time.perf_counter() - start, untested)
