"""One ARM collection handler: `{scope}/providers/{namespace}/{type}[/{name}[/{action}]]`, with per-type hooks.

Every family with ARM's plain CRUD shape (assignments, exemptions, role assignments, remediations) answers
the same way: GET on the collection lists (paged, `$filter` by the family's `list` hook); GET of a missing
object is the family's 404; DELETE of a missing one is 204; other methods are 405. The family supplies
only what differs: validation and defaults on PUT/PATCH, side effects on DELETE, and POST actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from policygen.emulator import hierarchy
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response, paged
from policygen.emulator.store import public


@dataclass
class Item:
    """One named object of a collection, as a hook sees it (`existing` is None when it does not exist)."""

    emu: Context
    req: Request
    match: Match  # `match.scope` is the parsed scope
    name: str
    rid: str
    existing: dict | None

    @property
    def scope(self) -> str:
        """The scope as requested, no trailing slash ('' is the tenant)."""
        return self.match.scope_text


Lister = Callable[[Context, Match, "str | None"], list[dict]]
Hook = Callable[[Item], Response]
MaybeHook = Callable[[Item], "Response | None"]


@dataclass(frozen=True)
class Collection:
    kind: str  # store kind
    segment: str  # "/providers/{namespace}/{type}/"
    noun: str  # plural, for "X is not supported on {noun}."
    missing: Callable[[str], ArmError]  # the 404 for a name
    list: Lister  # the collection's items under the scope, after `$filter`
    put: Hook
    patch: Hook | None = None  # None: PATCH is 405
    on_delete: Callable[[Item], None] | None = None  # before the object goes
    delete_echoes: bool = True  # DELETE answers 200 with the deleted object (else with no body)
    actions: Mapping[str, Hook] = field(default_factory=dict)  # `/{name}/{action}`, on existing objects
    scope_checked_first: bool = True  # False: only lists check the scope (PUT hooks check it themselves)
    scope_rule: Callable[[Context, Match], None] | None = None  # more the scope must be (after it exists)
    served: MaybeHook | None = None  # answers for objects not in the store (built-ins), or returns None
    shown: Callable[[Context, Request, dict], dict] | None = None  # the GET/list view of a stored object

    def __call__(self, emu: Context, req: Request, m: Match) -> Response:
        if self.scope_checked_first:
            hierarchy.require_scope(emu, m.scope, m.scope_text)
        if self.scope_rule:
            self.scope_rule(emu, m)
        name = m.get("name")
        if not name:
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on a collection.")
            if not self.scope_checked_first:
                hierarchy.require_scope(emu, m.scope, m.scope_text)
            items = self.list(emu, m, req.q("$filter"))
            if self.shown:
                items = [self.shown(emu, req, i) for i in items]
            return paged(req, items, default_top=emu.config.page_size)
        rid = f"{m.scope_text}{self.segment}{name}"
        with emu.store.lock:
            item = Item(emu, req, m, name, rid, emu.store.get(self.kind, rid))
            return self._item(item, (m.get("action") or "").lower())

    def _item(self, item: Item, action: str) -> Response:
        if self.served and (answer := self.served(item)) is not None:
            return answer
        method, existing = item.req.method, item.existing
        if action:
            if not existing:
                raise self.missing(item.name)
            return self.actions[action](item)
        if method == "GET":
            if not existing:
                raise self.missing(item.name)
            shown = public(existing)
            return Response(200, self.shown(item.emu, item.req, shown) if self.shown else shown)
        if method == "DELETE":
            if not existing:
                return Response(204, None)
            if self.on_delete:
                self.on_delete(item)
            item.emu.store.delete(self.kind, item.rid)
            return Response(200, public(existing) if self.delete_echoes else None)
        if method == "PATCH" and self.patch:
            if not existing:
                raise self.missing(item.name)
            return self.patch(item)
        if method == "PUT":
            return self.put(item)
        raise ArmError(405, "MethodNotAllowed", f"{method} is not supported on {self.noun}.")
