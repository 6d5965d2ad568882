"""Field resolution: built-in fields, tags spellings, identity, catalogue paths and the fallback."""

from __future__ import annotations

from policygen.arm.aliases import Alias, AliasCatalogue
from policygen.evaluate import compile_policy
from policygen.evaluate.paths import STAR, fallback_path, parse_path, tag_name
from tests.evaluate.helpers import definition, matches, value

RES = {
    "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/srv/databases/db",
    "type": "Microsoft.Sql/servers/databases",
    "name": "db",
    "kind": "v12.0,user",
    "location": "East US 2",
    "tags": {"Cost.Center": "42", "it's": "yes", "Env": "prod"},
    "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {"/x": {}}},
    "sku": {"name": "S0"},
    "Properties": {"Collation": "SQL_Latin1", "nested": {"Deep": 1}},
}


def test_builtin_fields() -> None:
    assert matches({"field": "name", "equals": "DB"}, RES)
    assert matches({"field": "fullName", "equals": "srv/db"}, RES)
    assert matches({"field": "type", "equals": "microsoft.sql/servers/databases"}, RES)
    assert matches({"field": "kind", "like": "v12*"}, RES)
    assert matches({"field": "location", "equals": "eastus2"}, RES)
    assert matches({"field": "id", "like": "*/databases/db"}, RES)
    assert matches({"field": "identity.type", "contains": "UserAssigned"}, RES)
    assert matches({"field": "identity.userAssignedIdentities", "containsKey": "/x"}, RES)
    assert matches({"field": "tags", "containsKey": "env"}, RES)


def test_name_of_a_template_style_child_resource_is_its_last_segment() -> None:
    child = {"type": "Microsoft.Sql/servers/databases", "name": "srv/db"}
    assert matches({"field": "name", "equals": "db"}, child)
    assert matches({"field": "fullName", "equals": "srv/db"}, child)


def test_tag_spellings() -> None:
    assert tag_name("tags['Cost.Center']") == "Cost.Center"
    assert tag_name("tags['''it''s''']") == "'it's'"
    assert tag_name("tags[Cost.Center]") == "Cost.Center"
    assert tag_name("tags.env") == "env"
    assert tag_name("tagsfoo") is None
    assert matches({"field": "tags['cost.center']", "equals": "42"}, RES)
    assert matches({"field": "tags['it''s']", "equals": "yes"}, RES)
    assert matches({"field": "tags.Env", "equals": "prod"}, RES)
    assert matches({"field": "tags['missing']", "exists": False}, RES)
    assert matches({"field": "[concat('tags[', parameters('t'), ']')]", "equals": "prod"}, RES, values={"t": "env"})


def test_property_names_are_case_insensitive() -> None:
    assert matches({"field": "Microsoft.Sql/servers/databases/collation", "equals": "sql_latin1"}, RES)
    assert matches({"field": "Microsoft.Sql/servers/databases/nested.deep", "equals": 1}, RES)


def test_catalogue_paths_win_over_the_fallback() -> None:
    cat = AliasCatalogue()
    cat.add([Alias("Microsoft.Sql/servers/databases/skuName", "sku.name")], "test")
    assert matches({"field": "Microsoft.Sql/servers/databases/skuName", "equals": "S0"}, RES, catalogue=cat)
    pol = compile_policy(
        definition({"field": "Microsoft.Sql/servers/databases/skuName", "exists": True}), catalogue=cat
    )
    assert not pol.unknown_aliases
    fallback = compile_policy(
        definition({"field": "Microsoft.Sql/servers/databases/whatever", "exists": True}), catalogue=cat
    )
    assert fallback.unknown_aliases == {"Microsoft.Sql/servers/databases/whatever"}


def test_shipped_catalogue_resolves_nested_ml_paths() -> None:
    compute = {
        "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "name": "c",
        "properties": {"properties": {"subnet": {"id": "/sn"}}},
    }
    assert matches(
        {"field": "Microsoft.MachineLearningServices/workspaces/computes/subnet.id", "equals": "/sn"}, compute
    )


def test_fallback_path_and_envelope_properties() -> None:
    assert fallback_path("Microsoft.Test/resourceType/a.b[*].c") == "properties.a.b[*].c"
    assert fallback_path("Microsoft.Test/resourceType/sku.name") == "sku.name"
    assert fallback_path("Microsoft.Test/resourceType/child/prop") == "properties.prop"
    assert parse_path("properties.a[*].b") == (("properties", "properties"), ("a", "a"), STAR, ("b", "b"))
    assert parse_path("tags['a.b']") == (("tags", "tags"), ("a.b", "a.b"))


def test_missing_member_property_is_null_for_conditions_and_left_out_by_field_function() -> None:
    # issue #12: a `field` condition sees the member's missing value (so `exists` fails for it), while
    # `field()` leaves members lacking the property out of the array (built-ins compare lengths).
    # https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays#referencing-array-fields
    res = {"type": "t", "properties": {"items": [{"v": 1}, {}]}}
    assert not matches({"field": "Microsoft.Test/t/items[*].v", "exists": True}, res)
    assert value("[field('Microsoft.Test/t/items[*].v')]", res) == [1]
    assert value("[length(field('Microsoft.Test/t/items[*].v'))]", res) == 1
