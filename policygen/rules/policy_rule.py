"""RULE: policyRule grammar (if/then, logical operators, leaves) and authoring/evaluation limits."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc, ci_key

RULE = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"
LINTER = "https://github.com/Azure/azure-policy-linter"


class IfThen(Rule):
    """policyRule has exactly `if` and `then`, and `then.effect` is set."""

    code = "RULE-01"
    name = "policy_rule.if_then"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        rk = ci_key(doc.props, "policyRule")
        if rk is None:
            yield doc.ptr("policyRule"), "policyRule is missing"
            return
        rule = doc.props[rk]
        if not isinstance(rule, dict):
            yield doc.ptr(rk), "policyRule must be an object with 'if' and 'then'"
            return
        keys = {k.lower(): k for k in rule}
        for want in ("if", "then"):
            if want not in keys:
                yield doc.ptr(rk), f"policyRule has no {want!r}"
        for low, k in keys.items():
            if low not in ("if", "then"):
                yield doc.ptr(rk, k), f"unexpected key {k!r} in policyRule (only 'if' and 'then')"
        then = rule.get(keys.get("then", ""), None)
        if "then" in keys and not isinstance(then, dict):
            yield doc.ptr(rk, keys["then"]), "then must be an object with 'effect'"
        elif isinstance(then, dict) and ci_key(then, "effect") is None:
            yield doc.ptr(rk, keys["then"]), "then.effect is missing"


class ConditionGrammar(Rule):
    """Logical operators are well formed; each leaf has one of field/value/count and exactly one operator."""

    code = "RULE-02"
    name = "policy_rule.grammar"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        yield from doc.malformed
        for ptr, node, keys, _region in doc.logicals:
            if len(keys) != 1:
                others = sorted(node)
                yield ptr, f"a logical operator stands alone in its object; found keys {others}"
            for low, k in keys.items():
                v = node[k]
                if low == "not":
                    if not isinstance(v, dict):
                        yield ptr + "/" + k, "'not' takes one condition object"
                elif low in ("allof", "anyof") and (not isinstance(v, list) or not v):
                    yield ptr + "/" + k, f"{k!r} takes a non-empty array of conditions"
        for c in doc.irregular:
            keys = c.keys
            if c.op is not None and c.operand is not None and "source" not in keys:
                continue  # one operand and operator plus unknown keys: OP-01's business
            if "source" in keys:
                yield c.ptr, '\'source\' conditions ("source": "action") are no longer supported'
                continue
            operands = [keys[k] for k in keys if k in ("field", "value", "count")]
            if len(operands) != 1:
                what = "no field/value/count operand" if not operands else f"several operands {operands}"
                yield c.ptr, f"a condition needs exactly one of field, value or count; found {what}"
            n_ops = len(c.ops)
            if n_ops == 0:
                extra = [k for low, k in keys.items() if low not in ("field", "value", "count")]
                if not extra:  # unknown keys are reported as unknown operators (OP-01)
                    yield c.ptr, "the condition has no operator"
            elif n_ops > 1:
                yield c.ptr, f"a condition takes exactly one operator; found {[keys[o] for o in c.ops]}"


class AuthoringLimits(Rule):
    """Rule size limits: conditions, functions, arguments, nesting, expression length and count limits."""

    code = "RULE-03"
    name = "policy_rule.limits"
    severity = Severity.ERROR
    source = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.rule is None:
            return
        n_if = doc.n_conditions["if"]
        n_then = doc.n_conditions["existence"]
        if n_if > 4096:
            yield doc.if_ptr, f"{n_if} condition expressions in 'if'; Azure allows at most 4,096"
        if n_then > 128:
            yield doc.then_ptr, f"{n_then} condition expressions in 'then'; Azure allows at most 128"
        n_funcs = 0
        nested_ifs = 0
        for e in doc.exprs:
            info = e.info
            n_funcs += len(info.calls)
            nested_ifs += info.n_ifs
            if len(e.text) < 512 and info.max_depth <= 64 and info.max_args <= 128:
                continue
            if info.max_args > 128:
                yield e.ptr, f"a function call has {info.max_args} arguments; Azure allows at most 128"
            if info.max_depth > 64:
                yield e.ptr, f"functions nest {info.max_depth} deep; Azure allows at most 64"
            if len(e.text) > 81920:
                yield e.ptr, f"expression has {len(e.text):,} characters; Azure allows at most 81,920"
        n_value_counts = 0
        per_array: dict[str, int] = {}
        for cnt in doc.counts:
            if cnt.kind == "value":
                n_value_counts += 1
                iterations = 1
                for c in (*cnt.parents, cnt):
                    if c.kind == "value" and isinstance(c.target, list):
                        iterations *= max(len(c.target), 1)
                if iterations > 100:
                    yield cnt.ptr, f"value count iterates {iterations} times; Azure allows at most 100"
            elif cnt.kind == "field" and isinstance(cnt.target, str):
                arr = cnt.target.lower()
                per_array[arr] = per_array.get(arr, 0) + 1
                if per_array[arr] == 6:
                    yield cnt.ptr, f"more than 5 field counts over {cnt.target!r}; Azure allows at most 5 per array"
        if n_value_counts > 10:
            yield doc.if_ptr, f"{n_value_counts} value counts; Azure allows at most 10 per rule"
        if n_funcs > 2048:
            yield doc.ptr("policyRule"), f"{n_funcs} policy functions; Azure allows at most 2,048 per rule"
        if nested_ifs > 512:
            yield doc.ptr("policyRule"), f"{nested_ifs} nested conditionals; Azure allows at most 512"


class EvaluationLimits(Rule):
    """Literals that exceed evaluation-time limits (131,072-character strings) fail as an implicit deny."""

    code = "RULE-04"
    name = "policy_rule.evaluation_limits"
    severity = Severity.WARNING
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.big_literals:
            v = c.op_value
            if isinstance(v, str) and len(v) > 131072:
                yield c.ptr + "/" + c.op_key, f"string of {len(v):,} characters exceeds the 131,072 evaluation limit"
            elif isinstance(v, list) and len(v) > 32768:
                yield c.ptr + "/" + c.op_key, f"array of {len(v):,} values exceeds the 32,768-node evaluation limit"


class TypeConditionFirst(Rule):
    """Put the `type` condition first and match types with `equals`/`in`, not `like`/`contains`."""

    code = "RULE-05"
    name = "policy_rule.type_first"
    severity = Severity.WARNING
    source = LINTER
    applies = "own"

    LOOSE = frozenset(
        {
            "like",
            "notlike",
            "contains",
            "notcontains",
            "match",
            "matchinsensitively",
            "notmatch",
            "notmatchinsensitively",
        }
    )

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.own:
            return
        for c in doc.conds:
            if (
                c.region == "if"
                and c.operand == "field"
                and isinstance(c.operand_value, str)
                and c.operand_value.lower() == "type"
                and c.op in self.LOOSE
                and "*" not in str(c.op_value)
            ):
                yield c.ptr, f"type matched with {c.op_key!r}; use 'equals' or 'in' to avoid matching other types"
        node = doc.if_node
        if isinstance(node, dict):
            k = ci_key(node, "allOf")
            items = node.get(k) if k else None
            if isinstance(items, list) and items:
                idx = next(
                    (
                        i
                        for i, it in enumerate(items)
                        if isinstance(it, dict) and str(it.get(ci_key(it, "field") or "", "")).lower() == "type"
                    ),
                    None,
                )
                if idx is not None and idx > 0:
                    yield f"{doc.if_ptr}/{k}/{idx}", "put the 'type' condition first in allOf"
