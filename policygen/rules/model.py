"""`Doc`: one policy object parsed once, in a single pass, into what the rules look at.

Rules never walk the JSON themselves: the policy rule is walked once here and flattened into
conditions, logical operators, counts and template expressions (each with its JSON pointer and the
region that evaluates it), so ~90 rules cost little more than one walk. Keys of the policy language are
case-insensitive in Azure (built-ins write `anyof`, `notequals`, `Equals`), so lookups here are too.
What an expression string says (its calls, parameters, fields) is policygen.rules.expr_facts' business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.expr_facts import analyse
from policygen.rules.nodes import _SHAPES, Cond, Count, Expr, esc, shape_of

RM_MODES = frozenset({"all", "indexed"})
# Azure fails evaluation of objects nested deeper than 128 levels (definition-structure-policy-rule, limits);
# the walk stops there, so a hostile 1,000-level `not` chain is a finding (RULE-04), never a RecursionError.
MAX_DEPTH = 128


def detect_kind(obj: Mapping[str, Any]) -> str | None:
    """definition / initiative / assignment from REST or bare form (type first, then the content)."""
    rtype = obj.get("type")
    if isinstance(rtype, str):
        low = rtype.lower()
        if low.endswith("/policydefinitions"):
            return "definition"
        if low.endswith("/policysetdefinitions"):
            return "initiative"
        if low.endswith("/policyassignments"):
            return "assignment"
    props = obj.get("properties")
    for candidate in (props, obj):
        if isinstance(candidate, dict):
            if ci_key(candidate, "policyRule") is not None:
                return "definition"
            if ci_key(candidate, "policyDefinitions") is not None:
                return "initiative"
            if ci_key(candidate, "policyDefinitionId") is not None:
                return "assignment"
    return None


class Doc:
    """A policy definition, initiative or assignment, walked once."""

    def __init__(
        self,
        obj: dict,
        kind: str,
        *,
        file: str | None = None,
        own: bool = False,
        custom: bool = True,
        catalogue: Any = None,
        definitions: Mapping[str, dict] | None = None,
        assignment_scope: str | None = None,
        size: int | None = None,
        escaped: bool = False,
    ):
        self.obj = obj
        self.kind = kind
        self.file = file
        self.own = own
        self.custom = custom
        self.catalogue = catalogue
        self.definitions = definitions or {}
        self.assignment_scope = assignment_scope
        self.size = size
        self.escaped = escaped
        props = obj.get("properties")
        # REST form has `properties`; bare form is the properties object itself.
        if isinstance(props, dict) and (
            "name" in obj or "type" in obj or "id" in obj or detect_kind(props) is not None or len(obj) <= 3
        ):
            self.props: dict = props
            self.base = "/properties"
        else:
            self.props = obj
            self.base = ""
        self.name = obj.get("name") if self.base else None
        self.cache: dict[str, Any] = {}  # per-document memo shared by rules (e.g. initiative members)
        self.conds: list[Cond] = []
        self.by_op: dict[str | None, list[Cond]] = {}  # conditions by lower-case operator (None: 0 or 2+)
        self.irregular: list[Cond] = []  # leaves that are not exactly {operand, operator}
        self.big_literals: list[Cond] = []  # leaves whose operator value is a very long string or array
        self.n_conditions = {"if": 0, "existence": 0}
        self.logicals: list[tuple[str, dict, dict[str, str], str]] = []
        self.counts: list[Count] = []
        self.exprs: list[Expr] = []
        self.malformed: list[tuple[str, str]] = []  # (pointer, problem) from the walk, for RULE-02
        self.too_deep: list[str] = []  # pointers where the walk stopped at MAX_DEPTH, for RULE-04
        self.escaped_strings: list[tuple[str, str, str]] = []  # (pointer, text, region)
        self.param_refs: dict[str, list[str]] = {}
        self.params: dict[str, Any] = {}
        self.params_l: dict[str, str] = {}
        p = ci_get(self.props, "parameters")
        self.params_ptr = self.base + "/" + (ci_key(self.props, "parameters") or "parameters")
        if isinstance(p, dict):
            self.params = p
            self.params_l = {k.lower(): k for k in p}
        self.rule: dict | None = None
        self.mode: Any = None
        self.effect_raw: Any = None
        self.effect_ptr = ""
        self.effect_param: str | None = None
        self.effects: frozenset[str] = frozenset()
        self.effect_default: str | None = None
        self.then: dict | None = None
        self.then_ptr = ""
        self.details: Any = None
        self.details_ptr = ""
        self.if_node: Any = None
        self.if_ptr = ""
        if kind == "definition":
            self._walk_definition()

    # ------------------------------------------------------------------ helpers for rules
    def ptr(self, *tokens: str | int) -> str:
        if len(tokens) == 1:
            t = tokens[0]
            return f"{self.base}/{esc(t) if type(t) is str else t}"
        return self.base + "".join("/" + esc(str(t)) for t in tokens)

    def conds_with(self, *ops: str) -> list[Cond]:
        """Conditions whose (single) operator is one of `ops` (lower-case)."""
        if len(ops) == 1:
            return self.by_op.get(ops[0], [])
        return [c for op in ops for c in self.by_op.get(op, ())]

    def param_spec(self, name: str) -> dict | None:
        key = self.params_l.get(name.lower())
        spec = self.params.get(key) if key is not None else None
        return spec if isinstance(spec, dict) else None

    def param_type(self, name: str) -> str | None:
        spec = self.param_spec(name)
        t = ci_get(spec, "type") if spec else None
        return t.lower() if isinstance(t, str) else None

    @property
    def mode_l(self) -> str | None:
        return self.mode.lower() if isinstance(self.mode, str) else None

    @property
    def rm_mode(self) -> bool:
        """Resource Manager mode (all / indexed, or none at all, which Azure treats as such)."""
        return self.mode is None or self.mode_l in RM_MODES

    # ------------------------------------------------------------------ the single walk
    def _walk_definition(self) -> None:
        props = self.props
        self.mode = ci_get(props, "mode")
        rule_key = ci_key(props, "policyRule")
        rule = props.get(rule_key) if rule_key else None
        if not isinstance(rule, dict):
            return
        self.rule = rule
        rptr = self.base + "/" + rule_key
        if_key = ci_key(rule, "if")
        then_key = ci_key(rule, "then")
        if if_key is not None:
            self.if_node = rule[if_key]
            self.if_ptr = rptr + "/" + if_key
            self._cond(self.if_node, self.if_ptr, "if", ())
        then = rule.get(then_key) if then_key else None
        if not isinstance(then, dict):
            return
        self.then = then
        self.then_ptr = rptr + "/" + then_key
        eff_key = ci_key(then, "effect")
        if eff_key is not None:
            self.effect_raw = then[eff_key]
            self.effect_ptr = self.then_ptr + "/" + eff_key
            self._resolve_effect()
        det_key = ci_key(then, "details")
        if det_key is not None:
            self.details = then[det_key]
            self.details_ptr = self.then_ptr + "/" + det_key
            self._details(self.details, self.details_ptr)

    def _resolve_effect(self) -> None:
        raw = self.effect_raw
        if not isinstance(raw, str):
            return
        if raw.startswith("["):
            self._string(raw, self.effect_ptr, "effect", (), None)
            info = analyse(raw) if is_expression(raw) else None
            if info and info.bare_param:
                self.effect_param = info.bare_param
                spec = self.param_spec(info.bare_param) or {}
                allowed = ci_get(spec, "allowedValues")
                default = ci_get(spec, "defaultValue")
                values = set()
                if isinstance(allowed, list):
                    values.update(v.lower() for v in allowed if isinstance(v, str))
                if isinstance(default, str):
                    values.add(default.lower())
                    self.effect_default = default.lower()
                self.effects = frozenset(values)
        else:
            self.effects = frozenset({raw.lower()})
            self.effect_default = raw.lower()

    def _cond(self, node: Any, ptr: str, region: str, counts: tuple[Count, ...], depth: int = -1) -> None:
        """`depth` is the pointer's number of `/` (the keys walked here never contain one), carried
        down instead of recounted at every node."""
        if depth < 0:
            depth = ptr.count("/")
        if depth > MAX_DEPTH:
            self.too_deep.append(ptr)
            return
        if type(node) is not dict and not isinstance(node, dict):
            self.malformed.append((ptr, "a condition must be an object"))
            return
        shape = _SHAPES.get(tuple(node)) or shape_of(node)
        keys = shape.keys
        self.n_conditions[region] += 1
        if shape.logical:
            self.logicals.append((ptr, node, keys, region))
            for lk in shape.logical:
                k = keys[lk]
                v = node[k]
                if lk == "not":
                    self._cond(v, ptr + "/" + k, region, counts, depth + 1)
                elif isinstance(v, list):
                    base = ptr + "/" + k + "/"
                    for i, child in enumerate(v):
                        self._cond(child, base + str(i), region, counts, depth + 2)
            return
        cond = Cond(ptr, node, shape, region, counts)
        self.conds.append(cond)
        if not shape.regular:
            self.irregular.append(cond)
        v = cond.op_value
        if (type(v) is str or type(v) is list) and len(v) > 32768:
            self.big_literals.append(cond)
        bucket = self.by_op.get(cond.op)
        if bucket is None:
            self.by_op[cond.op] = [cond]
        else:
            bucket.append(cond)
        operand = cond.operand
        if operand == "count":
            cnode = cond.operand_value
            cptr = ptr + "/" + cond.operand_key
            if isinstance(cnode, dict):
                count = Count(cptr, cnode, counts)
                count.cond = cond
                cond.count = count
                self.counts.append(count)
                if isinstance(count.target, str) and count.target.startswith("["):
                    self._string(count.target, cptr + "/" + count.keys[count.kind], region, counts, cond)
                if count.where is not None:
                    self._cond(count.where, cptr + "/" + count.keys["where"], region, (*counts, count), depth + 2)
        elif operand is not None:
            v = cond.operand_value
            if type(v) is str and v[:1] == "[":
                self._string(v, ptr + "/" + cond.operand_key, region, counts, cond)
        ops = (cond.op_key,) if cond.op is not None else [keys[op] for op in cond.ops]
        for k in ops:
            v = node[k]
            if type(v) is str:
                if v[:1] == "[":
                    self._string(v, ptr + "/" + k, region, counts, cond)
            elif type(v) is list:
                for i, item in enumerate(v):
                    if type(item) is str and item[:1] == "[":
                        self._string(item, f"{ptr}/{k}/{i}", region, counts, cond)

    def _string(self, s: str, ptr: str, region: str, counts: tuple[Count, ...], cond: Cond | None) -> None:
        """Record a `[`-string; called only for strings starting with `[`."""
        if s.startswith("[["):
            self.escaped_strings.append((ptr, s, region))
            return
        if len(s) > 2 and s[-1] == "]":
            expr = Expr(ptr, s, region, counts, cond)
            self.exprs.append(expr)
            refs = self.param_refs
            for name in expr.info.params:
                lst = refs.get(name)
                if lst is None:
                    refs[name] = [ptr]
                else:
                    lst.append(ptr)

    def _details(self, det: Any, ptr: str) -> None:
        if isinstance(det, dict):
            for k, v in det.items():
                lk = k.lower()
                sub = ptr + "/" + esc(k)
                if lk == "existencecondition":
                    self._cond(v, sub, "existence", ())
                elif lk == "deployment" and isinstance(v, dict):
                    self._deployment(v, sub)
                elif lk == "operations" and isinstance(v, list):
                    for i, op in enumerate(v):
                        self._values(op, f"{sub}/{i}", "operation")
                else:
                    self._values(v, sub, "details")
        else:
            self._values(det, ptr, "details")

    def _deployment(self, dep: dict, ptr: str) -> None:
        for k, v in dep.items():
            sub = ptr + "/" + esc(k)
            if k.lower() == "properties" and isinstance(v, dict):
                for pk, pv in v.items():
                    lk = pk.lower()
                    psub = sub + "/" + esc(pk)
                    if lk == "template":
                        continue  # ARM evaluates the embedded template, not Policy (FN-05)
                    self._values(pv, psub, "deploymentParameters" if lk == "parameters" else "details")
            else:
                self._values(v, sub, "details")

    def _values(self, v: Any, ptr: str, region: str) -> None:
        # Leaves that are neither `[`-strings nor containers are skipped without a call or a pointer.
        if isinstance(v, str):
            if v.startswith("["):
                self._string(v, ptr, region, (), None)
        elif isinstance(v, dict):
            for k, item in v.items():
                t = type(item)
                if (t is str and item[:1] != "[") or t is int or t is bool or t is float or item is None:
                    continue
                self._values(item, ptr + "/" + esc(k), region)
        elif isinstance(v, list):
            for i, item in enumerate(v):
                t = type(item)
                if (t is str and item[:1] != "[") or t is int or t is bool or t is float or item is None:
                    continue
                self._values(item, ptr + "/" + str(i), region)


def walk_strings(v: Any, ptr: str = ""):
    """Every string in a JSON value with its pointer (for the rare rules that need all of them)."""
    if isinstance(v, str):
        yield ptr, v
    elif isinstance(v, dict):
        for k, item in v.items():
            yield from walk_strings(item, ptr + "/" + esc(k))
    elif isinstance(v, list):
        for i, item in enumerate(v):
            yield from walk_strings(item, ptr + "/" + str(i))
