"""Assignment resource selectors, overrides, pinned versions and the `rollout` shorthand.

Encodes https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure ("Resource
selectors", "Overrides", "Policy definition ID and version"): selector kinds, `in` xor `notIn`, at most 50
values, resourceLocation never beside resourceWithoutLocation, at most 10 resource selectors and overrides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.errors import InputError
from policygen.render import compile_pack
from tests.render.helpers import write_pack
from tests.render.test_exemptions import DEFS

BASE = """
displayName: Base on the subscription
initiative: base
scope: sub
"""


def build(tmp_path: Path, extra: str):
    files = {**DEFS, "assignments/sub-base.yaml": BASE + extra}
    return compile_pack(write_pack(tmp_path, files), "dev")


def problems(tmp_path: Path, extra: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        build(tmp_path, extra)
    return [d.message for d in exc.value.diagnostics]


ROLLOUT = """
rollout:
  effect: Deny
  members: [kv-public]
  stages:
    - {name: canary, locations: [swedencentral]}
    - {name: europe, locations: [swedencentral, westeurope]}
    - {name: all}
  stage: %s
"""


def test_rollout_stage_expands_to_overrides_and_from_effect(tmp_path: Path) -> None:
    art = build(tmp_path, ROLLOUT % "canary").assignments["sub-base"]
    props = art.properties
    assert props["parameters"]["effect-kv-public"] == {"value": "Audit"}
    assert props["overrides"] == [{"kind": "policyEffect", "value": "Deny", "selectors": [
        {"kind": "policyDefinitionReferenceId", "in": ["kv-public"]},
        {"kind": "resourceLocation", "in": ["swedencentral"]}]}]
    assert art.rollout == {"stage": "canary", "index": 0, "stages": ["canary", "europe", "all"], "effect": "Deny",
                           "from": "Audit", "members": ["kv-public"], "locations": ["swedencentral"],
                           "next": "europe"}


def test_last_stage_covers_every_region(tmp_path: Path) -> None:
    props = build(tmp_path, ROLLOUT % "all").assignments["sub-base"].properties
    assert props["overrides"] == [{"kind": "policyEffect", "value": "Deny", "selectors": [
        {"kind": "policyDefinitionReferenceId", "in": ["kv-public"]}]}]


def test_rollout_checks(tmp_path: Path) -> None:
    assert any("not one of the stages" in m for m in problems(tmp_path, ROLLOUT % "nope"))
    bad_member = ROLLOUT.replace("[kv-public]", "[kv-pub]") % "canary"
    assert any("no member with policyDefinitionReferenceId 'kv-pub'" in m for m in problems(tmp_path / "a", bad_member))
    bad_effect = ROLLOUT.replace("effect: Deny", "effect: DeployIfNotExists") % "canary"
    assert any("'DeployIfNotExists' is not allowed for kv-public" in m for m in problems(tmp_path / "b", bad_effect))
    narrowing = ROLLOUT.replace("[swedencentral, westeurope]", "[westeurope]") % "canary"
    assert any("stages only widen" in m for m in problems(tmp_path / "c", narrowing))
    clash = "parameters: {effect-kv-public: Deny}\n" + ROLLOUT % "canary"
    assert any("rollout starts from 'Audit'" in m for m in problems(tmp_path / "d", clash))


def test_selectors_overrides_and_version_pass_through(tmp_path: Path) -> None:
    extra = """
definitionVersion: 1.*.*
resourceSelectors:
  - name: europe
    selectors: [{kind: resourceLocation, in: [westeurope, northeurope]}]
overrides:
  - kind: policyEffect
    value: disabled
    selectors: [{kind: policyDefinitionReferenceId, in: [st-public]}]
"""
    props = build(tmp_path, extra).assignments["sub-base"].properties
    assert props["definitionVersion"] == "1.*.*"
    assert props["resourceSelectors"] == [{"name": "europe", "selectors": [
        {"kind": "resourceLocation", "in": ["westeurope", "northeurope"]}]}]
    assert props["overrides"] == [{"kind": "policyEffect", "value": "Disabled", "selectors": [
        {"kind": "policyDefinitionReferenceId", "in": ["st-public"]}]}]


@pytest.mark.parametrize("extra,needle", [
    ("resourceSelectors: [{name: a, selectors: [{kind: resourceLocation, in: [x], notIn: [y]}]}]",
     "exactly one of 'in' or 'notIn'"),
    ("resourceSelectors: [{name: a, selectors: [{kind: resourceLocation, in: [x]}, {kind: resourceLocation, in: [y]}]}]",
     "used twice"),
    ("resourceSelectors: [{name: a, selectors: [{kind: resourceLocation, in: [x]}, "
     "{kind: resourceWithoutLocation, in: [subscriptionLevelResources]}]}]", "cannot be used in the same"),
    ("resourceSelectors: [{name: a, selectors: [{kind: resourceWithoutLocation, in: [westeurope]}]}]",
     "subscriptionLevelResources"),
    ("resourceSelectors: [{name: a, selectors: [{kind: policyDefinitionReferenceId, in: [kv-public]}]}]",
     "not allowed in resource selector"),
    ("resourceSelectors: [{{name: a, selectors: [{{kind: resourceType, in: [{}]}}]}}]".format(", ".join(["t"] * 51)),
     "at most 50"),
    ("overrides: [{}]".format(", ".join(["{value: Audit}"] * 11)), "at most 10"),
    ("overrides: [{value: Block}]", "not an Azure Policy effect"),
    ("overrides: [{value: Modify, selectors: [{kind: policyDefinitionReferenceId, in: [kv-public]}]}]",
     "'Modify' is not allowed for kv-public"),
    ("overrides: [{value: Deny, selectors: [{kind: policyDefinitionReferenceId, in: [zz]}]}]",
     "no member with policyDefinitionReferenceId 'zz'"),
    ("definitionVersion: latest", "definitionVersion"),
])
def test_documented_limits_are_checked_offline(tmp_path: Path, extra: str, needle: str) -> None:
    assert any(needle in m for m in problems(tmp_path, extra + "\n")), problems(tmp_path, extra + "\n")


def test_member_definition_version_pin(tmp_path: Path) -> None:
    files = {**DEFS, "initiatives/base.yaml": """
        displayName: Base
        members:
          - {definition: kv-public, definitionVersion: 1.*.*}
          - {definition: st-public}
    """}
    b = compile_pack(write_pack(tmp_path, files), "dev")
    members = b.initiatives["base"].properties["policyDefinitions"]
    assert members[0]["definitionVersion"] == "1.*.*" and "definitionVersion" not in members[1]
