"""docs/rules.md is generated from the rule docstrings and stays in sync; every rule is well described.

The layout follows sqlfluff's rule catalogue (one module per code, the docstring is the rule's docs page):
https://github.com/sqlfluff/sqlfluff/tree/main/src/sqlfluff/rules
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from policygen.rules import all_rules
from policygen.rules.base import Severity
from policygen.rules.registry import package_of
from policygen.views.rules_catalogue import render_markdown, rule_doc

CODE = re.compile(r"^(DEF|MODE|PAR|RULE|OP|FLD|ALS|FN|EFF|SET|ASG)-\d\d$")


def test__catalogue__docs_rules_md_is_up_to_date(repo_dir: Path) -> None:
    doc = repo_dir / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == render_markdown(), (
        "docs/rules.md is stale: run `python scripts/gen_rules_doc.py`"
    )


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test__catalogue__rule_metadata(rule) -> None:
    assert CODE.match(rule.code)
    assert re.fullmatch(r"[a-z_]+\.[a-z_]+", rule.name)
    assert isinstance(rule.severity, Severity)
    assert rule.summary() and len(rule.summary()) <= 120
    assert rule.source.startswith("https://")


def test__catalogue__codes_and_names_unique() -> None:
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


def _code_block(block: str) -> tuple[str, str]:
    """(language, body) of one fenced block."""
    lines = block.splitlines()
    assert lines[0].startswith("```") and lines[-1] == "```", block
    return lines[0][3:], "\n".join(lines[1:-1])


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test__catalogue__docstring_is_the_rule_page(rule) -> None:
    doc = rule_doc(rule)
    assert doc.summary == rule.summary()
    assert doc.trailer["Code"] == f"{rule.code} ({rule.severity.value})"
    assert doc.trailer["Source"] == rule.source
    if not rule.source.startswith("https://learn.microsoft.com/"):
        assert doc.trailer["See also"].startswith("https://learn.microsoft.com/"), "cite the Learn page too"
    for block in (doc.anti_pattern, doc.better):
        lang, body = _code_block(block)
        assert lang in ("json", "jsonc", "text"), lang
        if lang != "text":  # the snippets are real JSON (jsonc: with // comments)
            json.loads(re.sub(r"^\s*//.*$|\s{2,}//.*$", "", body, flags=re.M))
    assert doc.anti_pattern != doc.better


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test__catalogue__module_is_named_after_the_code(rule) -> None:
    prefix, number = rule.code.split("-")
    module = inspect.getmodule(rule)
    assert module is not None
    assert module.__name__ == f"{package_of(prefix)}.{prefix.lower()}{number}_{rule.name.split('.', 1)[1]}"
