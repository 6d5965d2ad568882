"""Breaking-change classification of definition and initiative versions, and `policygen build` refusing a
change without the right bump.

Azure's rules it encodes: a parameter cannot be removed from a definition and a parameter added to an
assigned definition must have a defaultValue
(https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters); versions are
semver and assignments pin a major with `1.*.*`
(https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics#version-preview).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policygen.artefacts import SourceRef
from policygen.cli import run
from policygen.render.versions import bump, check, classify, needed
from tests.render.helpers import write_pack

BASE = {"properties": {
    "displayName": "Vaults", "description": "d", "mode": "Indexed", "version": "1.0.0", "metadata": {"category": "K"},
    "parameters": {
        "effect": {"type": "String", "allowedValues": ["Audit", "Deny", "Disabled"], "defaultValue": "Audit"},
        "tagName": {"type": "String", "defaultValue": "env"},
    },
    "policyRule": {"if": {"allOf": [{"field": "type", "equals": "Microsoft.KeyVault/vaults"},
                                    {"field": "tags.env", "exists": False}]},
                   "then": {"effect": "[parameters('effect')]"}},
}}


def changed(edit) -> dict:
    body = copy.deepcopy(BASE)
    edit(body["properties"])
    return body


@pytest.mark.parametrize("edit,level,needle", [
    (lambda p: p["parameters"].pop("tagName"), "major", "parameter 'tagName' removed"),
    (lambda p: p["parameters"]["tagName"].update(type="Array"), "major", "type String -> Array"),
    (lambda p: p["parameters"]["effect"].update(allowedValues=["Audit", "Deny"]), "major", "no longer allows Disabled"),
    (lambda p: p["parameters"]["tagName"].pop("defaultValue"), "major", "default removed"),
    (lambda p: p["parameters"]["effect"].update(defaultValue="Deny"), "major", "default effect Audit -> Deny"),
    (lambda p: p["parameters"].update(extra={"type": "String"}), "major", "'extra' added without a default"),
    (lambda p: p.update(mode="All"), "major", "mode Indexed -> All"),
    (lambda p: p["policyRule"]["if"]["allOf"].pop(), "major", "dropped from the rule's allOf"),
    (lambda p: p["parameters"].update(extra={"type": "String", "defaultValue": "x"}), "minor", "optional parameter"),
    (lambda p: p["parameters"]["effect"].update(defaultValue="Disabled"), "minor", "default changed"),
    (lambda p: p["metadata"].update(owner="team"), "minor", "metadata changed"),
    (lambda p: p.update(displayName="Key vaults"), "patch", "displayName changed"),
    (lambda p: p["policyRule"]["if"]["allOf"][1].update(field="tags.team"), "patch", "policy rule changed"),
])
def test_classification(edit, level: str, needle: str) -> None:
    changes = classify("definition", BASE, changed(edit))
    assert needed(changes) == level
    assert any(needle in c.what for c in changes), changes


def test_initiative_members() -> None:
    before = {"properties": {"version": "1.0.0", "policyDefinitions": [
        {"policyDefinitionReferenceId": "a", "policyDefinitionId": "/x/a"},
        {"policyDefinitionReferenceId": "b", "policyDefinitionId": "/x/b"}]}}
    removed = copy.deepcopy(before)
    removed["properties"]["policyDefinitions"].pop()
    assert needed(classify("initiative", before, removed)) == "major"
    added = copy.deepcopy(before)
    added["properties"]["policyDefinitions"].append({"policyDefinitionReferenceId": "c", "policyDefinitionId": "/x/c"})
    assert needed(classify("initiative", before, added)) == "minor"


def test_bump_must_match_the_change() -> None:
    src = SourceRef("definitions/kv.yaml", 4, 10)
    breaking = changed(lambda p: p["parameters"].pop("tagName"))
    breaking["properties"]["version"] = "1.1.0"
    problem = check("definition", "kv", BASE, breaking, src)
    assert problem is not None and problem.needed == "major" and problem.source == src
    assert "needs a major bump" in problem.message
    breaking["properties"]["version"] = "2.0.0"
    assert check("definition", "kv", BASE, breaking, src) is None
    assert check("definition", "kv", BASE, copy.deepcopy(BASE), src) is None  # no change, no bump needed


@given(st.tuples(*[st.integers(0, 20)] * 3), st.tuples(*[st.integers(0, 20)] * 3))
def test_bump_levels(a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    level = bump(".".join(map(str, a)), ".".join(map(str, b)))
    if b <= a:
        assert level is None
    else:
        assert level == ("major" if b[0] > a[0] else "minor" if b[1] > a[1] else "patch")


DEF = """
intent: disable-public-network-access
resourceTypes: [Microsoft.KeyVault/vaults]
displayName: Key vaults disable public access
version: {version}
effect: {{default: Audit, allowed: [{allowed}]}}
"""


def test_build_refuses_a_breaking_change_without_a_major_bump(tmp_path: Path, capsys) -> None:
    pack = write_pack(tmp_path / "pack", {"definitions/kv.yaml": DEF.format(version="1.0.0",
                                                                            allowed="Audit, Deny, Disabled")})
    out = tmp_path / "out"
    assert run(["build", str(pack), "--out", str(out)]) == 0
    (pack / "definitions/kv.yaml").write_text(DEF.format(version="1.1.0", allowed="Audit, Deny").lstrip())
    capsys.readouterr()
    assert run(["build", str(pack), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "kv.yaml:4:10: definition kv: version 1.1.0 (was 1.0.0) needs a major bump" in err
    assert "no longer allows Disabled" in err
    assert run(["build", str(pack), "--out", str(out), "--no-version-check"]) == 0
    (pack / "definitions/kv.yaml").write_text(DEF.format(version="2.0.0", allowed="Audit, Deny").lstrip())
    assert run(["build", str(pack), "--out", str(tmp_path / "other"), "--baseline", str(tmp_path / "nothing")]) == 0
