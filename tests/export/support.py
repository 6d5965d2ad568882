"""Shared data and helpers of the export tests: a small fixture pack, golden files, schemas."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
SCHEMAS = ("reference", "schemas")

FIXTURE_PACK = {
    "policygen.yaml": """
        name: fixture-pack
        ownerId: 11111111-2222-3333-4444-555555555555
        version: 2.0.0
        definitionScope: /providers/Microsoft.Management/managementGroups/contoso
        defaultCategory: Storage
        environments:
          local:
            cloud: local
            scopes:
              prod: /providers/Microsoft.Management/managementGroups/local-prod
              sub: /subscriptions/00000000-0000-0000-0000-00000000000a
              rg: /subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/rg-local
          azure:
            cloud: AzureCloud
            tenantId: 22222222-2222-2222-2222-222222222222
            definitionScope: /providers/Microsoft.Management/managementGroups/contoso
            scopes:
              prod: /providers/Microsoft.Management/managementGroups/contoso-prod
              sub: /subscriptions/33333333-3333-3333-3333-333333333333
              rg: /subscriptions/33333333-3333-3333-3333-333333333333/resourceGroups/rg-apps
            identityLocation: northeurope
          azure-dev:
            cloud: AzureCloud
            tenantId: 22222222-2222-2222-2222-222222222222
            definitionScope: /providers/Microsoft.Management/managementGroups/contoso-dev
            scopes:
              prod: /providers/Microsoft.Management/managementGroups/contoso-dev-prod
              sub: /subscriptions/44444444-4444-4444-4444-444444444444
              rg: /subscriptions/44444444-4444-4444-4444-444444444444/resourceGroups/rg-apps-dev
            identityLocation: westeurope
    """,
    "definitions/st-public-network.yaml": """
        intent: disable-public-network-access
        resourceTypes: [Microsoft.Storage/storageAccounts]
        displayName: Storage accounts should disable public network access
        description: "Reachable only through private endpoints | no public access."
        effect: {default: Audit, allowed: [Audit, Deny, Disabled]}
    """,
    "definitions/st-public-network-modify.yaml": """
        intent: disable-public-network-access
        resourceTypes: [Microsoft.Storage/storageAccounts]
        displayName: Configure storage accounts to disable public network access
        version: 1.2.0
        effect: {default: Modify, allowed: [Modify, Disabled]}
    """,
    "definitions/tag-check.yaml": """
        intent: custom
        displayName: "Resources should carry the ${env} tag (literal, not a template)"
        description: "Quotes \\" backslash \\\\ percent %{x} and a bracket string [not an expression"
        version: 2.1.0
        settings:
          mode: All
          if:
            allOf:
              - {field: "tags['cost-center']", exists: false}
              - {value: "[[literal in brackets]", equals: "${not-a-var}"}
              - {field: type, notEquals: "%{directive}"}
    """,
    "initiatives/guardrails.yaml": """
        name: guardrails
        displayName: Storage guardrails
        description: Public network access and tagging.
        version: 1.0.0
        groups:
          - {name: network, displayName: Network, category: Storage, description: "No public endpoints."}
          - {name: hygiene, displayName: Hygiene}
        members:
          - {definition: st-public-network, groups: [network]}
          - {definition: st-public-network-modify, groups: [network]}
          - {definition: tag-check, groups: [hygiene]}
          - {builtin: 06a78e20-9358-41c9-923c-fb736d382a4d, referenceId: audit-vm-managed-disks, groups: [hygiene]}
    """,
    "assignments/guardrails-prod.yaml": """
        name: guardrails-prod
        displayName: Storage guardrails (production)
        initiative: guardrails
        scope: prod
        identity: {type: SystemAssigned}
        parameters:
          effect-st-public-network: Deny
        nonComplianceMessages:
          - message: Storage must be private.
          - {message: Tag it., policyDefinitionReferenceId: tag-check}
        remediation: {enabled: true, failureThreshold: 0.1, parallelDeployments: 5, locations: [northeurope]}
    """,
    "assignments/tag-sub.yaml": """
        name: tag-sub
        displayName: Tagging (subscription)
        definition: tag-check
        scope: sub
        enforcementMode: DoNotEnforce
    """,
    "assignments/st-rg.yaml": """
        name: st-rg-modify
        displayName: Storage remediation (resource group)
        definition: st-public-network-modify
        scope: rg
        remediation: {enabled: true, resourceDiscoveryMode: ReEvaluateCompliance}
    """,
}


def read_jsonc(text: str) -> object:
    """JSONC as EPAC reads it: `//` line comments allowed outside strings (we only emit them on their own line)."""
    return json.loads("\n".join(line for line in text.splitlines() if not re.match(r"^\s*//", line)))


def check_golden(name: str, files: dict[str, str]) -> None:
    """Compare rendered files with tests/export/golden/<name>/; regenerate with POLICYGEN_UPDATE_GOLDEN=1."""
    root = GOLDEN / name
    if os.environ.get("POLICYGEN_UPDATE_GOLDEN") == "1":
        shutil.rmtree(root, ignore_errors=True)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        return
    on_disk = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file()}
    assert sorted(on_disk) == sorted(files), "file set changed; regenerate with POLICYGEN_UPDATE_GOLDEN=1"
    for rel, text in files.items():
        assert text == on_disk[rel], f"{name}/{rel} differs from the golden file; regenerate with POLICYGEN_UPDATE_GOLDEN=1"


def load_schema(shared_dir: Path, project: str, name: str) -> dict:
    """A published schema from ../shared. EPAC's assignment schema uses the pattern `^*$` for "any
    pacSelector", which is not a valid regular expression in Python (nor in ECMAScript); it is read as `.*`."""
    text = (shared_dir.joinpath(*SCHEMAS) / project / name).read_text(encoding="utf-8")
    return json.loads(text.replace('"^*$"', '".*"'))


def schema_errors(schema: dict, instance: object) -> list[str]:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in cls(schema).iter_errors(instance)]


def rendered(pack: Path, fmt: str, env: str | None = None) -> dict[str, str]:
    """Compile the pack once, as `policygen export` does, and render `fmt`."""
    from policygen.export import compile_for_export, render_format

    return render_format(compile_for_export(pack, env), fmt, env=env)


def exported(pack: Path, fmt: str, out: Path, env: str | None = None, force: bool = False):  # noqa: ANN201
    """`policygen export` without the CLI: compile once, render, synchronise `out`."""
    from policygen.export import compile_for_export, export_pack

    return export_pack(compile_for_export(pack, env), fmt, out, env=env, force=force)


def docs(pack: Path, env: str | None = None) -> dict[str, str]:
    """`policygen docs` without the CLI."""
    from policygen.export import compile_for_export
    from policygen.export.docs import render_docs

    return render_docs(compile_for_export(pack, env))
