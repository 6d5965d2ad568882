"""docs/rules.md is generated from rule metadata and stays in sync; every rule is well described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policygen.rules import all_rules
from policygen.rules.base import Severity
from policygen.views.rules_catalogue import render_markdown

CODE = re.compile(r"^(DEF|MODE|PAR|RULE|OP|FLD|ALS|FN|EFF|SET|ASG)-\d\d$")


def test__catalogue__docs_rules_md_is_up_to_date(repo_dir: Path) -> None:
    doc = repo_dir / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == render_markdown(), (
        "docs/rules.md is stale: run `python -m policygen.views.rules_catalogue > docs/rules.md`"
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
