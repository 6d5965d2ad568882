"""Exemption intents: rendering and the build-time checks.

Encodes https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure (category Waiver |
Mitigated, expiresOn UTC ISO 8601, policyDefinitionReferenceIds of the assigned initiative, the scope at or
below the assignment's unless assignmentScopeValidation is DoNotValidate).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policygen.errors import InputError
from policygen.render import compile_pack
from policygen.render.compile import write_build
from tests.render.helpers import write_pack

DEFS = {
    "definitions/kv-public.yaml": """
        intent: disable-public-network-access
        resourceTypes: [Microsoft.KeyVault/vaults]
        displayName: Key vaults disable public access
        effect: {default: Audit, allowed: [Audit, Deny, Disabled]}
    """,
    "definitions/st-public.yaml": """
        intent: disable-public-network-access
        resourceTypes: [Microsoft.Storage/storageAccounts]
        displayName: Storage disables public access
        effect: {default: Audit, allowed: [Audit, Deny, Disabled]}
    """,
    "initiatives/base.yaml": """
        displayName: Base
        members:
          - {definition: kv-public}
          - {definition: st-public}
    """,
    "assignments/sub-base.yaml": """
        displayName: Base on the subscription
        initiative: base
        scope: sub
    """,
    "assignments/mg-base.yaml": """
        displayName: Base on dev
        initiative: base
        scope: dev
    """,
    "assignments/one.yaml": """
        displayName: One definition
        definition: kv-public
        scope: sub
    """,
}
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"


def exemption(**fields: str) -> str:
    body = {"displayName": "Sandbox waiver", "assignment": "sub-base", "scope": SUB + "/resourceGroups/rg-sandbox",
            "category": "Waiver", "expiresOn": "2999-12-31"}
    body.update(fields)
    return "\n".join(f"{k}: {v}" for k, v in body.items()) + "\n"


def build(tmp_path: Path, text: str):
    return compile_pack(write_pack(tmp_path, {**DEFS, "exemptions/sandbox.yaml": text}), "dev")


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        build(tmp_path, text)
    return [d.message for d in exc.value.diagnostics]


def test_renders_rest_body_with_owner_marker_and_assignment_id(tmp_path: Path) -> None:
    text = exemption(policyDefinitionReferenceIds="[kv-public]", metadata="{approvedBy: CISO, ticket: T-1}",
                     expiresOn="2999-12-31T18:30:00+02:00")
    b = build(tmp_path, text)
    art = b.exemptions["sandbox"]
    props = art.properties
    assert art.scope == SUB + "/resourceGroups/rg-sandbox"
    assert props["policyAssignmentId"] == SUB + "/providers/Microsoft.Authorization/policyAssignments/sub-base"
    assert props["exemptionCategory"] == "Waiver"
    assert props["expiresOn"] == "2999-12-31T16:30:00Z"  # UTC, as Azure stores it
    assert props["policyDefinitionReferenceIds"] == ["kv-public"]
    assert props["metadata"]["pacOwnerId"] == "owner-1" and props["metadata"]["approvedBy"] == "CISO"
    assert [a.name for a in b.exemptions_for("sub-base")] == ["sandbox"]
    summary = write_build(b, tmp_path / "out")
    assert "exemptions/sandbox.json" in summary.written
    assert json.loads((tmp_path / "out/exemptions/sandbox.json").read_text())["properties"]["exemptionCategory"] == \
        "Waiver"


def test_unknown_assignment_is_reported_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        build(tmp_path, exemption(assignment="sub-bsae"))
    d = exc.value.diagnostics[0]
    assert d.file.endswith("exemptions/sandbox.yaml") and d.line == 2
    assert "no assignment named 'sub-bsae'; did you mean 'sub-base'?" in d.message


def test_unknown_reference_id_and_reference_ids_on_a_single_definition(tmp_path: Path) -> None:
    assert any("has no member 'kv-pubilc'; did you mean 'kv-public'?" in m
               for m in problems(tmp_path, exemption(policyDefinitionReferenceIds="[kv-pubilc]")))
    assert any("assigns a single definition" in m
               for m in problems(tmp_path / "b", exemption(assignment="one", policyDefinitionReferenceIds="[x]")))


def test_scope_outside_the_assignment(tmp_path: Path) -> None:
    other = "/subscriptions/00000000-0000-0000-0000-000000000009/resourceGroups/rg"
    assert any("outside assignment sub-base" in m for m in problems(tmp_path, exemption(scope=other)))
    # DoNotValidate lets it through (Azure documents it for resources moving between management groups)
    b = build(tmp_path / "b", exemption(scope=other, assignmentScopeValidation="DoNotValidate"))
    assert b.exemptions["sandbox"].properties["assignmentScopeValidation"] == "DoNotValidate"


def test_below_a_management_group_is_left_to_azure(tmp_path: Path) -> None:
    """An id does not say which management group a subscription is in: only Azure can refuse it."""
    b = build(tmp_path, exemption(assignment="mg-base", scope=SUB))
    assert b.exemptions["sandbox"].scope == SUB


def test_expired_exemption_is_refused(tmp_path: Path) -> None:
    assert any("expiresOn 2001-01-01T00:00:00Z is in the past" in m
               for m in problems(tmp_path, exemption(expiresOn="2001-01-01")))


@pytest.mark.parametrize("field,value,needle", [
    ("category", "Temporary", "category"),
    ("expiresOn", "next tuesday", "not an ISO 8601"),
    ("assignmentScopeValidation", "Never", "assignmentScopeValidation"),
    ("scope", "nowhere", "neither an ARM id nor a scope key"),
])
def test_bad_fields(tmp_path: Path, field: str, value: str, needle: str) -> None:
    assert any(needle in m for m in problems(tmp_path, exemption(**{field: value})))


def test_scope_key_and_external_assignment_id(tmp_path: Path) -> None:
    other = "/providers/Microsoft.Management/managementGroups/dev/providers/Microsoft.Authorization/" \
            "policyAssignments/portal-made"
    b = build(tmp_path, exemption(assignment=other, scope="sub"))
    assert b.exemptions["sandbox"].properties["policyAssignmentId"] == other
    assert b.exemptions["sandbox"].scope == SUB
