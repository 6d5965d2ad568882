"""`policygen impact`: which resources of an inventory each policy would flag.

Two steps so the command can print warnings before the (long) evaluation: `prepare` loads policies
and the inventory, `run` evaluates them and keeps only the rows the chosen output shows.
"""

from __future__ import annotations

import contextlib
import gc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from policygen.arm.scopes import subscription_and_group
from policygen.errors import Diagnostic, InputError

TABLE_ROWS = 20  # flagged resources listed per policy in the table view
_RESOURCE_ID = itemgetter(1)  # of a row tuple (ImpactRow's fields in order)
_OUTCOME = itemgetter(0, 5, 6, 7)  # policy, compliant, denied, error
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)


@dataclass
class ImpactInputs:
    policies: list[tuple[str, Any]]  # (name, CompiledPolicy)
    skipped: list[str]  # definitions left out, with the reason
    inventory: Any  # list[dict], or for worker processes evaluate.parallel.Packed or evaluate.slices.Sliced
    gate: Any = None  # evaluate.assignment_gate.Gate with --assignment: selectors, overrides, exemptions

    @property
    def bare(self) -> int:
        """Resources without `properties` (`az resource list` output): alias conditions see nothing."""
        bare = getattr(self.inventory, "bare", None)
        return bare if bare is not None else sum(1 for r in self.inventory if "properties" not in r)


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
    scopes: list[dict[str, Any]] = field(default_factory=list)  # per subscription, sorted by id


def prepare(targets: Sequence[Path], resources: Path | Sequence[Path], *, parameters: Path | None = None,
            assignment: str | None = None, env: str | None = None,
            aliases: Sequence[Path] = (), jobs: int = 1, defer: bool = False) -> ImpactInputs:
    """Policies from packs (compiled once each) and definition files, and the parsed inventory (one
    file, or several / folders of pages, streamed; packed in batches for `jobs` > 1 workers).

    With `defer`, one JSON array / NDJSON file for workers is only cut into slices here: `run` has it
    read once, by the workers that evaluate it, and calls its `begin` once it is counted (the count,
    `len(inputs.inventory)`, and `inputs.bare` are known from then)."""
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
    from policygen.evaluate.assignment_gate import Gate

    gate = Gate({}) if assignment else None
    for pack in packs:
        found, skip = policies_from_build(compile_pack(pack, env=env), overrides, catalogue, assignment, gate)
        policies.extend(found)
        skipped.extend(skip)
    if files:
        found, skip = policies_from_files(files, overrides, catalogue)
        policies.extend(found)
        skipped.extend(skip)
    from policygen.evaluate.parallel import can_pack

    if jobs > 1 and can_pack(policies):
        paths = [resources] if isinstance(resources, Path) else list(resources)
        import multiprocessing

        if defer and "fork" in multiprocessing.get_all_start_methods():
            from policygen.evaluate.slices import planned

            sliced = planned(paths, jobs)
            if sliced is not None:
                return ImpactInputs(policies, skipped, sliced, gate)
        return ImpactInputs(policies, skipped, _for_workers(paths, policies, jobs), gate)
    return ImpactInputs(policies, skipped, load_inventory(resources), gate)


def _for_workers(paths: list[Path], policies: list[tuple[str, Any]], jobs: int) -> Any:
    from policygen.evaluate.parallel import pack
    from policygen.evaluate.slices import scan
    from policygen.evaluate.stream import iter_resources

    sliced = scan(paths, policies, jobs)  # one JSON array / NDJSON file: workers parse its slices
    if sliced is not None:
        return sliced
    enabled = gc.isenabled()
    gc.disable()  # parsed JSON is acyclic
    try:
        return pack(iter_resources(paths), policies)
    finally:
        if enabled:
            gc.enable()


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
        progress: Callable[[int], None] | None = None, jobs: int = 1,
        encode: Callable[[list[Any]], Any] | None = None, emit: Callable[[Any], None] | None = None,
        context: Any = None, direct: Any = None, begin: Callable[[], None] | None = None) -> ImpactResult:
    """Evaluate every applicable pair, in batches on `jobs` worker processes (deterministic order).

    Rows are counted per policy and per subscription. With `encode`/`emit` (streamed output), each
    batch's shown rows (flagged; all with `keep_all`) are encoded in the worker and emitted here in
    inventory order, and none are kept: memory does not grow with the number of findings. Otherwise
    the shown rows are kept, at most `per_policy` per policy (the table lists a few, counts the rest).
    `context` (an EvalContext, e.g. from `--context FILE`) is what Azure supplies to every evaluation.
    With `direct` (views.impact_direct.DirectOutput) and workers, each worker writes its batches' encoded
    rows itself, in turn; only what it hands back is emitted here. `begin()` is called before the first
    batch, once the inventory is counted (see `prepare`'s `defer`).
    """

    context = _at_one_instant(context)
    counts: dict[str, list[int]] = {}
    scopes: dict[str, list[int]] = {}
    rows: list[Any] = []
    kept: dict[str, int] = {}
    work = _batch_work(keep_all, per_policy, encode, inputs.gate)
    put = None
    if direct is not None and emit is not None:
        emit = direct.emit

        def put(out: tuple) -> tuple[tuple, bool]:  # in a worker, in its turn
            if direct.put(out[0]):
                return (b"", *out[1:]), True
            return out, False

    batches = _batches(inputs, work, begin, jobs=jobs, explain=explain, progress=progress, context=context,
                       quiet=not keep_all, put=put)
    with _no_cyclic_gc():
        for shown, batch_counts, batch_scopes in batches:
            _merge(counts, batch_counts)
            _merge(scopes, batch_scopes)
            if emit is not None:
                emit(shown)
                continue
            for row in shown:  # ImpactRow (encode is None)
                n = kept.get(row.policy, 0)
                if per_policy is None or n < per_policy:
                    rows.append(row)
                    kept[row.policy] = n + 1
    if direct is not None:
        direct.close()
    policy_counts = {k: PolicyCounts(*v[:5]) for k, v in counts.items()}
    flagged = sum(c.flagged for c in policy_counts.values())
    scope_rows = [
        {"scope": k, "resources": v[5], "evaluated": v[0], "nonCompliant": v[1], "denied": v[2], "errors": v[3],
         "flagged": v[4]}
        for k, v in sorted(scopes.items())
    ]
    return ImpactResult(len(inputs.inventory), _summary(inputs.policies, policy_counts), rows, flagged, scope_rows)


def _batches(inputs: ImpactInputs, work: Callable[..., Any], begin: Callable[[], None] | None,
             **options: Any) -> Iterator[Any]:
    """`evaluate_batches` of the inventory; one only cut into slices (`prepare(defer=True)`) and found not
    to slice after all (a slice that does not parse) is read as `prepare` reads it without `defer`."""
    from policygen.evaluate.parallel import evaluate_batches

    if getattr(inputs.inventory, "pending", False):
        from policygen.evaluate.resident import Unsliced

        try:
            yield from evaluate_batches(inputs.policies, inputs.inventory, work, begin=begin, **options)
            return
        except Unsliced:  # raised before any batch was yielded
            inputs.inventory = _for_workers([Path(inputs.inventory.path)], inputs.policies, options["jobs"])
    if begin is not None:
        begin()
    yield from evaluate_batches(inputs.policies, inputs.inventory, work, **options)


def _at_one_instant(context: Any) -> Any:
    """The inventory is evaluated as of one instant (the start of the run) unless the context fixes
    utcNow(): every resource, batch and worker then sees the same time, and a rule reading utcNow()
    can remember its verdicts (evaluate.verdicts) like any other."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from policygen.evaluate.runtime import EvalContext

    if context is not None and context.utc_now is not None:
        return context
    return replace(context or EvalContext(), utc_now=datetime.now(UTC))


def _merge(into: dict[str, list[int]], part: dict[str, list[int]]) -> None:
    for k, v in part.items():
        c = into.get(k)
        if c is None:
            into[k] = list(v)
        else:
            for i, x in enumerate(v):
                c[i] += x


def subscription_scope(resource_id: str) -> str:
    """`/subscriptions/<id>` of a resource id (lower-case id), or "" (tenant / management group level)."""
    sub, _ = subscription_and_group(resource_id)
    return f"/subscriptions/{sub.lower()}" if sub else ""


class _ScopeOf(dict):
    """`subscription_scope` of a resource id (or row label): filled for a batch's ids at once (`add`),
    other texts made on first use."""

    def __init__(self, subs: dict[str | None, str]):
        super().__init__()
        self.subs = subs  # scope per subscription as written, kept from batch to batch

    def add(self, ids: list[str]) -> None:
        subs = self.subs
        of_ids = list(map(_FIRST, map(subscription_and_group, ids)))
        for sub in set(of_ids) - subs.keys():
            subs[sub] = f"/subscriptions/{sub.lower()}" if sub else ""
        self.update(zip(ids, map(subs.__getitem__, of_ids), strict=True))

    def __missing__(self, text: str) -> str:
        scope = self[text] = subscription_scope(text)
        return scope


def _batch_work(keep_all: bool, per_policy: int | None, encode: Callable[[list[Any]], Any] | None,
                gate: Any = None) -> Callable[[list[tuple], Sequence[dict], list | None], tuple]:
    """What a worker does with a batch's rows (tuples in `ImpactRow`'s field order) and quiet outcomes
    (pairs neither flagged nor failed, not made rows unless `keep_all`; see `iter_pairs`): count them
    (per policy; per subscription, with the resources of the batch) and keep or encode the shown rows.
    A `gate` first drops the pairs the assignment does not evaluate (resource selectors, exemptions)
    and the override variants not in force."""
    from policygen.evaluate.inventory import ImpactRow

    subs: dict[str | None, str] = {}
    # rows kept per policy by this process, batch after batch: a process meets its batches in input order
    # (one process, or each worker its own share in order), so once it has kept `per_policy` rows of a
    # policy, no later row of it can be among the first `per_policy` the table shows
    kept: dict[str, int] = {}

    def work(batch: list[tuple], resources: Sequence[dict], quiet: list | None) -> tuple:
        if gate is not None:
            by_id = {r.get("id"): r for r in resources if isinstance(r, dict)}
            batch = [row for row in batch if gate.keep(row[0], by_id.get(row[1]) or {})]
            if quiet:
                quiet = [(label, [o for o in outcomes if gate.keep(o[0], by_id.get(label) or {})])
                         for label, outcomes in quiet]
        quiet = quiet or []
        ids = list(map(dict.get, resources, repeat("id")))
        if set(map(type, ids)) - {str}:
            ids = [rid if isinstance(rid, str) else "" for rid in ids]
        # C loops (map, zip, Counter) over rows and outcomes, Python loops over resources and distinct
        # outcomes only: (subscription, outcome) of every row is counted at once, then expanded below
        scope_of = _ScopeOf(subs)
        scope_of.add(ids)
        scopes = {k: [0, 0, 0, 0, 0, n] for k, n in Counter(map(scope_of.__getitem__, ids)).items()}
        tally = Counter(zip(map(scope_of.__getitem__, map(_RESOURCE_ID, batch)), map(_OUTCOME, batch), strict=True))
        if keep_all or all(outcome[1] is False or outcome[2] for _, outcome in tally):
            shown = batch
        else:
            shown = [row for row in batch if row[5] is False or row[6]]
        counts: dict[str, list[int]] = {}
        evaluated_only = Counter(chain.from_iterable(map(_SECOND, quiet)))
        if all(c is not False and not d and e is None for _, c, d, e in evaluated_only):
            # quiet pairs as `iter_pairs` makes them: they add to `evaluated` only, per policy and per subscription
            for (policy, *_), n in evaluated_only.items():
                counts.setdefault(policy, [0, 0, 0, 0, 0])[0] += n
            for label, outcomes in quiet:
                if outcomes:
                    scopes.setdefault(scope_of[label], [0, 0, 0, 0, 0, 0])[0] += len(outcomes)
        else:
            tally.update(chain.from_iterable(map(zip, map(repeat, map(scope_of.__getitem__, map(_FIRST, quiet))),
                                                 map(_SECOND, quiet))))
        if encode is None:
            capped = []
            for row in shown:
                n = kept.get(row[0], 0)
                if per_policy is None or n < per_policy:
                    kept[row[0]] = n + 1
                    capped.append(ImpactRow(*row))
            shown = capped
        for (scope, (policy, compliant, denied, error)), n in tally.items():
            noncompliant = compliant is False
            denied = bool(denied)
            flagged = n if noncompliant or denied else 0
            for c in (counts.setdefault(policy, [0, 0, 0, 0, 0]), scopes.setdefault(scope, [0, 0, 0, 0, 0, 0])):
                c[0] += n
                c[1] += n * noncompliant
                c[2] += n * denied
                c[3] += n * (error is not None)
                c[4] += flagged
        return (encode(shown) if encode is not None else shown), counts, scopes

    return work


def _summary(policies: Sequence[tuple[str, Any]], counts: dict[str, PolicyCounts]) -> list[dict[str, Any]]:
    out = []
    for name, pol in policies:
        c = counts.get(name) or PolicyCounts()
        out.append({"policy": name, "displayName": pol.display_name, "effect": pol.effect,
                    "evaluated": c.evaluated, "nonCompliant": c.noncompliant, "denied": c.denied,
                    "errors": c.errors, "flagged": c.flagged})
    return out
