"""The alias catalogue: one default catalogue, file loaders (CSV and the REST provider JSON), modifiable aliases.

Alias names are case-insensitive and each has a default path:
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias
Provider JSON is the shape of `GET /subscriptions/{id}/providers?$expand=resourceTypes/aliases`
(https://learn.microsoft.com/rest/api/resources/providers/list), as `az provider list --expand` prints it.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.arm.aliases import (
    AliasCatalogue,
    default_catalogue,
    load_catalogue,
    modifiable_aliases,
    resource_type_of_alias,
    shipped_catalogue,
    synced_modifiable_aliases,
)

PROVIDERS = {
    "value": [
        {
            "namespace": "Microsoft.Contoso",
            "resourceTypes": [
                {
                    "resourceType": "widgets",
                    "aliases": [
                        {
                            "name": "Microsoft.Contoso/widgets/colour",
                            "paths": [{"path": "properties.colour", "apiVersions": ["2024-01-01"]}],
                            "defaultMetadata": {"type": "String", "attributes": "Modifiable"},
                        },
                        {"name": "Microsoft.Contoso/widgets/size", "defaultPath": "properties.size"},
                    ],
                }
            ],
        }
    ]
}


def test__aliases__default_catalogue_is_loaded_once_and_holds_the_shipped_aliases() -> None:
    cat = default_catalogue()
    assert cat is default_catalogue()
    storage = "Microsoft.Storage/storageAccounts/publicNetworkAccess"
    assert storage in shipped_catalogue() and cat.path(storage.upper()) == "properties.publicNetworkAccess"
    assert len(cat) >= len(shipped_catalogue())


def test__aliases__provider_json_and_csv_files_load_case_insensitively(tmp_path: Path) -> None:
    (tmp_path / "providers.json").write_text(json.dumps(PROVIDERS), encoding="utf-8")
    (tmp_path / "extra.csv").write_text(
        "alias,defaultPath\nMicrosoft.Contoso/gadgets/x,properties.x\n", encoding="utf-8"
    )
    cat = load_catalogue([tmp_path / "providers.json", tmp_path / "extra.csv"], cache_dir=tmp_path / "none")
    assert cat.path("microsoft.contoso/WIDGETS/colour") == "properties.colour"
    assert cat.path("Microsoft.Contoso/widgets/size") == "properties.size"
    assert cat.path("Microsoft.Contoso/gadgets/X") == "properties.x"
    assert [src for src, _date in cat.sources][1:] == [str(tmp_path / "providers.json"), str(tmp_path / "extra.csv")]


def test__aliases__modifiable_comes_from_the_shipped_list_and_the_sync_cache(tmp_path: Path) -> None:
    # shipped: generated from the built-in modify definitions (scripts/build_modifiable_aliases.py)
    assert "microsoft.appconfiguration/configurationstores/disablelocalauth" in modifiable_aliases()
    assert "microsoft.storage/storageaccounts/sku.name" not in modifiable_aliases()
    (tmp_path / "aliases.json").write_text(json.dumps(PROVIDERS), encoding="utf-8")
    assert synced_modifiable_aliases(tmp_path) == {"microsoft.contoso/widgets/colour"}
    assert synced_modifiable_aliases(tmp_path / "missing") == set()


def test__aliases__resource_type_is_everything_before_the_property() -> None:
    assert resource_type_of_alias("Microsoft.Network/virtualNetworks/subnets/ipConfigurations[*].id") == (
        "Microsoft.Network/virtualNetworks/subnets"
    )
    assert resource_type_of_alias("Microsoft.Storage/storageAccounts/networkAcls.defaultAction") == (
        "Microsoft.Storage/storageAccounts"
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "value",
                    "resourceTypes",
                    "aliases",
                    "name",
                    "defaultPath",
                    "paths",
                    "path",
                    "defaultMetadata",
                    "attributes",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test__aliases__loaders_skip_any_shape_they_do_not_know(data: object) -> None:
    """Property: a provider file of any JSON shape loads (possibly nothing) and never raises."""
    cat = AliasCatalogue()
    from policygen.arm.aliases import _aliases_from_provider_json, _provider_aliases

    cat.add(_aliases_from_provider_json(data), "test")
    assert all(isinstance(a.name, str) and isinstance(a.path, str) for a in cat)
    assert all(isinstance(a, dict) for a in _provider_aliases(data))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test__aliases__csv_of_any_text_loads_rows_with_a_type(text: str) -> None:
    from policygen.arm.aliases import _aliases_from_csv

    assert all("/" in a.name for a in _aliases_from_csv(text.splitlines()))
