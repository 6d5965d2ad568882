"""The built-in and ALZ corpora validate with zero error-level findings: Azure accepted all of them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from policygen.arm.aliases import load_catalogue
from policygen.rules.engine import validate_files

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def catalogue(shared_dir: Path):
    return load_catalogue([shared_dir / "corpus/aliases/policy-aliases.csv"], cache_dir=Path("/nonexistent"))


# ALZ deployIfNotExists definitions whose details.type equals the if type but whose details.name is not
# [field('name')] ("current", or none): Azure stores them, but Learn documents name as required and equal to
# [field('name')] in that case (effect-deploy-if-not-exists), so the existence check reads another resource.
ALZ_SAME_TYPE_WITHOUT_FIELD_NAME = {
    f"{stem}{suffix}"
    for stem in ("Deploy-MySQL-sslEnforcement", "Deploy-PostgreSQL-sslEnforcement", "Deploy-SQL-minTLS",
                 "Deploy-SqlMi-minTLS", "Deploy-Storage-sslEnforcement")
    for suffix in (".json", ".alz_policy_definition.json")
}  # fmt: skip


@pytest.mark.parametrize("folder", ["azure-policy-builtins", "alz"])
def test__corpus__zero_errors(shared_dir: Path, catalogue, folder: str) -> None:
    result = validate_files([shared_dir / "corpus" / folder], catalogue=catalogue)
    assert result.diagnostics == []
    errors = [f for f in result.findings if f.severity.value == "error"]
    if folder == "alz":
        same_type = [f for f in errors if f.code == "EFF-05" and "details.name is required" in f.message]
        assert {Path(f.file).name for f in same_type} == ALZ_SAME_TYPE_WITHOUT_FIELD_NAME
        errors = [f for f in errors if f not in same_type]
    assert errors == [], Counter(f.code for f in errors)
    if folder == "azure-policy-builtins":
        assert result.objects == 5009 + 257
    else:
        assert result.objects == 292 + 58 + 159 + 52


def test__corpus__enterprise_scale_is_detected_as_escaped(shared_dir: Path, catalogue) -> None:
    es = shared_dir / "corpus/alz/Enterprise-Scale"
    result = validate_files([es], catalogue=catalogue)
    escaped = {f.file for f in result.findings if f.code == "FN-04" and f.severity.value == "info"}
    with_expressions = {str(p) for p in es.rglob("*.json") if b'"[[' in p.read_bytes()}
    assert escaped == with_expressions and len(escaped) > 200


def test__corpus__escaped_source_validated_as_rest_fails(shared_dir: Path, catalogue) -> None:
    """The same Enterprise-Scale file sent unescaped-as-is: FN-04 errors (its parameters look unused)."""
    f = next((shared_dir / "corpus/alz/Enterprise-Scale").rglob("Append-AppService-httpsonly.json"))
    result = validate_files([f], catalogue=catalogue, escaped=False)
    assert {x.code for x in result.findings if x.severity.value == "error"} >= {"FN-04"}
