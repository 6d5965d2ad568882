"""The rule catalogue and the engine that runs it; a crashing rule becomes a finding, not a traceback."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from policygen.rules.base import ALL_KINDS, CollectionRule, Finding, Rule, Severity, Summary
from policygen.rules.model import Doc

MODULES = (
    "definition",
    "mode",
    "parameters",
    "policy_rule",
    "operators",
    "fields",
    "alias_rules",
    "functions",
    "effects",
    "initiatives",
    "assignments",
)
PREFIX_ORDER = ("DEF", "MODE", "PAR", "RULE", "OP", "FLD", "ALS", "FN", "EFF", "SET", "ASG")


class InputShape(Rule):
    """The object is a policy definition, initiative (policy set) or assignment."""

    code = "DEF-00"
    name = "envelope.kind"
    severity = Severity.ERROR
    kinds = ALL_KINDS
    source = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics"

    def check(self, doc: Doc) -> Iterable:
        return ()


def _sort_key(rule: type[Rule]) -> tuple[int, int]:
    prefix, _, num = rule.code.partition("-")
    return PREFIX_ORDER.index(prefix), int(num)


_RULES: list[type[Rule]] | None = None
_INSTANCES: dict[str, list[Rule]] = {}
_GATED: dict[tuple[str, bool, bool], list[Rule]] = {}


def all_rules() -> list[type[Rule]]:
    """Every rule class, ordered by code (DEF-00 … ASG-09)."""
    global _RULES
    if _RULES is None:
        found: list[type[Rule]] = [InputShape]
        for mod in MODULES:
            module = importlib.import_module(f"policygen.rules.{mod}")
            for obj in vars(module).values():
                if (
                    isinstance(obj, type)
                    and issubclass(obj, Rule)
                    and obj.__module__ == module.__name__
                    and "code" in vars(obj)
                ):
                    found.append(obj)
        _RULES = sorted(found, key=_sort_key)
    return _RULES


def rules_for(kind: str) -> list[Rule]:
    """Rule instances for one kind (built whole before publishing: the emulator validates from threads)."""
    if not _INSTANCES:
        built = {k: [r() for r in all_rules() if k in r.kinds and r is not InputShape] for k in ALL_KINDS}
        _INSTANCES.update(built)
    return _INSTANCES[kind]


def gated_rules(kind: str, custom: bool, own: bool) -> list[Rule]:
    """The rules that can fire for this kind of object (built-ins skip custom-only rules, etc.)."""
    key = (kind, custom, own)
    rules = _GATED.get(key)
    if rules is None:
        rules = [
            r
            for r in rules_for(kind)
            if r.applies == "all" or (r.applies == "custom" and custom) or (r.applies == "own" and own)
        ]
        _GATED[key] = rules
    return rules


def get(code: str) -> type[Rule]:
    for rule in all_rules():
        if rule.code == code:
            return rule
    raise KeyError(code)


def run(doc: Doc, source: str | None) -> list[Finding]:
    """Run every rule for the document's kind; each hit becomes a Finding (no line yet)."""
    out: list[Finding] = []
    effects = doc.effects
    for rule in gated_rules(doc.kind, doc.custom, doc.own):
        if rule.effects is not None and not (rule.effects & effects):
            continue
        if rule.needs and not getattr(doc, rule.needs[0]):
            continue
        code = rule.code
        sev = rule.severity
        try:
            for hit in rule.check(doc) or ():
                if len(hit) == 3:
                    out.append(Finding(code, hit[2], hit[1], source, None, hit[0]))  # type: ignore[misc]
                else:
                    out.append(Finding(code, sev, hit[1], source, None, hit[0]))
        except Exception as exc:  # a broken rule must not hide the other rules' findings
            out.append(
                Finding(code, Severity.ERROR, f"rule {code} crashed: {type(exc).__name__}: {exc}", source, None, "")
            )
    return out


def run_collection(summaries: list[Summary]) -> list[Finding]:
    out: list[Finding] = []
    for rule_cls in all_rules():
        if not issubclass(rule_cls, CollectionRule):
            continue
        rule = rule_cls()
        try:
            for hit in rule.check_all(summaries):
                summary, ptr, message = hit[:3]
                sev = hit[3] if len(hit) > 3 else rule.severity
                file = summary.file if summary is not None else None
                base = summary.pointer_base if summary is not None else ""
                out.append(Finding(rule.code, sev, message, file, None, base + ptr))
        except Exception as exc:
            out.append(Finding(rule.code, Severity.ERROR, f"rule {rule.code} crashed: {type(exc).__name__}: {exc}"))
    return out
