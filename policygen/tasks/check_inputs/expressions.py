"""Template expressions as `check` evaluates them: the emulator's engine with reference()/list*() kept symbolic,
`copy` inside properties and variables, and copyIndex() without a name meaning the resource's own loop.

Facts (Microsoft Learn, azure-resource-manager/templates/...): copy-properties (a `copy` array inside an
object builds one array per loop; `copyIndex('<loop>')`), copy-variables (the same in `variables`, at the
top or inside an object), copy-resources (count 0..800).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from policygen.emulator.template_expressions import MAX_VARIABLE_DEPTH, Expressions, TemplateError
from policygen.tasks.check_inputs.placed import has_symbolic, placeholder

MAX_COPY = 800  # ARM's limit on a copy loop's count
MAX_WORK = 100_000  # resource instances and loop items per file: 800 x 800 nested loops are refused in ~2 s


@dataclass
class Budget:
    """Work shared by every context of one file, so nested loops cannot multiply past MAX_WORK."""

    spent: int = 0

    def spend(self, n: int = 1) -> None:
        self.spent += n
        if self.spent > MAX_WORK:
            raise TemplateError(f"the template expands to more than {MAX_WORK:,} resources and loop items")


class Symbolic(Exception):
    """An expression calls reference() or list*(): its value exists only during a real deployment."""


@dataclass
class TemplateContext(Expressions):
    """The template engine with reference()/list*() kept symbolic, variable and property `copy`, and an
    unnamed copyIndex() meaning the resource's own loop (a property loop must be named)."""

    resource_loop: str | None = None
    budget: Budget = field(default_factory=Budget)
    _loops: dict[str, Any] = field(default_factory=dict)  # variable copy loops by lower-case name

    def _node(self, node: tuple) -> Any:
        if node[0] == "call" and (node[1] == "reference" or node[1].startswith("list")):
            raise Symbolic(node[2])
        return super()._node(node)

    def f_copyindex(self, *args: Any) -> int:
        loop, offset = None, 0
        for a in args:
            if isinstance(a, int) and not isinstance(a, bool):
                offset = a
            else:
                loop = str(a).lower()
        loop = loop or self.resource_loop
        if loop is None or loop not in self.copy_indexes:
            raise TemplateError("copyIndex() used outside a copy loop" if loop is None
                                else f"copyIndex('{loop}'): no copy loop of that name is running here")
        return self.copy_indexes[loop] + offset

    def f_variables(self, name: str) -> Any:
        loop = self._loops.get(str(name).lower())
        if loop is not None:
            return _loop_values(self, loop, None, "")
        low = {k.lower(): k for k in self.variables}
        real = low.get(str(name).lower())
        if real is None:
            raise TemplateError(f"the template variable '{name}' is not found")
        if real in self._resolving:
            raise TemplateError(f"the variable '{name}' refers to itself")
        if len(self._resolving) >= MAX_VARIABLE_DEPTH:  # a chain of thousands would exhaust the stack
            raise TemplateError(f"variables refer to variables more than {MAX_VARIABLE_DEPTH} deep")
        self._resolving.add(real)
        try:
            return walk(self, self.variables[real], None, "")
        finally:
            self._resolving.discard(real)

    def set_variables(self, variables: dict[str, Any]) -> None:
        self.variables = {k: v for k, v in variables.items() if k != "copy"}
        loops = variables.get("copy")
        self._loops = {str(x.get("name", "")).lower(): x for x in loops if _is_loop(x)} if isinstance(loops, list) \
            else {}

    @contextmanager
    def loop(self, name: str, index: int) -> Iterator[None]:
        before = dict(self.copy_indexes)
        self.copy_indexes = {**before, name.lower(): index}
        try:
            yield
        finally:
            self.copy_indexes = before


def _is_loop(x: Any) -> bool:
    return isinstance(x, dict) and isinstance(x.get("name"), str) and "input" in x


def count(ctx: TemplateContext, raw: Any) -> int:
    count = ctx.evaluate(raw)
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COPY:
        raise TemplateError(f"copy count must be an integer from 0 to {MAX_COPY}, not {count!r}")
    return count


def _loop_values(ctx: TemplateContext, loop: dict, symbolic: list[str] | None, path: str) -> list[Any]:
    name = str(loop["name"])
    out = []
    for i in range(count(ctx, loop.get("count", 0))):
        ctx.budget.spend()
        with ctx.loop(name, i):
            out.append(walk(ctx, loop["input"], symbolic, f"{path}/{i}"))
    return out


def walk(ctx: TemplateContext, value: Any, symbolic: list[str] | None, path: str, loops_here: bool = True) -> Any:
    """Evaluate every expression in `value`, expanding property/variable `copy` arrays. With `symbolic` a
    list, a leaf needing reference()/list*() becomes a placeholder and its path is recorded; with None the
    Symbolic exception propagates (to the leaf that used the variable). Below a `template` key (the template
    a policy definition's deployIfNotExists carries, deployed later) `copy` arrays are data, not loops."""
    if isinstance(value, str):
        if symbolic is None:
            return ctx.evaluate(value)
        try:
            out = ctx.evaluate(value)
        except Symbolic:
            symbolic.append(path or "/")
            return placeholder(value)
        if has_symbolic(out):
            symbolic.append(path or "/")
        return out
    if isinstance(value, list):
        return [walk(ctx, v, symbolic, f"{path}/{i}", loops_here) for i, v in enumerate(value)]
    if isinstance(value, dict):
        loops = value.get("copy")
        is_loops = loops_here and isinstance(loops, list) and bool(loops) and all(_is_loop(x) for x in loops)
        out = {k: walk(ctx, v, symbolic, f"{path}/{k}", loops_here and k != "template") for k, v in value.items()
               if not (is_loops and k == "copy")}
        if is_loops:
            for loop in loops:
                where = f"{path}/{loop['name']}"
                if symbolic is None:
                    out[loop["name"]] = _loop_values(ctx, loop, None, where)
                    continue
                try:
                    out[loop["name"]] = _loop_values(ctx, loop, symbolic, where)
                except Symbolic:
                    symbolic.append(where)
                    out[loop["name"]] = placeholder(f"copy count of {loop['name']}")
        return out
    return value
