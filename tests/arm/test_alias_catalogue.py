"""The full alias catalogue, per resource type and API version.

Aliases, their default path and per-API-version paths, and the Modifiable attribute:
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias
("Some aliases have different paths per API version … the alias's path is selected by the API version of the
request"; the providers API returns `paths[].apiVersions` and `defaultMetadata.attributes`:
https://learn.microsoft.com/rest/api/resources/providers/list).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.arm.alias_data import (
    Alias,
    AliasPath,
    aliases_from_csv,
    aliases_from_document,
    aliases_from_provider_json,
    is_document,
    to_document,
)
from policygen.arm.aliases import AliasCatalogue, is_non_alias_field, load_catalogue, shipped_catalogue

IMAGE_PUBLISHER = "Microsoft.Compute/imagePublisher"


def test__catalogue__one_alias_name_has_a_path_per_resource_type() -> None:
    # The January 2024 dump lists Microsoft.Compute/imagePublisher three times, in the blocks of
    # virtual machines, scale sets and disks (Get-AzPolicyAlias -NamespaceMatch Microsoft.Compute).
    cat = shipped_catalogue()
    assert cat.path(IMAGE_PUBLISHER, "Microsoft.Compute/virtualMachines") == (
        "properties.storageProfile.imageReference.publisher"
    )
    assert cat.path(IMAGE_PUBLISHER.upper(), "microsoft.compute/virtualmachinescalesets") == (
        "properties.virtualMachineProfile.storageProfile.imageReference.publisher"
    )
    assert cat.path(IMAGE_PUBLISHER, "Microsoft.Compute/disks") == "properties.creationData.imageReference.id"
    assert [t.lower() for t in cat.types_of(IMAGE_PUBLISHER)] == [
        "microsoft.compute/virtualmachines",
        "microsoft.compute/virtualmachinescalesets",
        "microsoft.compute/disks",
    ]
    # a type that does not have the alias: nothing to read (the validator still knows the name)
    assert cat.path(IMAGE_PUBLISHER, "Microsoft.Compute/availabilitySets") is None
    assert IMAGE_PUBLISHER in cat
    assert cat.path("Microsoft.Compute/licenseType", "Microsoft.Compute/virtualMachineScaleSets") == (
        "properties.virtualMachineProfile.licenseType"
    )


def test__catalogue__every_namespace_of_the_dump_ships() -> None:
    cat = shipped_catalogue()
    assert cat.path("Microsoft.DocumentDB/databaseAccounts/disableLocalAuth") == "properties.disableLocalAuth"
    assert cat.has_type("Microsoft.DocumentDB/databaseAccounts")
    assert len(cat.namespaces()) > 100


def test__catalogue__dump_rows_named_after_the_namespace_take_the_type_of_their_block() -> None:
    rows = [
        "Microsoft.Compute/availabilitySets/sku,sku",
        "Microsoft.Compute/licenseType,properties.licenseType",
        "Microsoft.Compute/virtualMachines/sku.name,properties.hardwareProfile.vmSize",
        "Microsoft.Compute/imageId,properties.storageProfile.imageReference.id",
        "Microsoft.Compute/virtualMachines/osDisk.Uri,properties.storageProfile.osDisk.vhd.uri",
    ]
    types = {a.name: a.resource_type for a in aliases_from_csv(rows)}
    assert types["Microsoft.Compute/licenseType"] == "Microsoft.Compute/virtualMachines"
    assert types["Microsoft.Compute/imageId"] == "Microsoft.Compute/virtualMachines"
    assert types["Microsoft.Compute/availabilitySets/sku"] == "Microsoft.Compute/availabilitySets"


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
                            "defaultPath": "properties.colour",
                            "paths": [
                                {"path": "properties.color", "apiVersions": ["2023-01-01"]},
                                {
                                    "path": "properties.colour",
                                    "apiVersions": ["2024-01-01"],
                                    "metadata": {"type": "String", "attributes": "Modifiable"},
                                },
                            ],
                            "defaultMetadata": {"type": "String", "attributes": "None"},
                        }
                    ],
                },
                {
                    "resourceType": "gadgets",
                    "aliases": [{"name": "Microsoft.Contoso/widgets/colour", "defaultPath": "properties.hue"}],
                },
            ],
        }
    ]
}


def test__catalogue__provider_json_keeps_paths_per_api_version_and_modifiable(tmp_path: Path) -> None:
    (tmp_path / "providers.json").write_text(json.dumps(PROVIDERS), encoding="utf-8")
    cat = load_catalogue([tmp_path / "providers.json"], cache_dir=tmp_path / "none")
    name, widgets = "Microsoft.Contoso/widgets/colour", "Microsoft.Contoso/widgets"
    assert cat.path(name, widgets, "2023-01-01") == "properties.color"
    assert cat.path(name, widgets, "2024-01-01") == "properties.colour"
    assert cat.path(name, widgets, "2099-01-01") == "properties.colour"  # no path lists it: the default
    assert cat.path(name, widgets) == "properties.colour"
    assert cat.path(name, "Microsoft.Contoso/gadgets") == "properties.hue"
    assert cat.modifiable(name, widgets, "2024-01-01") is True
    assert cat.modifiable(name, widgets, "2023-01-01") is False  # falls back to defaultMetadata: None
    assert cat.modifiable("Microsoft.Storage/storageAccounts/sku.name") is None  # the dump does not say


def test__catalogue__aliases_files_add_to_the_packaged_catalogue(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("Microsoft.Compute/virtualMachines/newThing,properties.newThing\n", encoding="utf-8")
    cat = load_catalogue([extra], cache_dir=tmp_path / "none")
    assert cat.path("Microsoft.Compute/virtualMachines/newThing") == "properties.newThing"
    # the packaged aliases of the same namespace and of others are still there
    assert cat.path(IMAGE_PUBLISHER, "Microsoft.Compute/disks") == "properties.creationData.imageReference.id"
    assert "Microsoft.DocumentDB/databaseAccounts/disableLocalAuth" in cat
    assert cat.describe().endswith(f"{extra} ({cat.sources[-1][1]})")


def test__catalogue__a_later_source_replaces_only_its_own_type(tmp_path: Path) -> None:
    cat = AliasCatalogue()
    cat.add(aliases_from_provider_json(PROVIDERS), "azure")
    override = {"namespace": "Microsoft.Contoso", "resourceTypes": [
        {"resourceType": "gadgets", "aliases": [{"name": "Microsoft.Contoso/widgets/colour", "defaultPath": "x"}]}]}  # fmt: skip
    cat.add(aliases_from_provider_json(override), "later")
    assert cat.path("Microsoft.Contoso/widgets/colour", "Microsoft.Contoso/gadgets") == "x"
    assert cat.path("Microsoft.Contoso/widgets/colour", "Microsoft.Contoso/widgets") == "properties.colour"


def test__catalogue__suggests_close_spellings_not_unrelated_aliases() -> None:
    cat = shipped_catalogue()
    assert cat.suggest("Microsoft.Storage/storageAccounts/publicNetworkAcess") == [
        "Microsoft.Storage/storageAccounts/publicNetworkAccess"
    ]
    assert cat.suggest("Microsoft.Storage/storageAcounts/publicNetworkAccess") == [
        "Microsoft.Storage/storageAccounts/publicNetworkAccess"
    ]
    assert cat.suggest("Microsoft.Web/sites/endToEndEncryptionEnabled") == []  # newer than the dump, no typo


# --------------------------------------------------------------------------------------------- corpus

# Aliases the built-ins use that the January 2024 dump cannot have. Data-plane aliases (`*.Data/...`, the
# Microsoft.KeyVault.Data / Microsoft.CognitiveServices.Data … resource provider modes) are never in the
# ARM catalogue; these others were added to Azure after the dump was taken (SOURCE.txt of the dump).
_NEWER = """
Microsoft.ApiManagement/service/workspaces/apis/operations/policies/value
Microsoft.ApiManagement/service/workspaces/apis/policies/value
Microsoft.ApiManagement/service/workspaces/policies/value
Microsoft.ApiManagement/service/workspaces/products/policies/value
Microsoft.Cache/Redis/disableAccessKeyAuthentication
Microsoft.Cache/Redis/zonalAllocationPolicy
Microsoft.Communication/communicationServices/dataLocation
Microsoft.Communication/communicationServices/disableLocalAuth
Microsoft.Compute/virtualMachineScaleSets/resiliencyPolicy
Microsoft.Compute/virtualMachineScaleSets/resiliencyPolicy.automaticZoneRebalancingPolicy
Microsoft.Dashboard/grafana/enterpriseConfigurations
Microsoft.Dashboard/grafana/grafanaConfigurations.smtp.enabled
Microsoft.DataProtection/backupVaults/securitySettings.encryptionSettings.infrastructureEncryption
Microsoft.DataProtection/backupVaults/securitySettings.encryptionSettings.state
Microsoft.DevOpsInfrastructure/pools/fabricProfile.Vmss.networkProfile.subnetId
Microsoft.DurableTask/schedulers/ipAllowlist[*]
Microsoft.FileShares/fileShares/publicNetworkAccess
Microsoft.HealthBot/healthBots/accessControlMethod
Microsoft.HealthcareApis/workspaces/dicomservices/encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl
Microsoft.HealthcareApis/workspaces/fhirservices/encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl
Microsoft.HealthDataAIServices/deidServices/privateEndpointConnections[*]
Microsoft.HealthDataAIServices/deidServices/privateEndpointConnections[*].privateLinkServiceConnectionState.status
Microsoft.HealthDataAIServices/deidServices/publicNetworkAccess
Microsoft.Maps/accounts/locations[*]
Microsoft.Maps/accounts/locations[*].locationName
Microsoft.Maps/accounts/privateEndpointConnections[*]
Microsoft.Maps/accounts/privateEndpointConnections[*].privateLinkServiceConnectionState.status
Microsoft.Maps/accounts/publicNetworkAccess
Microsoft.MobileNetwork/packetCoreControlPlanes/localDiagnosticsAccess.authenticationType
Microsoft.MobileNetwork/simGroups/encryptionKey.keyUrl
Microsoft.Portal/dashboards/lenses[*].parts[*].metadata.Extension-HubsExtension-PartType-MarkdownPart.settings.content.markdownSource
Microsoft.Portal/dashboards/lenses[*].parts[*].metadata.Extension-HubsExtension-PartType-MarkdownPart.settings.content.markdownUri
Microsoft.Purview/accounts/privateEndpointConnections[*]
Microsoft.Purview/accounts/privateEndpointConnections[*].privateLinkServiceConnectionState.status
Microsoft.Security/securityContacts/isEnabled
Microsoft.Security/securityContacts/notificationsSources[*]
Microsoft.Security/securityContacts/notificationsSources[*].Alert.minimalSeverity
Microsoft.Security/securityContacts/notificationsSources[*].sourceType
Microsoft.Sql/servers/createMode
Microsoft.SqlVirtualMachine/sqlVirtualMachines/osType
Microsoft.Web/sites/autoGeneratedDomainNameLabelScope
Microsoft.Web/sites/endToEndEncryptionEnabled
Microsoft.Web/sites/outboundVnetRouting.allTraffic
Microsoft.Web/sites/outboundVnetRouting.applicationTraffic
Microsoft.Web/sites/outboundVnetRouting.backupRestoreTraffic
Microsoft.Web/sites/outboundVnetRouting.contentShareTraffic
Microsoft.Web/sites/outboundVnetRouting.imagePullTraffic
Microsoft.Web/sites/sku
Microsoft.Web/sites/slots/autoGeneratedDomainNameLabelScope
Microsoft.Web/sites/slots/endToEndEncryptionEnabled
Microsoft.Web/sites/slots/outboundVnetRouting.allTraffic
Microsoft.Web/sites/slots/outboundVnetRouting.applicationTraffic
Microsoft.Web/sites/slots/outboundVnetRouting.backupRestoreTraffic
Microsoft.Web/sites/slots/outboundVnetRouting.contentShareTraffic
Microsoft.Web/sites/slots/outboundVnetRouting.imagePullTraffic
Microsoft.Web/sites/slots/sku
Microsoft.Web/sites/slots/sshEnabled
Microsoft.Web/sites/slots/vnetBackupRestoreEnabled
Microsoft.Web/sites/sshEnabled
Microsoft.Web/sites/vnetBackupRestoreEnabled
"""
NEWER_THAN_THE_DUMP = frozenset(n.lower() for n in _NEWER.splitlines() if n)


def _builtin_aliases(shared_dir: Path) -> dict[str, str]:
    used = (shared_dir / "corpus/aliases/aliases-used-by-builtins.txt").read_text(encoding="utf-8").split("\n")
    return {n.strip().lower(): n.strip() for n in used if "/" in n and not is_non_alias_field(n.strip())}


@pytest.mark.corpus
def test__corpus__the_shipped_catalogue_resolves_every_alias_the_builtins_use(shared_dir: Path) -> None:
    cat = shipped_catalogue()
    unresolved, per_type = [], 0
    for low, name in sorted(_builtin_aliases(shared_dir).items()):
        if ".data/" in low or low in NEWER_THAN_THE_DUMP:
            continue
        base = low[:-3] if low.endswith("[*]") and low not in cat else low
        types = cat.types_of(base)
        if not types:
            unresolved.append(name)
        for rtype in types:  # every type that has it resolves it to a path
            per_type += 1
            assert cat.path(base, rtype), (name, rtype)
    assert unresolved == []
    assert per_type > 1100
    # the listed exceptions are still exceptions: when a catalogue update adds one, drop it from the list
    assert not [n for n in NEWER_THAN_THE_DUMP if n in cat]


@pytest.mark.corpus
def test__corpus__builtins_on_vm_images_read_each_type_through_its_own_path(shared_dir: Path) -> None:
    """Built-ins restricting `type` to virtual machines or scale sets and reading Microsoft.Compute/image*."""
    cat = shipped_catalogue()
    seen: set[str] = set()
    for path in (shared_dir / "corpus/azure-policy-builtins/policyDefinitions/Compute").glob("*.json"):
        text = path.read_text(encoding="utf-8-sig")
        if "Microsoft.Compute/imagePublisher" not in text:
            continue
        for rtype in ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets"):
            if f'"{rtype}"'.lower() in text.lower():
                got = cat.path(IMAGE_PUBLISHER, rtype)
                assert got is not None and ("virtualMachineProfile" in got) == rtype.endswith("ScaleSets")
                seen.add(rtype)
    assert len(seen) == 2


# ------------------------------------------------------------------------------------ loader properties

_names = st.from_regex(r"Microsoft\.[A-Za-z]{1,6}/[a-z]{1,6}/[a-zA-Z.\[\]*]{1,12}", fullmatch=True)
_records = st.builds(
    Alias,
    _names,
    st.from_regex(r"properties\.[a-zA-Z.]{1,10}", fullmatch=True),
    st.just(""),
    st.lists(
        st.builds(AliasPath, st.text(min_size=1, max_size=8), st.lists(st.sampled_from(["2023-01-01", "2024-05-01"]),
                  max_size=2).map(tuple), st.sampled_from([None, True, False])),
        max_size=2,
    ).map(tuple),
    st.sampled_from([None, True, False]),
)  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records, max_size=8))
def test__catalogue__the_per_type_document_round_trips(records: list[Alias]) -> None:
    """Property: what `aliases sync` writes reads back as the same records (later ones of a type win)."""
    doc = json.loads(json.dumps(to_document(records, "test", "2026-01-01")))
    expected = {(a.resource_type.lower(), a.name): a for a in records}
    got = {(a.resource_type.lower(), a.name): a for a in aliases_from_document(doc)}
    assert got.keys() == expected.keys()
    for key, alias in expected.items():
        assert (got[key].path, got[key].paths, got[key].modifiable) == (alias.path, alias.paths, alias.modifiable)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["format", "types", "defaultPath", "paths", "path", "apiVersions",
                                       "modifiable", "Microsoft.A/b", "Microsoft.A/b/c"]), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test__catalogue__a_document_of_any_shape_loads_or_is_skipped(data: object) -> None:
    if isinstance(data, dict):
        data = {**data, "format": "policygen.aliases/1"}
    if is_document(data):
        cat = AliasCatalogue()
        cat.add(aliases_from_document(data), "test")
        assert all(isinstance(a.path, str) and a.path for a in cat)


@pytest.mark.corpus
def test__corpus__the_shipped_archive_is_what_the_dump_gives(shared_dir: Path) -> None:
    """policygen/data/aliases.zip is regenerated by scripts/build_alias_catalogue.py (byte-identical)."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts/build_alias_catalogue.py"
    spec = importlib.util.spec_from_file_location("build_alias_catalogue", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data, n, n_dump, _ = module.build(shared_dir / "corpus/aliases/policy-aliases.csv")
    assert n_dump == 65399 and n == 65399 + 3  # every dump row, plus aliases-extra.csv
    assert data == module.OUT.read_bytes(), "run python scripts/build_alias_catalogue.py"
