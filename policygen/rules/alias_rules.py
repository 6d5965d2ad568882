"""ALS: alias semantics — spelling, `[*]` all-member semantics, arrays from field(), known-bad aliases."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fields import iter_field_refs
from policygen.rules.model import Doc

ALIAS = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias"
ARRAYS = "https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays"
KNOWN = "https://github.com/Azure/azure-policy#known-issues"
LINTER = "https://github.com/Azure/azure-policy-linter"

POSITIVE = frozenset({"equals", "like", "match", "matchinsensitively", "contains", "in", "containskey"})
STRING_FUNCS = frozenset(
    {
        "tolower",
        "toupper",
        "split",
        "replace",
        "startswith",
        "endswith",
        "substring",
        "trim",
        "padleft",
        "base64",
        "uricomponent",
    }
)
# Microsoft.Resources types that Policy does not evaluate (subscriptions and resource groups are).
EXEMPT_TYPES = frozenset(
    {
        "microsoft.resources/deployments",
        "microsoft.resources/deploymentscripts",
        "microsoft.resources/templatespecs",
        "microsoft.resources/tags",
        "microsoft.resources/links",
        "microsoft.resources/deploymentstacks",
    }
)
GENERATED = ("privateendpointconnections",)
READ_ONLY_SUFFIXES = ("provisioningstate", "creationtime", "createdtime", "createdat", "lastmodifiedtime")


class AliasSpelling(Rule):
    """Alias names match case-insensitively; spell them as the catalogue does."""

    code = "ALS-01"
    name = "aliases.spelling"
    severity = Severity.INFO
    source = ALIAS
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        cat = doc.catalogue
        if cat is None or not doc.own:
            return
        for ptr, name, _where in iter_field_refs(doc):
            alias = cat.get(name) if "/" in name else None
            # Namespace casing varies even inside Azure's own dumps (Microsoft.Keyvault); compare the rest.
            if alias is not None and alias.name.split("/", 1)[1] != name.split("/", 1)[1]:
                yield ptr, f"alias {name!r} is spelled {alias.name!r} in the catalogue"


class StarAllMembers(Rule):
    """A field condition on a `[*]` alias must hold for all members and is true for an empty array: use count."""

    code = "ALS-02"
    name = "aliases.star_all_members"
    severity = Severity.WARNING
    source = ARRAYS
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.own:
            return  # intent is unknowable for third-party JSON; built-ins use all-member semantics on purpose
        for c in doc.conds:
            if c.counts or c.operand != "field" or c.op not in POSITIVE:
                continue
            f = c.operand_value
            if isinstance(f, str) and "[*]" in f:
                yield (
                    c.ptr,
                    (
                        f"{f!r} {c.op_key} holds only if every member matches and is true for an empty "
                        "array; use count for any/none"
                    ),
                )


class FieldFunctionArray(Rule):
    """`field('<[*] alias>')` returns an array (`[]` when missing), not a string."""

    code = "ALS-03"
    name = "aliases.field_function_array"
    severity = Severity.INFO
    source = ARRAYS
    needs = ("exprs",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            if not e.info.fields or not any("[*]" in f for f in e.info.fields):
                continue
            for call, _ in e.info.calls:
                if call.name.lower() in STRING_FUNCS and call.args:
                    arg = call.args[0]
                    if getattr(arg, "name", "").lower() == "field" and "[*]" in str(getattr(arg.args[0], "value", "")):
                        yield e.ptr, f"{call.name}() gets an array from field() of a [*] alias"
                        break


class KnownBadAliases(Rule):
    """Types Policy never evaluates and RP-generated properties make a rule never fire."""

    code = "ALS-04"
    name = "aliases.known_bad"
    severity = Severity.WARNING
    source = KNOWN

    def check(self, doc: Doc) -> Iterable[Hit]:
        conds = doc.conds if "deny" in doc.effects else doc.conds_with("equals", "in")
        for c in conds:
            if c.region != "if" or c.operand != "field" or not isinstance(c.operand_value, str):
                continue
            f = c.operand_value.lower()
            if f == "type" and c.op in ("equals", "in"):
                vals = c.op_value if isinstance(c.op_value, list) else [c.op_value]
                for v in vals:
                    if isinstance(v, str) and v.lower() in EXEMPT_TYPES:
                        yield c.ptr, f"Azure Policy does not evaluate {v}; this condition never matches"
            elif "deny" in doc.effects and any(g in f for g in GENERATED):
                yield (
                    c.ptr,
                    (
                        f"{c.operand_value!r} is generated by the resource provider and absent from "
                        "requests, so deny never sees it"
                    ),
                )


class PartialCoverageAliases(Rule):
    """Read-only aliases (e.g. provisioningState) are absent from requests: useless for deny."""

    code = "ALS-05"
    name = "aliases.read_only"
    severity = Severity.WARNING
    source = LINTER
    effects = frozenset({"deny"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "deny" not in doc.effects:
            return
        for ptr, name, where in iter_field_refs(doc):
            if where == "field" and "/" in name and name.lower().endswith(READ_ONLY_SUFFIXES):
                yield ptr, f"{name!r} is read-only (set by the service), so deny never sees it in a request"
