"""Seed files: YAML/JSON tenant layout, inventory files, and errors reported all at once."""

from __future__ import annotations

import json

import pytest

from policygen.azure.clients import build_clients
from policygen.emulator import running_emulator
from policygen.errors import InputError

SUB = "44444444-4444-4444-4444-444444444444"


def test_yaml_seed_with_inventory(make_tree):
    root = make_tree(
        {
            "seed.yaml": f"""
            tenantId: 99999999-0000-0000-0000-000000000000
            managementGroups:
              - name: corp
                displayName: Corp
              - name: online
                parent: corp
            subscriptions:
              - id: {SUB}
                displayName: Online 1
                managementGroup: online
                resourceGroups:
                  - name: web
                    location: eastus
            inventory: inventory.json
            """,
            "inventory.json": json.dumps(
                [
                    {
                        "id": f"/subscriptions/{SUB}/resourceGroups/web/providers/Microsoft.Web/sites/app1",
                        "type": "Microsoft.Web/sites",
                        "location": "eastus",
                        "properties": {"httpsOnly": False},
                    },
                    {
                        "id": "/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/auto/providers/"
                        "Microsoft.Web/sites/app2",
                        "location": "westus",
                    },
                ]
            ),
        }
    )
    with running_emulator(seed=root / "seed.yaml") as url:
        c = build_clients(SUB, endpoint=url, retry_total=0)
        assert url.emulator.tenant_id == "99999999-0000-0000-0000-000000000000"
        online = c.management_groups.management_groups.get("online", expand="children")
        assert online.properties.details.parent.id.endswith("/corp")
        assert [s.name for s in online.properties.children] == [SUB]
        assert [r.name for r in c.resources.resources.list_by_resource_group("web")] == ["app1"]
        # Resources under unknown subscriptions / groups bring them into being.
        other = build_clients("55555555-5555-5555-5555-555555555555", endpoint=url, retry_total=0)
        assert other.resources.resource_groups.get("auto").location == "westus"


def test_json_seed_and_errors(tmp_path):
    bad = tmp_path / "seed.json"
    bad.write_text(
        json.dumps(
            {"managementGroups": [{"name": "a", "parent": "missing"}], "colour": 1, "resources": [{"id": "not-an-id"}]}
        )
    )
    with pytest.raises(InputError) as err, running_emulator(seed=bad):
        pass
    text = str(err.value)
    assert "parent 'missing'" in text and "unknown seed key 'colour'" in text and "not-an-id" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text("managementGroups: [\n")
    with pytest.raises(InputError) as err, running_emulator(seed=broken):
        pass
    assert err.value.diagnostics[0].line >= 1


def test_yaml_problems_point_at_the_entry(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("managementGroups:\n  - name: a\n  - name: b\n    parent: nowhere\n")
    with pytest.raises(InputError) as err, running_emulator(seed=seed):
        pass
    (diag,) = err.value.diagnostics
    assert (diag.line, diag.col) == (3, 5) and "parent 'nowhere'" in diag.message
