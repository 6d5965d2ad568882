"""ARM template expressions in one deployment's context — the one engine `check` and the emulator use.

Expressions are parsed by the one grammar (`arm.expressions`); the pure ARM functions are the evaluator's.
This module adds what belongs to a deployment: `parameters()`, `variables()` (with variable `copy`), `copyIndex()`,
property `copy` (`walk`), a work budget shared by a file's contexts; `functions` adds resourceId() and friends
and the lambda functions. reference() and list*() go to a `Resolver` (the emulator reads its store); without
one they raise `Symbolic` (check keeps the value symbolic, never guessed).

Facts (Microsoft Learn, azure-resource-manager/templates/...): copy-properties (a `copy` array inside an
object builds one array per loop; `copyIndex('<loop>')`), copy-variables (the same in `variables`, at the
top or inside an object), copy-resources (count 0..800).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from policygen.arm.expressions import Index, Literal, Member, Node, is_expression, parse_string
from policygen.templates.functions import DeploymentFunctions, Lambda
from policygen.templates.names import TemplateError
from policygen.templates.symbolic import Symbolic, has_symbolic, placeholder

MAX_VARIABLE_DEPTH = 64  # variables('a') -> variables('b') -> ...
MAX_COPY = 800  # ARM's limit on a copy loop's count
MAX_LAMBDA_WORK = 1_000_000  # lambda calls plus the members they return, per deployment context
MAX_WORK = 100_000  # resource instances and loop items per file: 800 x 800 nested loops are refused in ~2 s


class Resolver(Protocol):
    """What only a live deployment knows: reference()/list*() values and a resource group's location."""

    def call(self, ctx: Expressions, name: str, args: list[Any]) -> Any: ...

    def group_location(self, subscription: str, group: str) -> str | None: ...


@dataclass
class Budget:
    """Work shared by every context of one file, so nested loops cannot multiply past MAX_WORK."""

    spent: int = 0

    def spend(self, n: int = 1) -> None:
        self.spent += n
        if self.spent > MAX_WORK:
            raise TemplateError(f"the template expands to more than {MAX_WORK:,} resources and loop items")


def _pure() -> tuple[dict[str, Callable[..., Any]], type[Exception]]:
    """The pure ARM functions (the evaluator's, which policy rules call too) and the failure they raise."""
    from policygen.evaluate import functions
    from policygen.evaluate.errors import EvaluationFailure

    return functions.PURE, EvaluationFailure


@dataclass
class Expressions(DeploymentFunctions):
    """Evaluates ARM template expressions in one deployment's context."""

    parameters: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    subscription_id: str = ""
    resource_group: str | None = None
    location: str = "westeurope"
    tenant_id: str = ""
    deployment_name: str = "deployment"
    management_group: str | None = None  # set for management-group deployments
    resolver: Resolver | None = None  # reference()/list*(); None keeps them symbolic
    copy_indexes: dict[str, int] = field(default_factory=dict)
    resource_loop: str | None = None  # the resource's own copy loop (an unnamed copyIndex() means it)
    budget: Budget = field(default_factory=Budget)
    _loops: dict[str, Any] = field(default_factory=dict)  # variable copy loops by lower-case name
    _resolving: set[str] = field(default_factory=set)
    _lambda_frames: list[dict[str, Any]] = field(default_factory=list)
    _lambda_work: int = 0  # calls plus members returned, bounded (nested map() over range() would not be)

    def evaluate(self, value: Any) -> Any:
        """Evaluate every expression string inside a JSON value."""
        if isinstance(value, str):
            if is_expression(value):
                _, failure = _pure()
                try:  # lenient: the evaluator's reading of bare true/false/null, as before
                    return self._node(parse_string(value, lenient=True))
                except (failure, TemplateError, KeyError, TypeError, IndexError, ValueError) as exc:
                    # the outermost expression and the root cause (not every variable in between)
                    cause = getattr(exc, "cause", None) or str(exc)
                    error = TemplateError(f"cannot evaluate {value}: {cause}")
                    error.cause = cause
                    raise error from exc
            return value[1:] if value.startswith("[[") else value
        if isinstance(value, list):
            return [self.evaluate(v) for v in value]
        if isinstance(value, dict):
            return {k: self.evaluate(v) for k, v in value.items()}
        return value

    # ------------------------------------------------------------------ AST

    def _node(self, node: Node) -> Any:
        kind = type(node)
        if kind is Literal:
            return node.value
        if kind is Member:
            base = self._node(node.target)
            if not isinstance(base, dict):
                raise TemplateError(f"cannot read '.{node.name}' of {type(base).__name__}")
            low = {k.lower(): v for k, v in base.items()}
            if node.name.lower() not in low:
                raise TemplateError(f"the object has no property '{node.name}'")
            return low[node.name.lower()]
        if kind is Index:
            base, idx = self._node(node.target), self._node(node.index)
            if isinstance(base, dict):
                return {k.lower(): v for k, v in base.items()}[str(idx).lower()]
            return base[int(idx)]
        low, name, args = node.key, node.name, node.args
        if low == "reference" or low.startswith("list"):
            if self.resolver is None:
                raise Symbolic(name)
            return self.resolver.call(self, low, [self._node(a) for a in args])
        if low == "lambda":  # its body is evaluated per item by map(), filter()... (template-functions-lambda)
            if not args:
                raise TemplateError("lambda() needs a body")
            return Lambda(tuple(str(self._node(a)) for a in args[:-1]), args[-1])
        if low == "lambdavariables":
            var = str(self._node(args[0])) if args else ""
            for frame in reversed(self._lambda_frames):
                if var in frame:
                    return frame[var]
            raise TemplateError(f"lambdaVariables('{var}') is used outside a lambda that declares it")
        if low == "if":
            cond = self._node(args[0])
            return self._node(args[1] if cond else args[2])
        own = getattr(self, f"f_{low}", None)
        values = [self._node(a) for a in args]
        if own is not None:
            return own(*values)
        impl = _pure()[0].get(low)
        if impl is None:
            raise TemplateError(f"the template function '{name}' is not supported")
        return impl(*values)

    def _apply(self, fn: Any, *values: Any) -> Any:
        if not isinstance(fn, Lambda):
            raise TemplateError("expected a lambda() as the function argument")
        self._lambda_work += 1
        if self._lambda_work > MAX_LAMBDA_WORK:
            raise TemplateError(f"lambda functions do more than {MAX_LAMBDA_WORK:,} steps")
        self._lambda_frames.append(dict(zip(fn.params, values, strict=False)))
        try:
            out = self._node(fn.body)
        finally:
            self._lambda_frames.pop()
        if isinstance(out, (list, dict)):
            self._lambda_work += len(out)
        return out

    # ------------------------------------------------------------------ parameters, variables, loops

    def f_parameters(self, name: str) -> Any:
        low = {k.lower(): v for k, v in self.parameters.items()}
        if str(name).lower() not in low:
            raise TemplateError(f"the template parameter '{name}' is not found")
        return low[str(name).lower()]

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
        """A template's `variables`, its `copy` array read as variable loops (copy-variables)."""
        self.variables = {k: v for k, v in variables.items() if k != "copy"}
        loops = variables.get("copy")
        self._loops = {str(x.get("name", "")).lower(): x for x in loops if _is_loop(x)} if isinstance(loops, list) \
            else {}

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


def count(ctx: Expressions, raw: Any) -> int:
    """A copy loop's count, checked against ARM's limits."""
    value = ctx.evaluate(raw)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COPY:
        raise TemplateError(f"copy count must be an integer from 0 to {MAX_COPY}, not {value!r}")
    return value


def _loop_values(ctx: Expressions, loop: dict, symbolic: list[str] | None, path: str) -> list[Any]:
    name = str(loop["name"])
    out = []
    for i in range(count(ctx, loop.get("count", 0))):
        ctx.budget.spend()
        with ctx.loop(name, i):
            out.append(walk(ctx, loop["input"], symbolic, f"{path}/{i}"))
    return out


def walk(ctx: Expressions, value: Any, symbolic: list[str] | None, path: str, loops_here: bool = True) -> Any:
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
