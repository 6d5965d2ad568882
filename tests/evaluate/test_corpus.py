"""The built-in corpus as a smoke test: every non-static built-in definition compiles (target ≥ 99 %),
and evaluating it never crashes (evaluation failures are allowed: they are Azure's implicit deny)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from policygen.evaluate import UnsupportedError, compile_policy

pytestmark = pytest.mark.corpus

PLACEHOLDER = {"string": "x", "array": [], "object": {}, "integer": 0, "boolean": False, "float": 0.0}


def definitions(root: Path) -> Iterator[tuple[Path, dict]]:
    for path in sorted(root.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        props = data.get("properties", data)
        if "policyRule" in props and props.get("policyType") != "Static":
            yield path, data


def assignment_values(data: dict) -> dict:
    """Values for parameters without a default (an assignment would have to supply them)."""
    values = {}
    for name, spec in (data.get("properties", data).get("parameters") or {}).items():
        if "defaultValue" not in spec:
            allowed = spec.get("allowedValues")
            values[name] = allowed[0] if allowed else PLACEHOLDER.get(str(spec.get("type", "string")).lower(), "x")
    return values


def compile_all(root: Path) -> tuple[int, list[str], list]:
    total, failures, compiled = 0, [], []
    for path, data in definitions(root):
        total += 1
        try:
            compiled.append(compile_policy(data, assignment_values(data)))
        except UnsupportedError as exc:
            failures.append(f"{path.relative_to(root)}: {exc}")
    return total, failures, compiled


def test_builtins_compile(shared_dir) -> None:
    root = shared_dir / "corpus" / "azure-policy-builtins" / "policyDefinitions"
    total, failures, _ = compile_all(root)
    rate = 100.0 * (total - len(failures)) / total
    print(f"\nbuilt-in corpus: {total - len(failures)}/{total} non-static definitions compile ({rate:.2f} %)")
    for f in failures:
        print("  unsupported:", f)
    assert total > 3000
    assert rate >= 99.0, failures[:20]


def test_alz_library_compiles(shared_dir) -> None:
    root = shared_dir / "corpus" / "alz" / "Azure-Landing-Zones-Library"
    total, failures, _ = compile_all(root)
    assert total > 250 and failures == []


def test_enterprise_scale_compiles_after_arm_unescaping(shared_dir) -> None:
    from policygen.evaluate.sources import arm_unescaped

    root = shared_dir / "corpus" / "alz" / "Enterprise-Scale" / "src" / "resources" / "Microsoft.Authorization"
    failures, total = [], 0
    for path, data in definitions(root / "policyDefinitions"):
        total += 1
        data = arm_unescaped(data)
        try:
            compile_policy(data, assignment_values(data))
        except UnsupportedError as exc:
            failures.append(f"{path.name}: {exc}")
    assert total > 150 and failures == []


def test_builtins_evaluate_without_crashing(shared_dir) -> None:
    root = shared_dir / "corpus" / "azure-policy-builtins" / "policyDefinitions"
    _, _, compiled = compile_all(root)
    crashes = []
    for pol in compiled:
        for rtype in sorted(pol.resource_types or {"Microsoft.Compute/virtualMachines"})[:2]:
            res = {
                "id": f"/subscriptions/s/resourceGroups/rg/providers/{rtype}/r1",
                "type": rtype,
                "name": "r1",
                "location": "East US",
                "kind": "k",
                "tags": {"a": "b"},
                "identity": {"type": "SystemAssigned"},
                "properties": {
                    "publicNetworkAccess": "Enabled",
                    "networkAcls": {"defaultAction": "Allow", "ipRules": [{"value": "1.2.3.4"}]},
                    "securityRules": [{"properties": {}}],
                },
            }
            try:
                pol.evaluate(res, related=[res])
            except Exception as exc:  # noqa: BLE001 - any Python exception is an engine bug
                crashes.append(f"{pol.name}: {type(exc).__name__}: {exc}")
    assert crashes == []
