"""ARM template: `[[` escaping, round-trip, dependencies, assignment scopes and identity roles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policygen.export.arm import escape, unescape
from policygen.render import compile_pack
from tests.export.support import rendered

MG_REF = "[managementGroupResourceId('Microsoft.Authorization/{}', '{}')]"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for k in sorted(value) for s in _strings(value[k])]
    return []


def test_escape_follows_arm_rules() -> None:
    assert escape("[parameters('effect')]") == "[[parameters('effect')]"
    assert escape("[[literal]") == "[[[literal]", "an already escaped-looking literal survives"
    assert escape("[not an expression") == "[not an expression", "no closing bracket: ARM reads it literally"
    assert escape("plain [x]") == "plain [x]"
    assert escape({"a": ["[x]", 1, None, {"[k]": "[v]"}]}) == {"a": ["[[x]", 1, None, {"[k]": "[[v]"}]}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="[]ab' ()", max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_unescape_inverts_escape(value: Any) -> None:
    assert unescape(escape(value)) == value


def _template(pack: Path, env: str) -> dict[str, Any]:
    return json.loads(rendered(pack, "arm", env=env)["azuredeploy.json"])


def test_mlops_pack_round_trips_through_escaping(mlops_pack: Path) -> None:
    build = compile_pack(mlops_pack, "azure")
    template = _template(mlops_pack, "azure")
    assert template["$schema"].endswith("managementGroupDeploymentTemplate.json#")
    by_type: dict[str, dict[str, Any]] = {}
    for res in template["resources"]:
        by_type.setdefault(res["type"], {})[res["name"]] = res
    definitions = by_type["Microsoft.Authorization/policyDefinitions"]
    assert sorted(definitions) == sorted(build.definitions)
    for name, art in build.definitions.items():
        props = definitions[name]["properties"]
        assert unescape(props) == art.properties
        # every string ARM would evaluate is escaped, nothing else changed
        for original, written in zip(_strings(art.properties), _strings(props), strict=True):
            if original.startswith("[") and original.endswith("]"):
                assert written == "[" + original
            else:
                assert written == original
    for name, art in build.initiatives.items():
        props = by_type["Microsoft.Authorization/policySetDefinitions"][name]["properties"]
        restored = unescape({**props, "policyDefinitions": [
            {k: v for k, v in m.items() if k != "policyDefinitionId"} for m in props["policyDefinitions"]]})
        expected = {**art.properties, "policyDefinitions": [
            {k: v for k, v in m.items() if k != "policyDefinitionId"} for m in art.properties["policyDefinitions"]]}
        assert restored == expected
    deployments = by_type["Microsoft.Resources/deployments"]
    for name, art in build.assignments.items():
        inner = deployments[f"policygen-{name}"]["properties"]["template"]["resources"]
        assignment = next(r for r in inner if r["type"] == "Microsoft.Authorization/policyAssignments")
        props = unescape(assignment["properties"])
        assert {k: v for k, v in props.items() if k != "policyDefinitionId"} == \
            {k: v for k, v in art.properties.items() if k != "policyDefinitionId"}


def test_dependencies_and_references(fixture_pack: Path) -> None:
    template = _template(fixture_pack, "azure")
    res = {(r["type"].rsplit("/", 1)[-1], r["name"]): r for r in template["resources"]}
    guardrails = res[("policySetDefinitions", "guardrails")]
    assert guardrails["dependsOn"] == sorted(MG_REF.format("policyDefinitions", n)
                                             for n in ("st-public-network", "st-public-network-modify", "tag-check"))
    ids = [m["policyDefinitionId"] for m in guardrails["properties"]["policyDefinitions"]]
    assert MG_REF.format("policyDefinitions", "tag-check") in ids, "customs follow the deployment's management group"
    assert "/providers/Microsoft.Authorization/policyDefinitions/06a78e20-9358-41c9-923c-fb736d382a4d" in ids
    prod = res[("deployments", "policygen-guardrails-prod")]
    assert prod["dependsOn"] == [MG_REF.format("policySetDefinitions", "guardrails")]
    assert prod["scope"] == "Microsoft.Management/managementGroups/contoso-prod"
    assert prod["properties"]["parameters"]["policyDefinitionId"]["value"] == MG_REF.format("policySetDefinitions", "guardrails")
    sub = res[("deployments", "policygen-tag-sub")]
    assert sub["subscriptionId"] == "33333333-3333-3333-3333-333333333333" and "scope" not in sub
    assert sub["properties"]["template"]["$schema"].endswith("subscriptionDeploymentTemplate.json#")
    rg = res[("deployments", "policygen-st-rg-modify")]
    assert (rg["subscriptionId"], rg["resourceGroup"]) == ("33333333-3333-3333-3333-333333333333", "rg-apps")


def test_role_assignments_for_the_identity(fixture_pack: Path) -> None:
    template = _template(fixture_pack, "azure")
    prod = next(r for r in template["resources"] if r["name"] == "policygen-guardrails-prod")
    inner = prod["properties"]["template"]["resources"]
    assignment = inner[0]
    assert assignment["identity"] == {"type": "SystemAssigned"} and assignment["location"] == "northeurope"
    roles = [r for r in inner if r["type"] == "Microsoft.Authorization/roleAssignments"]
    assert [r["properties"]["roleDefinitionId"] for r in roles] == \
        ["/providers/Microsoft.Authorization/roleDefinitions/17d1049b-9a84-46fb-8f53-869881c3d3ab"]
    ref = "extensionResourceId(managementGroup().id, 'Microsoft.Authorization/policyAssignments', 'guardrails-prod')"
    assert roles[0]["dependsOn"] == [f"[{ref}]"]
    assert roles[0]["properties"]["principalId"] == f"[reference({ref}, '2024-04-01', 'full').identity.principalId]"
    rg = next(r for r in template["resources"] if r["name"] == "policygen-st-rg-modify")
    rg_roles = [r for r in rg["properties"]["template"]["resources"] if r["type"].endswith("roleAssignments")]
    assert rg_roles[0]["properties"]["roleDefinitionId"] == \
        "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '17d1049b-9a84-46fb-8f53-869881c3d3ab')]"
    tag = next(r for r in template["resources"] if r["name"] == "policygen-tag-sub")
    assert len(tag["properties"]["template"]["resources"]) == 1, "no identity, no role assignments"


def test_literals_that_look_like_expressions_survive(fixture_pack: Path) -> None:
    template = _template(fixture_pack, "azure")
    tag = next(r for r in template["resources"] if r["name"] == "tag-check")
    conditions = tag["properties"]["policyRule"]["if"]["allOf"]
    assert conditions[1]["value"] == "[[[literal in brackets]"
    assert tag["properties"]["description"].endswith("[not an expression")
    assert tag["properties"]["policyRule"]["then"]["effect"] == "[[parameters('effect')]"


def test_template_expressions_parse_and_use_known_functions(fixture_pack: Path, mlops_pack: Path) -> None:
    """Every string ARM will evaluate parses (policygen's ARM expression grammar) and calls only template
    functions with a valid number of arguments; escaped policy content is not evaluated at deploy time."""
    from policygen.arm.expressions import (
        ARM_FUNCTIONS,
        function_arity,
        is_escaped,
        is_expression,
        iter_calls,
        parse_string,
    )

    known = {f.lower() for f in ARM_FUNCTIONS}
    for pack in (fixture_pack, mlops_pack):
        evaluated = [s for s in _strings(_template(pack, "azure")) if is_expression(s) and not is_escaped(s)]
        assert evaluated
        for text in evaluated:
            for call, _depth in iter_calls(parse_string(text)):
                assert call.name.lower() in known, text
                arity = function_arity(call.name)
                if arity:
                    low, high = arity
                    assert low <= len(call.args) and (high is None or len(call.args) <= high), text
        assert not any(s.startswith("[field(") or s == "[parameters('effect')]" for s in evaluated), \
            "policy expressions must reach Azure Policy unevaluated"
