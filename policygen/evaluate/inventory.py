"""Evaluate many compiled policies against a resource inventory.

Policies are indexed by the resource types their `if` can match, so a resource only meets the policies
that could apply to it; related resources for auditIfNotExists / deployIfNotExists are looked up in the
same inventory through indexes by type + parent id and by type + resource group / subscription.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policygen.arm.effects import EXISTENCE
from policygen.arm.resource_types import POLICY_TYPE_SPELLINGS, normalise_resource
from policygen.arm.scopes import extension_scope
from policygen.errors import Diagnostic, InputError
from policygen.evaluate.effects import id_scope
from policygen.evaluate.errors import EvaluationFailure
from policygen.evaluate.plans import BY_TYPE_KIND, DENY, DISABLED, IF_EXISTS, SIMPLE, TypePlan, plan_entry, plan_for
from policygen.evaluate.policy import CompiledPolicy
from policygen.evaluate.runtime import EvalContext, Scope
from policygen.evaluate.values import reset_key_cache
from policygen.evaluate.verdicts import Slots


@dataclass(slots=True)
class ImpactRow:
    """One applicable (policy, resource) pair."""

    policy: str
    resource_id: str
    resource_type: str
    effect: str
    matched: bool
    compliant: bool | None
    denied: bool = False
    error: str | None = None
    modified: dict | None = None
    reason: str | None = None

    @property
    def flagged(self) -> bool:
        """Would be reported: non-compliant or denied."""
        return self.compliant is False or self.denied

    def to_json(self) -> dict[str, Any]:
        out = {
            "policy": self.policy,
            "resourceId": self.resource_id,
            "resourceType": self.resource_type,
            "effect": self.effect,
            "matched": self.matched,
            "compliant": self.compliant,
            "denied": self.denied,
        }
        if self.error:
            out["error"] = self.error
        if self.reason:
            out["reason"] = self.reason
        return out


def resource_label(resource: dict) -> str:
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return rid
    return f"{resource.get('type', '?')}/{resource.get('name', '?')}"


class RelatedIndex:
    """Lookups of candidate related resources without scanning the whole inventory per resource."""

    def __init__(self, resources: Iterable[dict] = (), types: frozenset[str] | None = None):
        """Index `resources` (only those of `types`, lower-case, when given; more through `add`)."""
        self.types = types
        self.by_parent: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self.by_rg: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
        self.by_sub: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self.no_id: dict[str, list[dict]] = defaultdict(list)
        for r in resources:
            self.add(r)

    @classmethod
    def for_policies(cls, policies: Sequence[tuple[str, CompiledPolicy]]) -> RelatedIndex | None:
        """An empty index of the related types the existence policies ask for (None: no such policy);
        a policy whose `details.type` depends on the resource makes it keep every type."""
        wanted = {p.related_type for _, p in policies if p.effect in EXISTENCE}
        if not wanted:
            return None
        return cls((), None if None in wanted else frozenset(wanted))  # type: ignore[arg-type]

    @classmethod
    def over(cls, policies: Sequence[tuple[str, CompiledPolicy]], resources: Sequence[dict]) -> RelatedIndex | None:
        """`for_policies`, holding every resource of `resources` the policies may relate to."""
        index = cls.for_policies(policies)
        if index is not None:
            for r in resources:
                index.add(r)
        return index

    def add(self, r: dict) -> None:
        """Keep `r` when its type is one the policies ask for, under the keys they look it up by."""
        t = r.get("type")
        if not isinstance(t, str):
            return
        t = t.lower()
        if self.types is not None and t not in self.types:
            return
        rid = r.get("id")
        if not isinstance(rid, str):
            self.no_id[t].append(r)
            return
        rid_l = rid.lower()
        parents = {rid_l.rsplit("/", 2)[0]}
        ext = extension_scope(rid_l)
        if ext:
            parents.add(ext)
        for p in parents:
            self.by_parent[(t, p)].append(r)
        sub, rg = id_scope(rid)
        # extension resources of another resource are only ever related to that resource
        if sub and not (ext and "/providers/" in ext):
            self.by_sub[(t, sub)].append(r)
            if rg:
                self.by_rg[(t, sub, rg)].append(r)

    def candidates(self, policy: CompiledPolicy, resource: dict, all_resources: Sequence[dict]) -> Sequence[dict]:
        t = policy.related_type
        if t is None:  # details.type depends on the resource: let the policy filter everything
            return all_resources
        rid = resource.get("id")
        parts: list[list[dict]] = []
        if t in self.no_id:
            parts.append(self.no_id[t])
        if isinstance(rid, str):
            by_parent = self.by_parent.get((t, rid.lower()))
            if by_parent:
                parts.append(by_parent)
            sub, rg = id_scope(rid)
            if sub:
                if policy.existence_scope == "subscription" or policy.related_elsewhere or not rg:
                    scoped = self.by_sub.get((t, sub))
                else:
                    scoped = self.by_rg.get((t, sub, rg))
                if scoped:
                    parts.append(scoped)
        else:
            parts.extend(rs for key, rs in self.by_sub.items() if key[0] == t)
        if not parts:
            return ()
        if len(parts) == 1:
            return parts[0]
        seen: set[int] = set()
        unique = []
        for part in parts:
            for r in part:
                if id(r) not in seen:
                    seen.add(id(r))
                    unique.append(r)
        return unique


def evaluate_inventory(
    policies: Sequence[tuple[str, CompiledPolicy]],
    resources: Sequence[dict],
    *,
    progress: Callable[[int], None] | None = None,
    context: EvalContext | None = None,
    explain: bool = False,
    related_index: RelatedIndex | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[ImpactRow]:
    """Yield a row for every applicable (policy, resource) pair (mode, type index and the
    policy-applicability rules), resources in inventory order.

    Hot path: per resource type, the applicable policies are computed once; per resource, one scope is
    shared by all its policies (derived context computed at most once); each policy runs only the part
    of its `if` the type index does not already guarantee. `explain=True` re-runs flagged pairs with a
    trace to fill `reason`. `progress(n)` is called with the number of resources processed since the
    last call. `start`/`stop` evaluate one slice of `resources` (a worker's share) against
    `related_index`, built once over the whole inventory (`RelatedIndex.for_policies` + `add`).
    """
    for t in iter_pairs(policies, resources, progress=progress, context=context, explain=explain,
                        related_index=related_index, start=start, stop=stop):
        yield ImpactRow(*t)


def iter_pairs(
    policies: Sequence[tuple[str, CompiledPolicy]],
    resources: Sequence[dict],
    *,
    progress: Callable[[int], None] | None = None,
    context: EvalContext | None = None,
    explain: bool = False,
    related_index: RelatedIndex | None = None,
    start: int = 0,
    stop: int | None = None,
    quiet: list[tuple[str, list[tuple]]] | None = None,
) -> Iterator[tuple]:
    """`evaluate_inventory`'s rows as tuples (`ImpactRow`'s fields in order): no object per pair.

    With a `quiet` list, pairs that are neither flagged nor failed are not rows: each resource's
    outcomes of them, `(policy, compliant, denied, error)` (constant per policy), are appended to it as
    `(resource label, [outcome, ...])` for counting; only the rows an output shows by default are yielded.
    Each type's policies run as one generated function (`evaluate.plans`); `explain` runs the plain loop.
    """
    if related_index is None:
        related_index = RelatedIndex.over(policies, resources)
    if explain:
        yield from _iter_pairs_plain(policies, resources, progress=progress, context=context, explain=explain,
                                     related_index=related_index, start=start, stop=stop, quiet=quiet)
        return
    plans: dict[str, TypePlan | None] = {}
    # applicability of a non-matching pair that depends on type and kind only: (policy, kind) per type
    applicable_by_type: dict[str, dict[tuple, bool]] = {}
    by_type: dict[str, tuple] = {}  # a resource's `type` as spelled -> (plan, its applicability cache)
    step = 0
    keep_quiet = quiet is None
    env = (related_index, resources)
    rq: list[tuple] = []
    reset = reset_key_cache
    for i in range(start, len(resources) if stop is None else min(stop, len(resources))):
        resource = resources[i]
        if type(resource) is not dict:
            continue
        rtype = resource.get("type")
        entry = by_type.get(rtype) if type(rtype) is str else None
        if entry is None:
            key = rtype.lower() if isinstance(rtype, str) else ""
            spelling = key in POLICY_TYPE_SPELLINGS
            if spelling:  # `az group show` / Resource Graph spellings of containers
                resource = normalise_resource(resource)
                rtype = resource["type"]
                key = rtype.lower()
            plan = plans.get(key, _UNPLANNED)
            if plan is _UNPLANNED:
                plan = plans[key] = plan_for(key, policies, keep_quiet)
            rtype_s = str(rtype)
            applicable = applicable_by_type.get(rtype_s)
            if applicable is None:
                applicable = applicable_by_type[rtype_s] = {}
            entry = (plan, applicable, rtype_s)
            if type(rtype) is str and not spelling:
                by_type[rtype] = entry
        plan, applicable, rtype_s = entry
        if plan is not None:
            reset()
            scope = Scope(resource, context)
            scope.memo = plan.slots.fresh()
            rid = resource.get("id")
            label = rid if type(rid) is str and rid else resource_label(resource)
            out: list[tuple] = []
            plan.run(scope, resource, label, rtype_s, bool(resource.get("location")), resource.get("kind"), out, rq,
                     applicable, env)
            if out:
                yield from out
            if rq:
                quiet.append((label, rq))  # type: ignore[union-attr]
                rq = []
        step += 1
        if progress is not None and step == 1000:
            progress(step)
            step = 0
    if progress is not None and step:
        progress(step)


_UNPLANNED: Any = object()


def _iter_pairs_plain(
    policies: Sequence[tuple[str, CompiledPolicy]],
    resources: Sequence[dict],
    *,
    progress: Callable[[int], None] | None = None,
    context: EvalContext | None = None,
    explain: bool = False,
    related_index: RelatedIndex | None = None,
    start: int = 0,
    stop: int | None = None,
    quiet: list[tuple[str, list[tuple]]] | None = None,
) -> Iterator[tuple]:
    """`iter_pairs` as a loop over each type's plan entries (the reference for the generated plans; and
    `explain`, which re-runs flagged pairs with a trace)."""
    if related_index is None:
        related_index = RelatedIndex.over(policies, resources)
    plans: dict[str, tuple[list[tuple], Slots]] = {}
    applicable_by_type: dict[str, dict[tuple, bool]] = {}
    step = 0
    keep_quiet = quiet is None
    for i in range(start, len(resources) if stop is None else min(stop, len(resources))):
        resource = resources[i]
        if type(resource) is not dict:
            continue
        rtype = resource.get("type")
        key = rtype.lower() if isinstance(rtype, str) else ""
        if key in POLICY_TYPE_SPELLINGS:  # `az group show` / Resource Graph spellings of containers
            resource = normalise_resource(resource)
            rtype = resource["type"]
            key = rtype.lower()
        entry = plans.get(key)
        if entry is None:
            slots = Slots()
            plan = [plan_entry(name, pol, slots) for name, pol in policies if pol.applies_to_type(key)]
            entry = plans[key] = (plan, slots)
        plan, slots = entry
        if plan:
            reset_key_cache()
            scope = Scope(resource, context)
            scope.memo = slots.fresh()
            label = resource_label(resource)
            rtype_s = str(rtype)
            has_location = bool(resource.get("location"))
            rkind = resource.get("kind")
            applicable = applicable_by_type.get(rtype_s)
            if applicable is None:
                applicable = applicable_by_type[rtype_s] = {}
            rq: list[tuple] = []
            for name, pol, kind, needs_location, pred, check_applicable, effect, unmatched in plan:
                if needs_location and not has_location:
                    continue
                try:
                    matched = pred(scope)
                except EvaluationFailure as exc:
                    scope.members.clear()
                    yield (name, label, rtype_s, effect, False, False, True, str(exc), None, None)
                    continue
                if not matched:
                    if kind == IF_EXISTS:
                        continue  # Azure records no state for this pair (policy-applicability page)
                    if check_applicable:
                        if check_applicable is BY_TYPE_KIND and (type(rkind) is str or rkind is None):
                            ck = (pol, rkind)
                            ok = applicable.get(ck)
                            if ok is None:
                                ok = applicable[ck] = pol.is_applicable(scope)
                        else:
                            ok = pol.is_applicable(scope)
                        if not ok:
                            continue
                    if keep_quiet:
                        yield (name, label, rtype_s, effect, False, unmatched[1], False, None, None, None)
                    else:
                        rq.append(unmatched)
                    continue
                if kind == SIMPLE:
                    row = (name, label, rtype_s, effect, True, False, False, None, None, None)
                elif kind == DENY:
                    row = (name, label, rtype_s, effect, True, False, True, None, None, None)
                elif kind == DISABLED:
                    if keep_quiet:
                        yield (name, label, rtype_s, effect, True, None, False, None, None, None)
                    else:
                        rq.append(unmatched)
                    continue
                else:
                    related: Sequence[dict] = ()
                    if kind == IF_EXISTS and related_index is not None:
                        related = related_index.candidates(pol, resource, resources)
                    out = pol.outcome_for(True, scope, related)
                    if not out.applicable:
                        continue  # e.g. modify of identity.type on a type other than VMs / scale sets
                    if not keep_quiet and out.compliant is not False and not out.denied and out.error is None:
                        rq.append((name, out.compliant, out.denied, None))
                        continue
                    row = (name, label, rtype_s, effect, True, out.compliant, out.denied, out.error, out.modified,
                           None)
                if explain and (row[5] is False or row[6]):
                    related = related_index.candidates(pol, resource, resources) if related_index else ()
                    full = pol.evaluate(resource, related=related, context=context)
                    row = (*row[:9], "; ".join(line.strip() for line in full.reasons[-3:]))
                yield row
            if rq:
                quiet.append((label, rq))  # type: ignore[union-attr]
        step += 1
        if progress is not None and step == 1000:
            progress(step)
            step = 0
    if progress is not None and step:
        progress(step)


# ---- inventory files --------------------------------------------------------------------------------


def resources_from_json(data: Any, source: str = "<inventory>") -> list[dict]:
    """A JSON array of resources (`az resource list`), a Resource Graph export (`{"data": [...]}` or
    the table form `{"data": {"columns": [...], "rows": [...]}}`), or `{"value": [...]}` (REST)."""
    if isinstance(data, dict):
        for key in ("data", "value", "resources"):
            if key in data:
                data = data[key]
                break
        else:
            if "type" in data:
                data = [data]
        if isinstance(data, dict) and "columns" in data and "rows" in data:
            cols = [c.get("name") if isinstance(c, dict) else str(c) for c in data["columns"]]
            data = [dict(zip(cols, row, strict=False)) for row in data["rows"]]
    if not isinstance(data, list):
        raise InputError(
            Diagnostic(
                source,
                0,
                0,
                'inventory must be a JSON array of resources or a Resource Graph export ({"data": [...]})',
            )
        )
    return [r for r in data if isinstance(r, dict)]


WHOLE_FILE = 256 << 20  # inventory files up to this size are parsed in one go when all is kept anyway


def load_inventory(path: Path | Sequence[Path], related: RelatedIndex | None = None) -> list[dict]:
    """The resources of one inventory file or several (folders: their pages), streamed so the file's
    text and its parsed form are never held together; each is also offered to `related`."""
    from policygen.evaluate.stream import iter_resources

    paths = [path] if isinstance(path, Path | str) else list(path)
    enabled = gc.isenabled()
    gc.disable()  # see load_json_file: the parsed tree is acyclic
    try:
        out = list(iter_resources([Path(p) for p in paths], whole=WHOLE_FILE))
        if related is not None:
            for r in out:
                related.add(r)
        return out
    finally:
        if enabled:
            gc.enable()


def load_json_file(path: Path, what: str) -> Any:
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(Diagnostic(str(path), 0, 0, f"cannot read {what}: {exc.strerror}")) from None
    # A parsed JSON tree has no reference cycles, so the cyclic GC only costs time while it is built
    # (it repeatedly traverses the growing tree: ~40 % of the parse time of a 100 MB inventory).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_json(path, text, what)
    finally:
        if enabled:
            gc.enable()


def _parse_json(path: Path, text: bytes, what: str) -> Any:
    try:
        import orjson  # optional (not a dependency): ~25 % faster than json when installed

        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # fall through for the line/column diagnostic
    except ImportError:
        pass
    try:
        return json.loads(text.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(Diagnostic(str(path), 0, 0, f"{what} is not UTF-8 text")) from None
    except json.JSONDecodeError as exc:
        raise InputError(Diagnostic(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")) from None
