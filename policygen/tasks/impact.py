"""`policygen impact`: which resources of an inventory each policy would flag.

Two steps so the command can print warnings before the (long) evaluation: `prepare` loads policies
and the inventory, `run` evaluates them and keeps only the rows the chosen output shows.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.errors import Diagnostic, InputError

TABLE_ROWS = 20  # flagged resources listed per policy in the table view


@dataclass
class ImpactInputs:
    policies: list[tuple[str, Any]]  # (name, CompiledPolicy)
    skipped: list[str]  # definitions left out, with the reason
    inventory: list[dict]

    @property
    def bare(self) -> int:
        """Resources without `properties` (`az resource list` output): alias conditions see nothing."""
        return sum(1 for r in self.inventory if "properties" not in r)


@dataclass
class PolicyCounts:
    evaluated: int = 0
    noncompliant: int = 0
    denied: int = 0
    errors: int = 0
    flagged: int = 0


@dataclass
class ImpactResult:
    resources: int
    summary: list[dict[str, Any]]  # per policy, in the order loaded (the JSON view's `policies`)
    rows: list[Any] = field(default_factory=list)  # ImpactRow, as kept (see `run`)
    flagged: int = 0  # flagged pairs in all


def prepare(targets: Sequence[Path], resources: Path, *, parameters: Path | None = None,
            assignment: str | None = None, env: str | None = None,
            aliases: Sequence[Path] = ()) -> ImpactInputs:
    """Policies from packs (compiled once each) and definition files, and the parsed inventory."""
    from policygen.arm.aliases import load_catalogue
    from policygen.evaluate import load_inventory
    from policygen.evaluate.sources import load_parameters, policies_from_build, policies_from_files
    from policygen.intents.pack import is_pack
    from policygen.render import compile_pack

    overrides = load_parameters(parameters)
    catalogue = load_catalogue(list(aliases))
    missing = [Diagnostic(str(t), 0, 0, "no such file or folder") for t in targets if not t.exists()]
    if missing:
        raise InputError(missing)
    packs = [t for t in targets if is_pack(t)]
    files = [t for t in targets if not is_pack(t)]
    if assignment and not packs:
        raise InputError("--assignment needs a pack folder")
    policies: list[tuple[str, Any]] = []
    skipped: list[str] = []
    for pack in packs:
        found, skip = policies_from_build(compile_pack(pack, env=env), overrides, catalogue, assignment)
        policies.extend(found)
        skipped.extend(skip)
    if files:
        found, skip = policies_from_files(files, overrides, catalogue)
        policies.extend(found)
        skipped.extend(skip)
    return ImpactInputs(policies, skipped, load_inventory(resources))


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The parsed inventory, rows and scopes are acyclic: keep the cyclic GC from re-scanning them."""
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def run(inputs: ImpactInputs, *, keep_all: bool = False, per_policy: int | None = None, explain: bool = False,
        progress: Callable[[int], None] | None = None) -> ImpactResult:
    """Evaluate every applicable pair; keep flagged rows (all rows with `keep_all`), at most
    `per_policy` per policy when given (the table lists a few and counts the rest)."""
    from policygen.evaluate import evaluate_inventory

    counts: dict[str, PolicyCounts] = {}
    rows: list[Any] = []
    kept: dict[str, int] = {}
    with _no_cyclic_gc():
        for row in evaluate_inventory(inputs.policies, inputs.inventory, progress=progress, explain=explain):
            c = counts.get(row.policy)
            if c is None:
                c = counts[row.policy] = PolicyCounts()
            c.evaluated += 1
            c.noncompliant += row.compliant is False
            c.denied += row.denied
            c.errors += row.error is not None
            c.flagged += row.flagged
            if keep_all or row.flagged:
                n = kept.get(row.policy, 0)
                if per_policy is None or n < per_policy:
                    rows.append(row)
                    kept[row.policy] = n + 1
    flagged = sum(c.flagged for c in counts.values())
    return ImpactResult(len(inputs.inventory), _summary(inputs.policies, counts), rows, flagged)


def _summary(policies: Sequence[tuple[str, Any]], counts: dict[str, PolicyCounts]) -> list[dict[str, Any]]:
    out = []
    for name, pol in policies:
        c = counts.get(name) or PolicyCounts()
        out.append({"policy": name, "displayName": pol.display_name, "effect": pol.effect,
                    "evaluated": c.evaluated, "nonCompliant": c.noncompliant, "denied": c.denied,
                    "errors": c.errors, "flagged": c.flagged})
    return out
