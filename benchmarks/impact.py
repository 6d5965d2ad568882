"""Benchmark `policygen impact`: a synthetic inventory of Machine Learning, Storage, Key Vault and
Network resources evaluated against the MLOps pack plus the built-ins of those categories.

    python benchmarks/impact.py                      # 100,000 resources
    python benchmarks/impact.py --resources 20000 --keep /tmp/inv.json

Reports, in one run: the time to merely `json.load` the inventory (stdlib), the impact wall time
(load the inventory with policygen's loader + compile every policy + evaluate every applicable pair),
pairs evaluated per second, and the ratio impact / json.load (target ≤ 3).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BUILTIN_CATEGORIES = ("Machine Learning", "Storage", "Key Vault", "Network")
LOCATIONS = ["westeurope", "northeurope", "eastus", "swedencentral", "East US 2"]


def _id(sub: str, rg: str, rtype: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}"


def _tags(rnd: random.Random) -> dict:
    tags = {"environment": rnd.choice(["prod", "dev", "test"]), "workload": "mlops"}
    if rnd.random() < 0.5:
        tags["costCenter"] = f"cc-{rnd.randint(1000, 9999)}"
    return tags


def _acls(rnd: random.Random) -> dict:
    return {
        "defaultAction": rnd.choice(["Allow", "Deny"]),
        "bypass": rnd.choice(["AzureServices", "None", "AzureServices, Logging"]),
        "ipRules": [{"value": f"203.0.113.{rnd.randint(1, 254)}", "action": "Allow"} for _ in range(rnd.randint(0, 3))],
        "virtualNetworkRules": [],
    }


def make_resource(rnd: random.Random, i: int) -> list[dict]:
    """One resource (sometimes with a diagnostic setting or private endpoint connection beside it)."""
    sub = f"00000000-0000-0000-0000-{i % 8:012d}"
    rg = f"rg-{i % 400}"
    loc = rnd.choice(LOCATIONS)
    kind = rnd.random()
    public = rnd.choice(["Enabled", "Disabled"])
    out: list[dict] = []
    if kind < 0.08:
        t = "Microsoft.MachineLearningServices/workspaces"
        name = f"mlw-{i}"
        res = {
            "id": _id(sub, rg, t, name),
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "identity": {"type": rnd.choice(["SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"])},
            "sku": {"name": "Basic", "tier": "Basic"},
            "kind": "Default",
            "properties": {
                "publicNetworkAccess": public,
                "v1LegacyMode": rnd.random() < 0.1,
                "storageAccount": _id(sub, rg, "Microsoft.Storage/storageAccounts", f"st{i}"),
                "keyVault": _id(sub, rg, "Microsoft.KeyVault/vaults", f"kv-{i}"),
                "managedNetwork": {"isolationMode": rnd.choice(["Disabled", "AllowOnlyApprovedOutbound"])},
                "encryption": {"status": rnd.choice(["Enabled", "Disabled"])},
                "privateEndpointConnections": [],
                "hbiWorkspace": False,
            },
        }
    elif kind < 0.16:
        t = "Microsoft.MachineLearningServices/workspaces/computes"
        name = f"mlw-{i % 50}/cpu-{i}"
        res = {
            "id": _id(sub, rg, "Microsoft.MachineLearningServices/workspaces", f"mlw-{i % 50}") + f"/computes/cpu-{i}",
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "properties": {
                "computeType": rnd.choice(["AmlCompute", "ComputeInstance", "Kubernetes"]),
                "disableLocalAuth": rnd.random() < 0.7,
                "properties": {
                    "enableNodePublicIp": rnd.random() < 0.3,
                    "subnet": {"id": _id(sub, rg, "Microsoft.Network/virtualNetworks", "vnet/subnets/s")}
                    if rnd.random() < 0.6
                    else None,
                },
            },
        }
    elif kind < 0.36:
        t = "Microsoft.Storage/storageAccounts"
        name = f"st{i}"
        res = {
            "id": _id(sub, rg, t, name),
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "kind": rnd.choice(["StorageV2", "BlobStorage", "Storage"]),
            "sku": {"name": rnd.choice(["Standard_LRS", "Standard_GRS", "Premium_LRS"]), "tier": "Standard"},
            "properties": {
                "publicNetworkAccess": public,
                "minimumTlsVersion": rnd.choice(["TLS1_0", "TLS1_2"]),
                "allowBlobPublicAccess": rnd.random() < 0.3,
                "supportsHttpsTrafficOnly": rnd.random() < 0.9,
                "allowSharedKeyAccess": rnd.random() < 0.5,
                "networkAcls": _acls(rnd),
                "encryption": {
                    "keySource": "Microsoft.Storage",
                    "services": {"blob": {"enabled": True}, "file": {"enabled": True}},
                },
                "accessTier": "Hot",
            },
        }
    elif kind < 0.48:
        t = "Microsoft.KeyVault/vaults"
        name = f"kv-{i}"
        res = {
            "id": _id(sub, rg, t, name),
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "properties": {
                "tenantId": "11111111-1111-1111-1111-111111111111",
                "sku": {"family": "A", "name": "standard"},
                "enableSoftDelete": rnd.random() < 0.9,
                "enablePurgeProtection": rnd.random() < 0.5,
                "enableRbacAuthorization": rnd.random() < 0.6,
                "publicNetworkAccess": public,
                "networkAcls": _acls(rnd),
                "accessPolicies": [],
            },
        }
    elif kind < 0.62:
        t = "Microsoft.Network/virtualNetworks"
        name = f"vnet-{i}"
        subnets = []
        for s in range(rnd.randint(1, 4)):
            props: dict = {"addressPrefix": f"10.{i % 250}.{s}.0/24"}
            if rnd.random() < 0.6:
                props["networkSecurityGroup"] = {"id": _id(sub, rg, "Microsoft.Network/networkSecurityGroups", "nsg")}
            if rnd.random() < 0.3:
                props["serviceEndpoints"] = [{"service": "Microsoft.Storage", "locations": [loc]}]
            subnets.append({"name": f"snet-{s}", "properties": props})
        res = {
            "id": _id(sub, rg, t, name),
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "properties": {
                "addressSpace": {"addressPrefixes": [f"10.{i % 250}.0.0/16"]},
                "subnets": subnets,
                "enableDdosProtection": rnd.random() < 0.2,
            },
        }
    elif kind < 0.76:
        t = "Microsoft.Network/networkSecurityGroups"
        name = f"nsg-{i}"
        rules = []
        for r in range(rnd.randint(0, 5)):
            rules.append(
                {
                    "name": f"rule-{r}",
                    "properties": {
                        "protocol": rnd.choice(["Tcp", "*"]),
                        "access": rnd.choice(["Allow", "Deny"]),
                        "direction": rnd.choice(["Inbound", "Outbound"]),
                        "priority": 100 + r,
                        "sourceAddressPrefix": rnd.choice(["*", "Internet", "10.0.0.0/8"]),
                        "destinationPortRange": rnd.choice(["22", "3389", "443", "*"]),
                        "destinationAddressPrefix": "*",
                    },
                }
            )
        res = {
            "id": _id(sub, rg, t, name),
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "properties": {"securityRules": rules},
        }
    elif kind < 0.86:
        t = "Microsoft.Network/publicIPAddresses"
        name = f"pip-{i}"
        res = {
            "id": _id(sub, rg, t, name),
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "sku": {"name": rnd.choice(["Basic", "Standard"])},
            "properties": {"publicIPAllocationMethod": "Static", "ipAddress": f"198.51.100.{i % 250}"},
        }
    elif kind < 0.94:
        t = "Microsoft.Network/privateEndpoints"
        name = f"pe-{i}"
        res = {
            "id": _id(sub, rg, t, name),
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "properties": {
                "subnet": {"id": _id(sub, rg, "Microsoft.Network/virtualNetworks", "v/subnets/s")},
                "privateLinkServiceConnections": [
                    {
                        "name": "c",
                        "properties": {
                            "privateLinkServiceId": _id(sub, rg, "Microsoft.Storage/storageAccounts", "st"),
                            "groupIds": [rnd.choice(["blob", "file", "vault", "amlworkspace"])],
                        },
                    }
                ],
            },
        }
    else:
        t = "Microsoft.Network/networkInterfaces"
        name = f"nic-{i}"
        res = {
            "id": _id(sub, rg, t, name),
            "type": t,
            "name": name,
            "location": loc,
            "tags": _tags(rnd),
            "properties": {
                "enableIPForwarding": rnd.random() < 0.1,
                "ipConfigurations": [{"name": "ipconfig1", "properties": {"privateIPAddress": f"10.0.{i % 250}.4"}}],
            },
        }
    out.append(res)
    if (
        t
        in (
            "Microsoft.Storage/storageAccounts",
            "Microsoft.KeyVault/vaults",
            "Microsoft.MachineLearningServices/workspaces",
        )
        and rnd.random() < 0.4
    ):
        out.append(
            {
                "id": res["id"] + "/providers/Microsoft.Insights/diagnosticSettings/diag",
                "type": "Microsoft.Insights/diagnosticSettings",
                "name": "diag",
                "properties": {
                    "workspaceId": "/subscriptions/x/resourceGroups/y/providers/"
                    "Microsoft.OperationalInsights/workspaces/law",
                    "logs": [{"category": "AuditEvent", "enabled": rnd.random() < 0.8}],
                    "metrics": [{"category": "AllMetrics", "enabled": True}],
                },
            }
        )
    return out


_STAMP = "2024-05-{d:02d}T{h:02d}:{m:02d}:17.1234567Z"
_DEFAULT_NSG_RULES = [
    ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
    ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
    ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
]


def realistic(rnd: random.Random, res: dict) -> dict:
    """Add what a real `az resource show` / Resource Graph record carries besides the properties a policy
    reads: envelope fields, systemData, etag and the read-only properties of each type (so the
    inventory's size per resource, ~2-3 KB, and hence json.load time, resemble a real export)."""
    rid = res["id"]
    parts = rid.split("/")
    stamp = _STAMP.format(d=rnd.randint(1, 28), h=rnd.randint(0, 23), m=rnd.randint(0, 59))
    guid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    res.setdefault("kind", "")
    res.update(
        {
            "resourceGroup": parts[4],
            "subscriptionId": parts[2],
            "tenantId": "11111111-1111-1111-1111-111111111111",
            "managedBy": "",
            "plan": None,
            "zones": None,
            "extendedLocation": None,
            "etag": f'W/"{guid}"',
            "systemData": {
                "createdBy": "deploy@contoso.com",
                "createdByType": "User",
                "createdAt": stamp,
                "lastModifiedBy": "deploy@contoso.com",
                "lastModifiedByType": "User",
                "lastModifiedAt": stamp,
            },
        }
    )
    props = res.setdefault("properties", {})
    props.setdefault("provisioningState", "Succeeded")
    t = res["type"]
    name = res["name"].rsplit("/", 1)[-1]
    if t == "Microsoft.Storage/storageAccounts":
        props.update(
            {
                "creationTime": stamp,
                "primaryLocation": res["location"],
                "statusOfPrimary": "available",
                "keyCreationTime": {"key1": stamp, "key2": stamp},
                "dnsEndpointType": "Standard",
                "isHnsEnabled": rnd.random() < 0.3,
                "largeFileSharesState": "Enabled",
                "isSftpEnabled": False,
                "primaryEndpoints": {
                    k: f"https://{name}.{k}.core.windows.net/" for k in ("blob", "queue", "table", "file", "web", "dfs")
                },
                "privateEndpointConnections": [],
                "defaultToOAuthAuthentication": False,
            }
        )
        for svc in props["encryption"]["services"].values():
            svc.update({"keyType": "Account", "lastEnabledTime": stamp})
        props["encryption"]["requireInfrastructureEncryption"] = False
    elif t == "Microsoft.KeyVault/vaults":
        props.update(
            {
                "vaultUri": f"https://{name}.vault.azure.net/",
                "enabledForDeployment": False,
                "enabledForDiskEncryption": False,
                "enabledForTemplateDeployment": False,
                "softDeleteRetentionInDays": 90,
                "privateEndpointConnections": [],
                "accessPolicies": [
                    {
                        "tenantId": "11111111-1111-1111-1111-111111111111",
                        "objectId": guid,
                        "permissions": {
                            "keys": ["Get", "List", "Create"],
                            "secrets": ["Get", "List", "Set"],
                            "certificates": ["Get", "List"],
                        },
                    }
                    for _ in range(rnd.randint(0, 2))
                ],
            }
        )
    elif t == "Microsoft.Network/networkSecurityGroups":
        props["resourceGuid"] = guid
        for rule in props["securityRules"]:
            rule.update(
                {
                    "id": f"{rid}/securityRules/{rule['name']}",
                    "etag": res["etag"],
                    "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                }
            )
            rule["properties"].update(
                {
                    "provisioningState": "Succeeded",
                    "sourcePortRange": "*",
                    "sourceAddressPrefixes": [],
                    "destinationAddressPrefixes": [],
                    "sourcePortRanges": [],
                    "destinationPortRanges": [],
                }
            )
        props["defaultSecurityRules"] = [
            {
                "name": n,
                "id": f"{rid}/defaultSecurityRules/{n}",
                "etag": res["etag"],
                "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                "properties": {
                    "provisioningState": "Succeeded",
                    "description": n,
                    "protocol": "*",
                    "sourcePortRange": "*",
                    "destinationPortRange": "*",
                    "sourceAddressPrefix": src,
                    "destinationAddressPrefix": dst,
                    "access": acc,
                    "priority": prio,
                    "direction": d,
                    "sourcePortRanges": [],
                    "destinationPortRanges": [],
                    "sourceAddressPrefixes": [],
                    "destinationAddressPrefixes": [],
                },
            }
            for n, prio, d, acc, src, dst in _DEFAULT_NSG_RULES
        ]
    elif t == "Microsoft.Network/virtualNetworks":
        props.update({"resourceGuid": guid, "virtualNetworkPeerings": [], "enableVmProtection": False})
        for sn in props["subnets"]:
            sn.update(
                {
                    "id": f"{rid}/subnets/{sn['name']}",
                    "etag": res["etag"],
                    "type": "Microsoft.Network/virtualNetworks/subnets",
                }
            )
            sn["properties"].update(
                {
                    "provisioningState": "Succeeded",
                    "delegations": [],
                    "privateEndpointNetworkPolicies": "Disabled",
                    "privateLinkServiceNetworkPolicies": "Enabled",
                }
            )
    elif t == "Microsoft.Network/publicIPAddresses":
        props.update(
            {
                "resourceGuid": guid,
                "publicIPAddressVersion": "IPv4",
                "idleTimeoutInMinutes": 4,
                "ipTags": [],
                "ddosSettings": {"protectionMode": "VirtualNetworkInherited"},
                "ipConfiguration": {
                    "id": rid.replace("publicIPAddresses", "networkInterfaces") + "/ipConfigurations/ipconfig1"
                },
            }
        )
    elif t == "Microsoft.Network/networkInterfaces":
        props.update(
            {
                "resourceGuid": guid,
                "macAddress": "00-0D-3A-12-34-56",
                "enableAcceleratedNetworking": False,
                "nicType": "Standard",
                "hostedWorkloads": [],
                "tapConfigurations": [],
                "dnsSettings": {
                    "dnsServers": [],
                    "appliedDnsServers": [],
                    "internalDomainNameSuffix": "abc.ax.internal.cloudapp.net",
                },
                "virtualMachine": {"id": rid.replace("networkInterfaces", "virtualMachines")},
            }
        )
        for ipc in props["ipConfigurations"]:
            ipc["properties"].update(
                {
                    "privateIPAllocationMethod": "Dynamic",
                    "primary": True,
                    "privateIPAddressVersion": "IPv4",
                    "provisioningState": "Succeeded",
                    "subnet": {
                        "id": rid.rsplit("/providers/", 1)[0]
                        + "/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
                    },
                }
            )
    elif t == "Microsoft.Network/privateEndpoints":
        props.update(
            {
                "customDnsConfigs": [
                    {"fqdn": f"{name}.privatelink.blob.core.windows.net", "ipAddresses": ["10.0.1.4"]}
                ],
                "networkInterfaces": [{"id": rid.replace("privateEndpoints", "networkInterfaces") + ".nic"}],
                "manualPrivateLinkServiceConnections": [],
                "ipConfigurations": [],
            }
        )
        for c in props["privateLinkServiceConnections"]:
            c["properties"]["privateLinkServiceConnectionState"] = {
                "status": "Approved",
                "description": "Auto-Approved",
                "actionsRequired": "None",
            }
    elif t == "Microsoft.MachineLearningServices/workspaces":
        props.update(
            {
                "workspaceId": guid,
                "discoveryUrl": f"https://{res['location']}.api.azureml.ms/discovery",
                "applicationInsights": props["storageAccount"].replace(
                    "Microsoft.Storage/storageAccounts", "Microsoft.Insights/components"
                ),
                "mlFlowTrackingUri": f"azureml://{res['location']}.api.azureml.ms/mlflow/v1.0{rid}",
                "notebookInfo": {"fqdn": f"ml-{name}.notebooks.azure.net", "resourceId": guid},
                "privateLinkCount": 0,
                "storageHnsEnabled": False,
                "enableDataIsolation": False,
                "friendlyName": name,
                "description": "",
            }
        )
    elif t == "Microsoft.MachineLearningServices/workspaces/computes":
        props.update(
            {
                "computeLocation": res["location"],
                "createdOn": stamp,
                "modifiedOn": stamp,
                "isAttachedCompute": False,
                "provisioningErrors": None,
            }
        )
        props["properties"].update(
            {
                "vmSize": "STANDARD_DS3_V2",
                "vmPriority": "Dedicated",
                "scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT120S"},
                "remoteLoginPortPublicAccess": "Disabled",
                "osType": "Linux",
            }
        )
    return res


def make_inventory(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    out: list[dict] = []
    i = 0
    while len(out) < n:
        out.extend(realistic(rnd, r) for r in make_resource(rnd, i))
        i += 1
    return out[:n]


def assignment_values(data: dict) -> dict:
    """Values for parameters without a default, as an assignment would supply (first allowed value, else
    a placeholder of the declared type), so no pair fails merely for a missing assignment value."""
    placeholder = {"string": "x", "array": [], "object": {}, "integer": 0, "boolean": False, "float": 0.0}
    values = {}
    for name, spec in (data.get("properties", data).get("parameters") or {}).items():
        if "defaultValue" not in spec:
            allowed = spec.get("allowedValues")
            values[name] = allowed[0] if allowed else placeholder.get(str(spec.get("type", "string")).lower(), "x")
    return values


def builtin_paths(shared: Path) -> list[Path]:
    root = shared / "corpus" / "azure-policy-builtins" / "policyDefinitions"
    return [root / c for c in BUILTIN_CATEGORIES if (root / c).is_dir()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resources", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--keep", type=Path, help="Write the inventory here (and keep it).")
    ap.add_argument("--no-pack", action="store_true", help="Built-ins only.")
    args = ap.parse_args()

    from policygen.arm.aliases import load_catalogue
    from policygen.evaluate import UnsupportedError, compile_policy, evaluate_inventory, load_inventory
    from policygen.evaluate.sources import policies_from_build

    t0 = time.perf_counter()
    inventory = make_inventory(args.resources, args.seed)
    path = args.keep or Path(tempfile.mkstemp(suffix=".json")[1])
    path.write_text(json.dumps(inventory), encoding="utf-8")
    size_mb = path.stat().st_size / 1e6
    print(
        f"inventory: {len(inventory):,} resources, {size_mb:.1f} MB, {size_mb * 1e6 / len(inventory):,.0f} bytes "
        f"per resource ({time.perf_counter() - t0:.1f}s to generate)"
    )
    del inventory
    gc.collect()

    # baseline: merely json.load the inventory (stdlib)
    json_load = json_load_cpu = float("inf")
    for _ in range(3):  # best of three: the box is shared, so take the least disturbed run
        t, c = time.perf_counter(), time.process_time()
        with open(path, encoding="utf-8") as fh:
            baseline = json.load(fh)
        json_load = min(json_load, time.perf_counter() - t)
        json_load_cpu = min(json_load_cpu, time.process_time() - c)
        del baseline
        gc.collect()

    t_start, c_start = time.perf_counter(), time.process_time()
    aliases = args.shared / "corpus" / "aliases" / "policy-aliases.csv"  # as `impact --aliases` would
    catalogue = load_catalogue([aliases] if aliases.is_file() else [])
    policies = []
    if not args.no_pack:
        from policygen.render import compile_pack

        pack_policies, _ = policies_from_build(compile_pack(REPO), {}, catalogue)
        policies.extend(pack_policies)
    n_pack = len(policies)
    paths = builtin_paths(args.shared)
    for folder in paths:
        for f in sorted(folder.rglob("*.json")):
            data = json.loads(f.read_text(encoding="utf-8-sig"))
            try:
                policies.append(
                    (data.get("name", f.stem), compile_policy(data, assignment_values(data), catalogue=catalogue))
                )
            except UnsupportedError as exc:
                print(f"skipped {f.name}: {exc}")
    t_compiled = time.perf_counter()
    resources = load_inventory(path)
    gc.freeze()  # as `policygen impact` does: the inventory is acyclic, keep the cyclic GC off it
    t_loaded = time.perf_counter()
    pairs = flagged = errors = 0
    for row in evaluate_inventory(policies, resources):
        pairs += 1
        flagged += row.flagged
        errors += row.error is not None
    t_end, c_end = time.perf_counter(), time.process_time()

    wall = t_end - t_start
    evaluate = t_end - t_loaded
    print(
        f"policies: {len(policies)} ({n_pack} from the MLOps pack, {len(policies) - n_pack} built-ins from "
        f"{', '.join(p.name for p in paths) or 'none: ../shared absent'})"
    )
    try:
        import orjson  # noqa: F401

        parser = "orjson, cyclic GC paused"
    except ImportError:
        parser = "json, cyclic GC paused"
    print(f"aliases + compile:      {t_compiled - t_start:7.2f} s")
    print(f"load inventory:         {t_loaded - t_compiled:7.2f} s  (policygen loader: {parser})")
    print(
        f"evaluate:               {evaluate:7.2f} s  {pairs:,} applicable pairs, {flagged:,} flagged, "
        f"{errors:,} evaluation failures"
    )
    print(f"impact wall time:       {wall:7.2f} s")
    print(f"pairs / second:         {pairs / evaluate:,.0f} (evaluation only), {pairs / wall:,.0f} (whole run)")
    print(f"json.load (stdlib):     {json_load:7.2f} s")
    print(f"ratio impact/json.load: {wall / json_load:7.2f}  wall clock (target <= 3)")
    cpu = c_end - c_start
    print(f"                        {cpu / json_load_cpu:7.2f}  CPU time ({cpu:.2f} s / {json_load_cpu:.2f} s; "
          "less sensitive to other load on a shared box)")
    if not args.keep:
        path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
