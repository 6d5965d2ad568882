"""FN: template expressions — syntax, allowed functions, arity, escaping and evaluation regions."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from policygen.expressions import function_arity, is_expression
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc, analyse, ci_get, ci_key, walk_strings

RULE = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"
MODIFY = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify"
ESCAPE = "https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions#escape-characters"
DINE = "https://learn.microsoft.com/azure/governance/policy/concepts/effect-deploy-if-not-exists"

BANNED = frozenset(
    {
        "copyindex",
        "datetimeadd",
        "datetimefromepoch",
        "datetimetoepoch",
        "deployment",
        "environment",
        "extensionresourceid",
        "lambda",
        "lambdavariables",
        "filter",
        "map",
        "reduce",
        "sort",
        "toobject",
        "mapvalues",
        "groupby",
        "managementgroup",
        "managementgroupresourceid",
        "newguid",
        "pickzones",
        "providers",
        "reference",
        "resourceid",
        "subscriptionresourceid",
        "tenantresourceid",
        "tenant",
        "variables",
    }
)


@lru_cache(maxsize=32768)
def function_problems(text: str) -> tuple[str, ...]:
    """Syntax, unknown/banned functions and arity problems of one policy-evaluated expression."""
    info = analyse(text)
    if info.error is not None:
        return (f"invalid template expression {text!r}: {info.error.reason} (at character {info.error.pos + 1})",)
    out = []
    for call, _depth in info.calls:
        key = call.name.lower()
        if key in BANNED or key.startswith("list"):
            out.append(f"{call.name}() is not available in policy rules (only inside a deployment template)")
            continue
        arity = function_arity(key)
        if arity is None:
            out.append(f"unknown template function {call.name}()")
            continue
        lo, hi = arity
        n = len(call.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"{lo}+" if hi is None else f"{lo}-{hi}"
            out.append(f"{call.name}() takes {want} argument{'s' if want != '1' else ''}, got {n}")
        elif key == "createobject" and n % 2:
            out.append("createObject() takes key/value pairs (an even number of arguments)")
    return tuple(out)


class AllowedFunctions(Rule):
    """Expressions parse and call only ARM functions Policy allows (no reference, resourceId, variables, list*)."""

    code = "FN-01"
    name = "functions.allowed"
    severity = Severity.ERROR
    kinds = frozenset({"definition", "initiative", "assignment"})
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.kind == "definition":
            for e in doc.exprs:
                for problem in function_problems(e.text):
                    yield e.ptr, problem
            return
        # initiatives: member parameter values; assignments: parameter values
        for ptr, s in _value_strings(doc):
            for problem in function_problems(s):
                yield ptr, problem


def _value_strings(doc: Doc) -> Iterable[tuple[str, str]]:
    if doc.kind == "initiative":
        from policygen.rules.initiatives import member_expressions

        for ptr, s, _name in member_expressions(doc):
            yield ptr, s
    else:
        pk = ci_key(doc.props, "parameters")
        if pk is not None:
            for ptr, s in walk_strings(doc.props[pk], doc.ptr(pk)):
                if is_expression(s):
                    yield ptr, s


class PolicyOnlyFunctions(Rule):
    """requestContext().identity is enforcement-only (no compliance data); utcNow() is not for defaults."""

    code = "FN-02"
    name = "functions.policy_only"
    severity = Severity.INFO
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            if e.info.uses_identity and doc.effects - {"deny", "denyaction", "disabled", "modify", "append"}:
                yield e.ptr, "requestContext().identity is evaluated only on requests; compliance scans see null"
        for name, spec in doc.params.items():
            dv = ci_get(spec, "defaultValue") if isinstance(spec, dict) else None
            if isinstance(dv, str) and "utcnow(" in dv.lower():
                yield doc.params_ptr + "/" + name, "utcNow() in a parameter defaultValue is not evaluated by Policy"


class ModifyConditionFunctions(Rule):
    """Modify `operations[].condition` may not use field(), resourceGroup() or subscription()."""

    code = "FN-03"
    name = "functions.modify_condition"
    severity = Severity.ERROR
    source = MODIFY
    effects = frozenset({"modify"})

    FORBIDDEN = frozenset({"field", "resourcegroup", "subscription"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            if e.region != "operation" or not e.ptr.lower().endswith("/condition"):
                continue
            bad = sorted({c.name for c, _ in e.info.calls if c.name.lower() in self.FORBIDDEN})
            if bad:
                yield e.ptr, f"modify operation conditions cannot use {', '.join(b + '()' for b in bad)}"


class Escaping(Rule):
    """ARM-template escaping (`[[`) is for JSON embedded in templates; REST bodies must not be escaped."""

    code = "FN-04"
    name = "functions.escaping"
    severity = Severity.ERROR
    kinds = frozenset({"definition", "initiative", "assignment"})
    source = ESCAPE

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.escaped:
            yield (
                "",
                "ARM-template-escaped ('[[') source: validated after removing one '[' (send it unescaped "
                "through REST, escaped only inside ARM templates)",
                Severity.INFO,
            )
            return
        for ptr, s, _region in doc.escaped_strings:
            inner = s[1:]
            if is_expression(inner) and analyse(inner).error is None:
                yield (
                    ptr,
                    (
                        f"{s!r} is ARM-template-escaped; Policy reads it as the literal {inner!r} "
                        "(its parameters look unused). Remove one '[' for REST/SDK/CLI"
                    ),
                )


class DeploymentRegions(Rule):
    """Inside a DINE deployment, field() and policy parameters work only via deployment.properties.parameters."""

    code = "FN-05"
    name = "functions.deployment_regions"
    severity = Severity.INFO
    source = DINE
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom or not isinstance(doc.details, dict):
            return
        dep = ci_get(doc.details, "deployment")
        props = ci_get(dep, "properties") if isinstance(dep, dict) else None
        tk = ci_key(props, "template") if isinstance(props, dict) else None
        if tk is None:
            return
        base = f"{doc.details_ptr}/{ci_key(doc.details, 'deployment')}/{ci_key(dep, 'properties')}/{tk}"
        for ptr, s in walk_strings(props[tk], base):
            if is_expression(s) and "field(" in s.lower():
                yield ptr, "field() inside the embedded template is evaluated by ARM; pass it as a deployment parameter"


class ExpressionWhitespace(Rule):
    """Whitespace before `(` or the closing `]` is accepted by Azure but breaks simpler parsers."""

    code = "FN-06"
    name = "functions.whitespace"
    severity = Severity.INFO
    source = RULE
    needs = ("exprs",)
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.own:
            return
        for e in doc.exprs:
            if e.info.whitespace_quirk:
                yield e.ptr, f"whitespace before '(' or ']' in {e.text[:60]!r}"
