"""The rule catalogue and the engine that runs it; a crashing rule becomes a finding, not a traceback."""

from __future__ import annotations

import importlib
import keyword
import pkgutil
from types import ModuleType

from policygen.rules.base import ALL_KINDS, CollectionRule, Finding, Rule, Severity, Summary
from policygen.rules.model import Doc

PREFIX_ORDER = ("DEF", "MODE", "PAR", "RULE", "OP", "FLD", "ALS", "FN", "EFF", "SET", "ASG")


def package_of(prefix: str) -> str:
    """The package holding one prefix's rules (`def_`: `def` is a Python keyword)."""
    low = prefix.lower()
    return f"policygen.rules.{low}_" if keyword.iskeyword(low) else f"policygen.rules.{low}"


def _sort_key(rule: type[Rule]) -> tuple[int, int]:
    prefix, _, num = rule.code.partition("-")
    return PREFIX_ORDER.index(prefix), int(num)


_RULES: list[type[Rule]] | None = None
_INSTANCES: dict[str, list[Rule]] = {}
_GATED: dict[tuple[str, bool, bool], list[Rule]] = {}


def rule_modules() -> list[ModuleType]:
    """Every rule module: `<prefix>/<code>_<name>.py`, one rule each (helpers live in `common.py`)."""
    out = []
    for prefix in PREFIX_ORDER:
        package = importlib.import_module(package_of(prefix))
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name != "common":
                out.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    return out


def all_rules() -> list[type[Rule]]:
    """Every rule class, ordered by code (DEF-00 … ASG-09)."""
    global _RULES
    if _RULES is None:
        found: list[type[Rule]] = []
        for module in rule_modules():
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
        built = {k: [r() for r in all_rules() if k in r.kinds and r.code != "DEF-00"] for k in ALL_KINDS}
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


_NEEDS: tuple[str, ...] | None = None
_PLANS: dict[tuple, tuple[list[Rule], list[Rule]]] = {}


def _plan(doc: Doc) -> list[Rule]:
    """The rules that can fire for this document: its kind's gated rules, minus those whose effects it
    cannot have and those whose `needs` or `ops` it lacks. Documents share a few hundred plans, so the
    per-rule tests run once per plan instead of once per rule and document."""
    global _NEEDS
    if _NEEDS is None:
        _NEEDS = tuple(sorted({r.needs[0] for k in ALL_KINDS for r in rules_for(k) if r.needs}))
    has = tuple(bool(getattr(doc, name, None)) for name in _NEEDS)
    ops = doc.by_op.keys()
    key = (doc.kind, doc.custom, doc.own, doc.effects, has, frozenset(ops))
    gated = gated_rules(doc.kind, doc.custom, doc.own)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is gated:  # the same gated list (a test may swap gated_rules)
        return cached[1]
    present = {name for name, yes in zip(_NEEDS, has, strict=True) if yes}
    effects = doc.effects
    plan = [
        r
        for r in gated
        if (r.effects is None or r.effects & effects)
        and (not r.needs or r.needs[0] in present)
        and (r.ops is None or not r.ops.isdisjoint(ops))
    ]
    if len(_PLANS) > 4096:
        _PLANS.clear()
    _PLANS[key] = (gated, plan)
    return plan


def run(doc: Doc, source: str | None) -> list[Finding]:
    """Run every rule for the document's kind; each hit becomes a Finding (no line yet)."""
    out: list[Finding] = []
    for rule in _plan(doc):
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
