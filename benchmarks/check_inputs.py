"""`policygen check` of large deployments of each input form, end to end as a subprocess.

    python benchmarks/check_inputs.py [--resources 2000] [--repeat 1]

Writes a one-assignment pack (storage accounts of one subscription get publicNetworkAccess Disabled by
modify) and, with N storage accounts each: an azapi Terraform plan (`terraform show -json` shape), what-if
output (`az deployment group what-if --no-pretty-print` shape), and an ARM template whose nested deployments
carry copy loops of at most 800 (ARM's limit) with a property copy. Every run must exit 0 with N modified.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from impact_cli import policygen_cmd  # noqa: E402
from measure import best  # noqa: E402

SUB = "11111111-1111-1111-1111-111111111111"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-apps"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
PACK = {
    "policygen.yaml": f"""name: check-bench
ownerId: policygen-check-bench
definitionScope: /providers/Microsoft.Management/managementGroups/corp
environments:
  local:
    tenantId: 00000000-0000-0000-0000-000000000000
    definitionScope: /providers/Microsoft.Management/managementGroups/corp
    scopes:
      apps: /subscriptions/{SUB}
""",
    "definitions/st-public-modify.yaml": """intent: disable-public-network-access
resourceTypes: [Microsoft.Storage/storageAccounts]
displayName: Configure storage accounts to disable public network access
description: Sets publicNetworkAccess to Disabled.
effect: {default: Modify, allowed: [Modify, Disabled]}
""",
    "assignments/apps-storage.yaml": """name: apps-storage
displayName: Storage accounts private by default
description: Turns off public network access on storage accounts of the apps subscription.
definition: st-public-modify
scope: apps
identity: {type: SystemAssigned}
""",
}


def _body(i: int) -> dict:
    return {"kind": "StorageV2", "sku": {"name": "Standard_LRS"},
            "properties": {"publicNetworkAccess": "Enabled", "minimumTlsVersion": "TLS1_2",
                           "networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": f"10.0.{i % 250}.0/24"}]}}}


def plan(n: int) -> dict:
    changes = [{"address": f"azapi_resource.st[{i}]", "mode": "managed", "type": "azapi_resource", "name": "st",
                "index": i, "provider_name": "registry.terraform.io/azure/azapi",
                "change": {"actions": ["create"], "before": None,
                           "after": {"type": "Microsoft.Storage/storageAccounts@2023-05-01", "name": f"st{i}",
                                     "parent_id": RG, "location": "westeurope", "body": _body(i),
                                     "tags": {"team": "apps"}, "identity": []},
                           "after_unknown": {"id": True, "output": True}}} for i in range(n)]
    return {"format_version": "1.2", "terraform_version": "1.9.5", "resource_changes": changes}


def whatif(n: int) -> dict:
    changes = []
    for i in range(n):
        rid = f"{RG}/providers/Microsoft.Storage/storageAccounts/st{i}"
        changes.append({"resourceId": rid, "changeType": "Create", "after": {
            "apiVersion": "2023-05-01", "id": rid, "type": "Microsoft.Storage/storageAccounts", "name": f"st{i}",
            "location": "westeurope", **_body(i)}})
    return {"changes": changes, "error": None, "status": "Succeeded"}


def template(n: int) -> dict:
    nested = []
    for start in range(0, n, 800):
        count = min(800, n - start)
        account = {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
                   "name": f"[concat('st', copyIndex({start}))]", "location": "[resourceGroup().location]",
                   "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "copy": {"name": "accounts", "count": count},
                   "properties": {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Deny", "copy": [
                       {"name": "ipRules", "count": 2, "input": {"value": "[concat('10.0.', copyIndex('ipRules'), "
                                                                  "'.0/24')]"}}]}}}
        nested.append({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01",
                       "name": f"batch{start // 800}", "properties": {"mode": "Incremental", "template": {
                           "$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [account]}}})
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": nested}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resources", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="check-bench-") as tmp:
        root = Path(tmp)
        for rel, text in PACK.items():
            (root / "pack" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "pack" / rel).write_text(text)
        status = 0
        for form, data in (("azapi plan", plan(args.resources)), ("what-if", whatif(args.resources)),
                           ("template", template(args.resources))):
            path = root / f"{form.replace(' ', '-')}.json"
            path.write_text(json.dumps(data, indent=2))
            out = root / f"{path.stem}.out.json"
            cmd = [*policygen_cmd(), "check", str(path), "--pack", str(root / "pack"), "--env", "local",
                   "--scope", RG, "--format", "json"]
            result = best(cmd, args.repeat, out)
            report = json.loads(out.read_text()) if out.stat().st_size else {}
            modified = (report.get("summary") or {}).get("modified")
            size = path.stat().st_size / 2**20
            print(result.row(f"{form} ({size:.1f} MB)") + f"  exit {result.returncode}, {modified} modified")
            status |= int(result.returncode != 0 or modified != args.resources)
        return status


if __name__ == "__main__":
    sys.exit(main())
