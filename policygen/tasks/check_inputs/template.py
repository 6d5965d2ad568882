"""ARM templates as `check` reads them: the deployment scope from `--scope`, then the one expander
(`policygen.templates`) places every resource; reference()/list*() stay symbolic (`placed.SYMBOLIC`), never
guessed, and every problem is reported at its `file:line:col`.
"""

from __future__ import annotations

from typing import Any

from policygen.arm.scopes import MG_PREFIX, subscription_and_group
from policygen.errors import Diagnostic
from policygen.tasks.check_inputs.jsondoc import Document
from policygen.tasks.check_inputs.placed import Placed, unplaced
from policygen.templates.expand import Expander, Instance, Target, level
from policygen.templates.expressions import Expressions

__all__ = ["expand", "target_for"]


def target_for(doc: Document, template: dict, scope: str) -> Target | Diagnostic:
    """The `--scope` the template deploys to, as its `$schema` requires."""
    lvl = level(template)
    sub, rg = subscription_and_group(scope)
    mg = scope[len(MG_PREFIX):].strip("/") if scope.lower().startswith(MG_PREFIX.lower()) else None
    if lvl == "tenant":
        return Target()
    if lvl == "managementGroup":
        return Target(mg=mg) if mg else doc.at(template, "a management-group template (its $schema) needs "
                                               f"--scope {MG_PREFIX}NAME, not {scope!r}", "$schema")
    if lvl == "subscription":
        return Target(sub=sub) if sub else doc.at(template, "a subscription template (its $schema) needs --scope "
                                                  f"/subscriptions/ID, not {scope!r}", "$schema")
    if sub and rg:
        return Target(sub=sub, rg=rg)
    return doc.at(template, "a resource-group template (its $schema) needs --scope "
                  f"/subscriptions/ID/resourceGroups/NAME, not {scope!r}", "$schema")


class _Sink:
    """Records each placed resource with the line that declares it; problems located in the file."""

    resolver = None  # reference()/list*() stay symbolic
    ordered = False  # check places in declaration order
    missing_hint = " (give it with --parameters)"

    def __init__(self, doc: Document, problems: list[Diagnostic]):
        self.doc, self.problems = doc, problems
        self.placed: list[Placed] = []

    def place(self, ctx: Expressions, item: Instance) -> None:
        body = {"id": item.id, "type": item.type, "name": item.name.rsplit("/", 1)[-1], **item.body}
        self.placed.append(Placed(body, self.doc.name, self.doc.line(item.declaration), item.symbolic))

    def unplaced(self, declaration: dict, why: str, rid: str = "") -> None:
        self.placed.append(unplaced(declaration.get("type"), declaration.get("name"), self.doc.name,
                                    self.doc.line(declaration), why, rid))

    def problem(self, at: Any, message: str, key: str = "type") -> None:
        self.problems.append(self.doc.at(at, message, key))

    def entering(self, target: Target, name: str) -> None:
        """Nothing to check offline: the deployment's target need not exist yet."""


def expand(doc: Document, template: dict, target: Target, location: str, given: dict[str, Any],
           problems: list[Diagnostic]) -> list[Placed]:
    """Every resource of `template` placed at its id; problems appended to `problems`."""
    sink = _Sink(doc, problems)
    Expander(sink, location, doc.path.stem).run(template, target, given)
    return sink.placed
