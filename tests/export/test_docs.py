"""`policygen docs`: golden Markdown and the facts each page must show."""

from __future__ import annotations

from pathlib import Path

from tests.export.support import check_golden, docs


def test_golden(fixture_pack: Path) -> None:
    check_golden("docs", docs(fixture_pack, "azure"))


def test_initiative_page_lists_every_policy_with_effects_parameters_and_group(fixture_pack: Path) -> None:
    page = docs(fixture_pack, "azure")["initiatives/guardrails.md"]
    assert "| Reference | Display name | Description | Effect | Allowed effects | Parameters | Group |" in page
    assert ("| `st-public-network-modify` | Configure storage accounts to disable public network access | — | Modify "
            "| Modify, Disabled | — | Network |") in page
    assert "Reachable only through private endpoints \\| no public access." in page, "pipes are escaped"
    assert "built-in `/providers/Microsoft.Authorization/policyDefinitions/06a78e20-9358-41c9-923c-fb736d382a4d`" in page


def test_assignment_page_shows_scope_parameters_and_remediation(fixture_pack: Path) -> None:
    page = docs(fixture_pack, "azure")["assignments/guardrails-prod.md"]
    assert "- Scope: `/providers/Microsoft.Management/managementGroups/contoso-prod` (scope key `prod`)" in page
    assert "| `effect-st-public-network` | `Deny` | `Audit` |" in page
    assert "| `guardrails-prod-st-public-network-modify` | `st-public-network-modify` |" in page
    assert "failureThreshold `0.1`" in page


def test_compliance_view_gives_each_assignment_its_effect(fixture_pack: Path) -> None:
    page = docs(fixture_pack, "azure")["compliance.md"]
    assert "### Network (`network`)" in page
    assert "| Policy | Reference | guardrails-prod |" in page
    assert "| Storage accounts should disable public network access | `st-public-network` | Deny |" in page


def test_deterministic(fixture_pack: Path) -> None:
    assert docs(fixture_pack, "azure") == docs(fixture_pack, "azure")


def test_pack_text_is_never_rendered_as_html(fixture_pack: Path) -> None:
    path = fixture_pack / "initiatives/guardrails.yaml"
    path.write_text(path.read_text().replace("description: Public network access and tagging.",
                                             "description: <script>alert(1)</script> & more"))
    page = docs(fixture_pack, "azure")["initiatives/guardrails.md"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page and "<script>" not in page
