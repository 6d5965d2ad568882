"""Compile template expressions into closures `scope -> value`, folding everything that does not depend
on the resource (parameters, literals, pure functions of those) at compile time.

`if()` evaluates only the chosen branch (so `if(empty(x), false(), f(x))` guards work); every other
function evaluates all its arguments first, as ARM does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from policygen.arm import expressions as arm
from policygen.arm.aliases import AliasCatalogue
from policygen.arm.expressions import is_expression, unescape
from policygen.arm.functions import is_banned
from policygen.evaluate import functions as F
from policygen.evaluate.errors import EvaluationFailure, UnsupportedError
from policygen.evaluate.paths import (
    STAR,
    FieldAccessor,
    Frame,
    compile_field,
    find_binding,
    parse_path,
    walk_many,
    walk_single,
)
from policygen.evaluate.paths import alias_path as _alias_path
from policygen.evaluate.values import MISSING, get_ci, type_name
from policygen.evaluate.verdicts import Reads, TooBig

Fn = Callable[[Any], Any]

# Functions whose value depends on the evaluation (never folded at compile time).
SCOPE_FUNCTIONS = frozenset(
    {
        "field",
        "current",
        "requestcontext",
        "resourcegroup",
        "subscription",
        "policy",
        "utcnow",
        "parameters",
        "if",
    }
)
KNOWN_FUNCTIONS = frozenset(F.PURE) | SCOPE_FUNCTIONS


@dataclass
class CompileCtx:
    """What compilation needs: parameter values, the alias catalogue and the enclosing count frames."""

    parameters: Mapping[str, Any]  # lower-case name -> value (only parameters that have a value)
    declared: Mapping[str, str]  # lower-case name -> declared name
    catalogue: AliasCatalogue | None
    frames: tuple[Frame, ...] = ()
    region: str = "if"  # if | existenceCondition | details | operation-condition
    unknown_aliases: set[str] = field(default_factory=set)
    field_cache: dict[tuple, FieldAccessor] = field(default_factory=dict)
    reads: Reads | None = None  # what the compiled code reads of the resource (evaluate.verdicts)
    frame_reads: tuple[Reads | None, ...] = ()  # per frame: what is read of its current member (None: all)

    def with_frame(self, frame: Frame, member_reads: Reads | None = None) -> CompileCtx:
        return CompileCtx(
            self.parameters,
            self.declared,
            self.catalogue,
            self.frames + (frame,),
            self.region,
            self.unknown_aliases,
            self.field_cache,
            self.reads,
            self.frame_reads + (member_reads,),
        )

    def field(self, name: str, *, for_function: bool = False, record: bool = True) -> FieldAccessor:
        key = (name.lower(), for_function, self.frames)
        acc = self.field_cache.get(key)
        if acc is None:
            acc = compile_field(name, self.catalogue, self.frames, for_function=for_function)
            if not acc.known_alias:
                self.unknown_aliases.add(name)
            self.field_cache[key] = acc
        if record:  # the key names what the getter reads: equal keys read the same in any policy
            self.record(("field", name.lower(), for_function, bool(self.frames), self.catalogue), acc.cond,
                        acc.binding)
        return acc

    def opaque(self) -> None:
        """The code being compiled reads more than it can name (a field whose name is computed)."""
        if self.reads is not None:
            self.reads.opaque = True

    def work(self, n: int) -> None:
        """Account for the cost of what is being compiled (remembered verdicts pay off above a bar)."""
        if self.reads is not None:
            self.reads.work += n

    def record(self, key: Any, getter: Callable[[Any], Any], binding: tuple[int, int, int] | None = None) -> None:
        """The code being compiled depends on the value `getter(scope)`: of the resource or the context,
        or (`binding`) of the current member of an enclosing count (its own reads, or all of it)."""
        if self.reads is None:
            return
        if binding is None:
            self.reads.add(key, getter)
            return
        member_reads = self.frame_reads[binding[0]]
        if member_reads is not None:
            member_reads.add(key, getter)


@dataclass(frozen=True)
class Compiled:
    fn: Fn
    const: bool = False
    value: Any = None

    @staticmethod
    def constant(value: Any) -> Compiled:
        return Compiled(lambda scope, _v=value: _v, True, value)


@lru_cache(maxsize=8192)
def parse(expression: str) -> tuple:
    """A full `"[ … ]"` string as the tuples `compile_node` reads, parsed in the grammar's lenient mode:
    ("lit", value) | ("call", lower-name, name, (args...)) | ("member", base, name) | ("index", base, expr)."""
    try:
        return _tuples(arm.parse_expression(expression[1:-1], 1, lenient=True))
    except arm.ExpressionError as exc:
        raise UnsupportedError(f"invalid expression {expression!r}: {exc}") from None


def _tuples(node: arm.Node) -> tuple:
    t = type(node)
    if t is arm.Literal:
        return ("lit", node.value)
    if t is arm.Call:
        return ("call", node.name.lower(), node.name, tuple(_tuples(a) for a in node.args))
    if t is arm.Member:
        return ("member", _tuples(node.target), node.name)
    return ("index", _tuples(node.target), _tuples(node.index))


def compile_value(raw: Any, cc: CompileCtx) -> Compiled:
    """A JSON value that may be (or contain) expression strings."""
    if isinstance(raw, str):
        if is_expression(raw):
            return compile_node(parse(raw), cc)
        return Compiled.constant(unescape(raw))
    if isinstance(raw, list):
        parts = [compile_value(v, cc) for v in raw]
        if all(p.const for p in parts):
            return Compiled.constant([p.value for p in parts])
        fns = [p.fn for p in parts]
        return Compiled(lambda scope: [f(scope) for f in fns])
    if isinstance(raw, dict):
        items = [(k, compile_value(v, cc)) for k, v in raw.items()]
        if all(c.const for _, c in items):
            return Compiled.constant({k: c.value for k, c in items})
        pairs = [(k, c.fn) for k, c in items]
        return Compiled(lambda scope: {k: f(scope) for k, f in pairs})
    return Compiled.constant(raw)


def compile_node(node: tuple, cc: CompileCtx) -> Compiled:
    kind = node[0]
    if kind == "lit":
        return Compiled.constant(node[1])
    if kind == "member":
        base = node[1]
        if base[0] == "call" and base[1] in _CONTEXT_OBJECTS and not base[3] and cc.region != "operation-condition":
            return _context_member(base[1], node[2], cc)
        return _member(compile_node(base, cc), node[2])
    if kind == "index":
        return _index(compile_node(node[1], cc), compile_node(node[2], cc))
    _, low, name, args = node
    if is_banned(low):
        raise UnsupportedError(f"function {name}() is not allowed in policy rules")
    special = _SPECIAL.get(low)
    if special is not None:
        return special(name, args, cc)
    impl = F.PURE.get(low)
    if impl is None:
        raise UnsupportedError(f"unknown template function {name}()")
    parts = [compile_node(a, cc) for a in args]
    if all(p.const for p in parts):
        values = [p.value for p in parts]
        try:
            return Compiled.constant(impl(*values))
        except EvaluationFailure as exc:  # fails only if evaluated; keep it for run time
            err = str(exc)

            def failing(scope: Any, _e: str = err) -> Any:
                raise EvaluationFailure(_e)

            return Compiled(failing)
    fns = [p.fn for p in parts]
    cc.work(1)
    if len(fns) == 1:
        f0 = fns[0]
        return Compiled(lambda scope: impl(f0(scope)))
    if len(fns) == 2:
        f0, f1 = fns
        return Compiled(lambda scope: impl(f0(scope), f1(scope)))
    return Compiled(lambda scope: impl(*[f(scope) for f in fns]))


def member_of(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        v = get_ci(value, name)
        if v is MISSING:
            raise EvaluationFailure(f"the property '{name}' does not exist (use tryGet() to guard)")
        return v
    raise EvaluationFailure(f"cannot read property '{name}' of {type_name(value)}")


def index_of(value: Any, idx: Any) -> Any:
    if isinstance(value, list) and isinstance(idx, int) and not isinstance(idx, bool):
        if -len(value) <= idx < len(value):
            return value[idx]
        raise EvaluationFailure(f"index {idx} is out of range for an array of {len(value)}")
    if isinstance(value, dict) and isinstance(idx, str):
        return member_of(value, idx)
    raise EvaluationFailure(f"cannot index {type_name(value)} with {type_name(idx)}")


def _member(base: Compiled, name: str) -> Compiled:
    if base.const:
        try:
            return Compiled.constant(member_of(base.value, name))
        except EvaluationFailure:
            pass
    f = base.fn
    return Compiled(lambda scope: member_of(f(scope), name))


def _index(base: Compiled, idx: Compiled) -> Compiled:
    if base.const and idx.const:
        try:
            return Compiled.constant(index_of(base.value, idx.value))
        except EvaluationFailure:
            pass
    fb, fi = base.fn, idx.fn
    return Compiled(lambda scope: index_of(fb(scope), fi(scope)))


def _const_str(name: str, args: Sequence[tuple], cc: CompileCtx, i: int = 0) -> str | None:
    if len(args) <= i:
        return None
    c = compile_node(args[i], cc)
    if c.const:
        if not isinstance(c.value, str):
            raise UnsupportedError(f"{name}() expects a string argument")
        return c.value
    return None


# ---- scope functions ---------------------------------------------------------------------------


def _parameters(name: str, args: Sequence[tuple], cc: CompileCtx) -> Compiled:
    if len(args) != 1:
        raise UnsupportedError("parameters() takes exactly one argument")
    pname = _const_str(name, args, cc)
    if pname is None:
        arg = compile_node(args[0], cc).fn

        def dyn(scope: Any) -> Any:
            key = str(arg(scope)).lower()
            if key in cc.parameters:
                return cc.parameters[key]
            raise EvaluationFailure(f"parameter '{key}' has no value")

        return Compiled(dyn)
    key = pname.lower()
    if key in cc.parameters:
        return Compiled.constant(cc.parameters[key])
    if key not in cc.declared:
        raise UnsupportedError(f"parameters('{pname}'): the definition declares no such parameter")
    msg = f"parameter '{pname}' has no value and no defaultValue"

    def missing(scope: Any) -> Any:
        raise EvaluationFailure(msg)

    return Compiled(missing)


def _field(name: str, args: Sequence[tuple], cc: CompileCtx) -> Compiled:
    if len(args) != 1:
        raise UnsupportedError("field() takes exactly one argument")
    if cc.region == "operation-condition":
        raise UnsupportedError("field() is not allowed in a modify operation condition")
    fname = _const_str(name, args, cc)
    if fname is not None:
        return Compiled(cc.field(fname, for_function=True).func)
    arg = compile_node(args[0], cc).fn
    cc.opaque()

    def dyn(scope: Any) -> Any:
        v = arg(scope)
        if not isinstance(v, str):
            raise EvaluationFailure("field() expects a string")
        return cc.field(v, for_function=True).func(scope)

    return Compiled(dyn)


def _current(name: str, args: Sequence[tuple], cc: CompileCtx) -> Compiled:
    if not cc.frames:
        raise UnsupportedError("current() is only allowed inside a count's where condition")
    if not args:
        fi = len(cc.frames) - 1
        if cc.frames[fi].kind == "value":
            return Compiled(lambda scope: scope.members[fi])
        fn = lambda scope: _none(scope.members[fi][-1])  # noqa: E731
        cc.record(("current", fi), fn, (fi, 0, 0))
        return Compiled(fn)
    target = _const_str(name, args, cc)
    if target is None:
        raise UnsupportedError("current() needs a literal index name or alias")
    low = target.lower()
    for fi in range(len(cc.frames) - 1, -1, -1):
        fr = cc.frames[fi]
        if fr.kind == "value" and fr.name == low:
            return Compiled(lambda scope, _fi=fi: scope.members[_fi])
    if "/" in target:
        path, _known = _alias_path(target, cc.catalogue)
        segs = parse_path(path)
        binding = find_binding(segs, cc.frames)
        if binding is not None:
            fi, j, plen = binding
            rest = segs[plen:]
            if STAR in rest:

                def many(scope: Any, _fi=fi, _j=j, _r=rest) -> list:
                    out: list = []
                    walk_many(scope.members[_fi][_j], _r, out)
                    return [v for v in out if v is not MISSING]  # as field() over [*]: missing left out

                cc.record(("current", low), many, binding)
                return Compiled(many)
            fn = lambda scope, _fi=fi, _j=j, _r=rest: _none(walk_single(scope.members[_fi][_j], _r))  # noqa: E731
            cc.record(("current", low), fn, binding)
            return Compiled(fn)
    raise UnsupportedError(f"current('{target}') does not name an enclosing count")


def _none(v: Any) -> Any:
    return None if v is MISSING else v


def _ctx_function(getter: Callable[[Any], Any]) -> Callable[[str, Sequence[tuple], CompileCtx], Compiled]:
    def make(name: str, args: Sequence[tuple], cc: CompileCtx) -> Compiled:
        if args:
            raise UnsupportedError(f"{name}() takes no arguments")
        if cc.region == "operation-condition" and name.lower() in ("resourcegroup", "subscription"):
            raise UnsupportedError(f"{name}() is not allowed in a modify operation condition")
        fn = lambda scope: getter(scope.ctx)  # noqa: E731
        cc.record(("ctx", name.lower()), fn)
        return Compiled(fn)

    return make


def _utcnow(name: str, args: Sequence[tuple], cc: CompileCtx) -> Compiled:
    if len(args) > 1:
        raise UnsupportedError("utcNow() takes at most one argument")
    fmt = compile_node(args[0], cc) if args else None
    cc.record(("utcnow",), _fixed_now)

    def now(scope: Any) -> str:
        if fmt is None:  # one clock reading per evaluation, so every utcNow() in a rule agrees
            text = scope.now_text
            if text is None:
                text = scope.now_text = F.format_utc(scope.ctx.now())
            return text
        dt = scope.ctx.now()
        f = fmt.fn(scope)
        if not isinstance(f, str):
            raise EvaluationFailure("utcNow(): the format must be a string")
        return F.format_net(dt, f)

    return Compiled(now)


def _fixed_now(scope: Any) -> str:
    """The instant utcNow() reads, as a cache key: only a fixed one (EvalContext.utc_now) is remembered."""
    now = scope.ctx.utc_now
    if now is None:
        raise TooBig  # the wall clock: evaluate every time
    return _format_fixed(now)


@lru_cache(maxsize=64)
def _format_fixed(now: Any) -> str:
    return F.format_utc(now)


def _if(name: str, args: Sequence[tuple], cc: CompileCtx) -> Compiled:
    if len(args) != 3:
        raise UnsupportedError("if() takes exactly three arguments")
    c, a, b = (compile_node(x, cc) for x in args)
    if c.const and isinstance(c.value, bool):
        return a if c.value else b

    def run(scope: Any) -> Any:
        v = c.fn(scope)
        if isinstance(v, str) and v.lower() in ("true", "false"):
            v = v.lower() == "true"
        if not isinstance(v, bool):
            raise EvaluationFailure(f"if(): the condition must be a boolean, got {type_name(v)}")
        return a.fn(scope) if v else b.fn(scope)

    return Compiled(run)


_CONTEXT_OBJECTS: dict[str, Callable[[Any], Any]] = {
    "requestcontext": lambda c: c.request_context_obj(),
    "resourcegroup": lambda c: c.resource_group_obj(),
    "subscription": lambda c: c.subscription_obj(),
    "policy": lambda c: c.policy_obj(),
}


_CTX_MEMBERS: dict[int, tuple[Any, dict[tuple[str, str], Any]]] = {}
_UNREAD: Any = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _context_member(low: str, member: str, cc: CompileCtx) -> Compiled:
    """`resourceGroup().managedBy`: the same as `_member` of the context function, recorded as a read of
    that one member (resources of different groups share a verdict that reads only `managedBy`)."""
    obj = _CONTEXT_OBJECTS[low]
    slot = (low, member)

    def fn(scope: Any) -> Any:
        # a scalar member is a function of the context alone: read once per context (few per inventory)
        ctx = scope.ctx
        ent = _CTX_MEMBERS.get(id(ctx))
        if ent is None or ent[0] is not ctx:
            if len(_CTX_MEMBERS) > 4096:
                _CTX_MEMBERS.clear()
            ent = _CTX_MEMBERS[id(ctx)] = (ctx, {})
        v = ent[1].get(slot, _UNREAD)
        if v is _UNREAD:
            v = member_of(obj(ctx), member)
            if type(v) in _SCALARS:
                ent[1][slot] = v
        return v

    def key(scope: Any) -> Any:
        try:
            return fn(scope)
        except EvaluationFailure:
            raise TooBig from None  # evaluate, do not remember

    cc.record(("ctx", low, member.lower()), key)
    fn.share = ("ctx", low, member)  # type: ignore[attr-defined] # what it reads (evaluate.fused share keys)
    return Compiled(fn)


_SPECIAL: dict[str, Callable[[str, Sequence[tuple], CompileCtx], Compiled]] = {
    "parameters": _parameters,
    "field": _field,
    "current": _current,
    "if": _if,
    "utcnow": _utcnow,
    **{k: _ctx_function(v) for k, v in _CONTEXT_OBJECTS.items()},
}
