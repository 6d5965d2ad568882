"""The shipped MLOps pack: it builds, every alias it emits is real, every definition is unit-tested, the
policy unit tests pass, the rendered JSON matches the golden files, and the sample inventory is usable.

Golden files live in tests/pack/golden/ (one per artefact, as `policygen build` writes them). After an
intended change to the pack or the renderer, regenerate them and review the diff:

    POLICYGEN_UPDATE_GOLDEN=1 python -m pytest tests/pack
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policygen.arm.aliases import is_non_alias_field, shipped_catalogue
from policygen.artefacts import Build
from policygen.render import compile_pack

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
INVENTORY = REPO / "examples" / "inventory" / "mlops.json"
PROD_SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
DEV_SUB = "/subscriptions/00000000-0000-0000-0000-000000000002"
REMEDIATING = {"deployifnotexists", "modify"}
EXISTENCE = {"deployifnotexists", "auditifnotexists"}


@pytest.fixture(scope="module")
def build() -> Build:
    return compile_pack(REPO)


def effects_of(art: Any) -> set[str]:
    return {e.lower() for e in art.properties["parameters"]["effect"]["allowedValues"]}


# --------------------------------------------------------------------------- the pack builds


def test_pack_builds_every_part(build: Build) -> None:
    assert len(build.definitions) >= 30
    assert set(build.initiatives) == {"mlops-network-baseline", "mlops-network-remediation"}
    assert set(build.assignments) == {"mlops-prod-baseline", "mlops-prod-remediation", "mlops-dev-baseline"}
    for art in build.assignments.values():
        if art.scope and art.scope.lower().startswith("/providers/microsoft.management/managementgroups/"):
            assert len(art.name) <= 24, art.name


def test_remediation_initiative_holds_exactly_the_remediating_members(build: Build) -> None:
    def members(name: str) -> set[str]:
        return {m["policyDefinitionId"].rsplit("/", 1)[-1] for m in build.initiatives[name].properties["policyDefinitions"]}

    baseline, remediation = members("mlops-network-baseline"), members("mlops-network-remediation")
    assert set(build.definitions) == baseline, "every definition of the pack belongs to the baseline"
    remediating = {n for n, art in build.definitions.items() if effects_of(art) & REMEDIATING}
    assert remediation == remediating


def test_every_baseline_member_is_in_a_group(build: Build) -> None:
    props = build.initiatives["mlops-network-baseline"].properties
    groups = {g["name"] for g in props["policyDefinitionGroups"]}
    for member in props["policyDefinitions"]:
        assert member.get("groupNames"), member["policyDefinitionReferenceId"]
        assert set(member["groupNames"]) <= groups


SECURITY_ADMIN = "/providers/Microsoft.Authorization/roleDefinitions/fb1c8493-542b-48eb-b624-b4c8fea62acd"


def test_remediating_definitions_name_their_roles(build: Build) -> None:
    for name, art in build.definitions.items():
        if effects_of(art) & REMEDIATING:
            roles = art.properties["policyRule"]["then"]["details"]["roleDefinitionIds"]
            assert roles and all(r.startswith("/providers/Microsoft.Authorization/roleDefinitions/") for r in roles), name


def test_defender_plans_deploy_at_subscription_scope_as_security_admin(build: Build) -> None:
    plans = {}
    for name in ("mlops-defender-storage", "mlops-defender-keyvault", "mlops-defender-containers", "mlops-defender-arm"):
        props = build.definitions[name].properties
        details = props["policyRule"]["then"]["details"]
        assert props["mode"] == "All"
        assert props["policyRule"]["if"] == {"field": "type", "equals": "Microsoft.Resources/subscriptions"}
        assert (details["deploymentScope"], details["existenceScope"]) == ("subscription", "subscription")
        assert details["roleDefinitionIds"] == [SECURITY_ADMIN]
        assert details["deployment"]["location"]
        plans[details["name"]] = details["deployment"]["properties"]["template"]["resources"][0]["name"]
    assert plans == {p: p for p in ("StorageAccounts", "KeyVaults", "Containers", "Arm")}


def test_route_table_tag_selection_exists_only_in_the_virtual_network_form(build: Build) -> None:
    snet = build.definitions["mlops-route-table-snet"].properties["parameters"]
    vnet = build.definitions["mlops-route-table-vnet"].properties["parameters"]
    assert "subnetNamePatterns" in snet and "subnetNamePatterns" in vnet
    assert not {"vnetTagName", "vnetTagValue"} & set(snet)
    assert vnet["vnetTagName"]["defaultValue"] == "mlops-forced-tunnel"


# --------------------------------------------------------------------------- every alias is real

FIELD_CALL = re.compile(r"\bfield\(\s*'([^']+)'\s*\)")
CURRENT_CALL = re.compile(r"\bcurrent\(\s*'([^']+)'\s*\)")


def emitted_fields(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(JSON path, field name) for every field a policy rule reads or a modify operation writes.

    Covers `field` conditions (including `count.field`), `field('…')` and field-count `current('…')` in
    expressions anywhere (existence conditions, deployment parameters), and modify operations. The ARM
    template a deployIfNotExists deploys is not policy language and is skipped.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}"
            if key == "template" and path.endswith("/deployment/properties"):
                continue
            if key == "field" and isinstance(value, str):
                if value.startswith("[") and not value.startswith("[["):
                    yield from emitted_fields(value, here)  # e.g. [concat('tags[', parameters('t'), ']')]
                else:
                    yield here, value
            else:
                yield from emitted_fields(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from emitted_fields(item, f"{path}/{i}")
    elif isinstance(node, str) and node.startswith("[") and not node.startswith("[["):
        for name in FIELD_CALL.findall(node):
            yield path, name
        for name in CURRENT_CALL.findall(node):
            if "/" in name:  # current('<[*] alias>') in a field count; current('pattern') names a value count
                yield path, name


def test_emitted_fields_walker_sees_every_place() -> None:
    rule = {
        "if": {"allOf": [
            {"field": "type", "equals": "X/y"},
            {"count": {"field": "X/y/a[*]", "where": {"field": "X/y/a[*].b", "equals": "[current('X/y/a[*].c')]"}}, "greater": 0},
            {"count": {"value": "[parameters('p')]", "name": "n", "where": {"field": "name", "like": "[current('n')]"}}, "greater": 0},
            {"field": "[concat('tags[', parameters('t'), ']')]", "exists": True},
            {"value": "[empty(field('X/y/d'))]", "equals": True},
        ]},
        "then": {"details": {
            "existenceCondition": {"field": "X/z/e", "equals": "[field('X/y/f')]"},
            "operations": [{"operation": "addOrReplace", "field": "X/y/g", "value": True}],
            "deployment": {"properties": {"parameters": {"v": {"value": "[field('X/y/h')]"}},
                                          "template": {"resources": [{"field": "not-policy"}]}}},
        }},
    }
    names = {name for _, name in emitted_fields(rule)}
    assert names == {"type", "X/y/a[*]", "X/y/a[*].b", "X/y/a[*].c", "name", "X/y/d", "X/z/e", "X/y/f", "X/y/g", "X/y/h"}


def test_every_emitted_alias_is_in_the_shipped_catalogue(build: Build) -> None:
    catalogue = shipped_catalogue()
    missing = [
        f"{name}{where}: {field}"
        for name, art in sorted(build.definitions.items())
        for where, field in emitted_fields(art.properties["policyRule"], "/policyRule")
        if not is_non_alias_field(field) and field not in catalogue
    ]
    assert not missing, "aliases not in the shipped catalogue:\n" + "\n".join(missing)


def test_modify_operations_write_real_aliases(build: Build) -> None:
    catalogue = shipped_catalogue()
    for art in build.definitions.values():
        for op in art.properties["policyRule"]["then"].get("details", {}).get("operations", []):
            assert op["field"] in catalogue, (art.name, op["field"])


# --------------------------------------------------------------------------- unit tests per definition


def test_every_definition_has_compliant_and_non_compliant_tests(build: Build) -> None:
    states: dict[str, set[bool]] = defaultdict(set)
    related: dict[str, bool] = defaultdict(bool)
    for case in build.tests:
        if case.expect.compliant is not None:
            states[case.definition].add(case.expect.compliant)
        related[case.definition] |= bool(case.related)
    lacking = sorted(n for n in build.definitions if states[n] != {True, False})
    assert not lacking, f"definitions without both a compliant and a non-compliant test: {lacking}"
    existence = sorted(n for n, art in build.definitions.items() if effects_of(art) & EXISTENCE)
    assert existence, "the pack has deployIfNotExists definitions"
    assert not [n for n in existence if not related[n]], "deployIfNotExists/auditIfNotExists tests need related resources"


def test_policy_unit_tests_pass(build: Build) -> None:
    testing = pytest.importorskip("policygen.evaluate.testing")
    run = testing.run_tests(build.definitions, build.tests, catalogue=shipped_catalogue())
    failures = [f"{r.case.definition}::{r.case.name} ({r.case.source}): {'; '.join(r.failures)}" for r in run.failed]
    assert not failures, "\n".join(failures)
    assert not run.untested
    assert len(run.results) == len(build.tests)


# --------------------------------------------------------------------------- golden files


def test_rendered_pack_matches_golden_files(build: Build) -> None:
    expected = {art.relpath: art.text() for art in build.artefacts()}
    if os.environ.get("POLICYGEN_UPDATE_GOLDEN") == "1":
        for stale in GOLDEN.rglob("*.json"):
            if stale.relative_to(GOLDEN).as_posix() not in expected:
                stale.unlink()
        for rel, text in expected.items():
            target = GOLDEN / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
    present = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.json")}
    hint = "; after an intended change run POLICYGEN_UPDATE_GOLDEN=1 python -m pytest tests/pack and review the diff"
    assert present == set(expected), f"golden files differ in names: missing {sorted(set(expected) - present)}, extra {sorted(present - set(expected))}{hint}"
    changed = sorted(rel for rel, text in expected.items() if (GOLDEN / rel).read_bytes() != text.encode("utf-8"))
    assert not changed, f"rendered output differs from the golden files: {changed}{hint}"


# --------------------------------------------------------------------------- the sample inventory


@pytest.fixture(scope="module")
def inventory() -> list[dict[str, Any]]:
    return json.loads(INVENTORY.read_text(encoding="utf-8"))


def test_inventory_is_realistic(inventory: list[dict[str, Any]]) -> None:
    assert 30 <= len(inventory) <= 100
    ids = [r["id"].lower() for r in inventory]
    assert len(ids) == len(set(ids)), "resource ids are unique"
    for res in inventory:
        assert {"id", "type", "name"} <= set(res), res.get("id")
        assert res["id"].startswith((PROD_SUB + "/", DEV_SUB + "/")), res["id"]
        assert res["id"].rsplit("/", 1)[-1] == res["name"], res["id"]
        type_path = re.sub(r"/resourceGroups/[^/]+", "", res["id"]).split("/providers/", 1)[1].split("/")
        assert "/".join([type_path[0], *type_path[1::2]]).lower() == res["type"].lower(), res["id"]
    types = {r["type"] for r in inventory}
    for needed in ("Microsoft.MachineLearningServices/workspaces", "Microsoft.MachineLearningServices/workspaces/computes",
                   "Microsoft.MachineLearningServices/workspaces/onlineEndpoints", "Microsoft.MachineLearningServices/registries",
                   "Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults", "Microsoft.ContainerRegistry/registries",
                   "Microsoft.Network/privateEndpoints", "Microsoft.Network/virtualNetworks",
                   "Microsoft.Network/virtualNetworks/subnets", "Microsoft.ContainerService/managedClusters"):
        assert needed in types, needed
    assert any(r["id"].startswith(DEV_SUB + "/") for r in inventory)


def test_inventory_has_compliant_and_non_compliant_resources(build: Build, inventory: list[dict[str, Any]]) -> None:
    evaluate = pytest.importorskip("policygen.evaluate")
    sample = {"privateEndpointSubnetId": f"{PROD_SUB}/resourceGroups/rg-mlops-network/providers/Microsoft.Network/virtualNetworks/vnet-mlops-prod/subnets/snet-private-endpoints",
              "privateDnsZoneId": "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-hub-dns/providers/Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms",
              "privateDnsZoneId2": "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-hub-dns/providers/Microsoft.Network/privateDnsZones/privatelink.notebooks.azure.net"}
    policies = [(name, evaluate.compile_policy(art.body, {k: v for k, v in sample.items() if k in art.properties["parameters"]},
                                               catalogue=shipped_catalogue()))
                for name, art in build.definitions.items()]
    rows = list(evaluate.evaluate_inventory(policies, inventory))
    assert not [r for r in rows if r.error], [r.error for r in rows if r.error]
    flagged = {r.resource_id for r in rows if r.flagged}
    clean = {r.resource_id for r in rows if r.compliant is True}
    assert f"{PROD_SUB}/resourceGroups/rg-mlops/providers/Microsoft.MachineLearningServices/workspaces/mlw-mlops-prod" in clean - flagged
    assert f"{PROD_SUB}/resourceGroups/rg-mlops-legacy/providers/Microsoft.MachineLearningServices/workspaces/mlw-mlops-legacy" in flagged
    assert any(r.startswith(DEV_SUB) for r in flagged)
