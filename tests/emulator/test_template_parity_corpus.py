"""One expander (issue #18), over the corpus: every deployIfNotExists template of the built-in policies and of
ALZ/AMBA/Enterprise-Scale that `check` places without a symbolic value deploys in the emulator to the same
resource ids with the same bodies (the emulator adds what ARM adds: provisioningState, an identity's
principalId). Templates: ../shared/corpus (Azure/azure-policy built-ins, Azure/Azure-Landing-Zones-Library,
MIT); the parameter values are the corpus test's made-up ones (tests/tasks/test_check_inputs_corpus.py).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from policygen.emulator.app import Emulator
from policygen.emulator.context import EmulatorConfig
from policygen.emulator.core import ArmError
from policygen.emulator.templates import TemplateError, deploy
from policygen.errors import InputError
from policygen.tasks import check_deployment

from ..tasks.test_check_inputs_corpus import _templates, _value

SUB = "11111111-1111-1111-1111-111111111111"
SEED = {"subscriptions": [{"id": SUB, "resourceGroups": [{"name": "rg", "location": "westeurope"}]}]}
NOT_STORED_AS_RESOURCES = ("microsoft.authorization/", "microsoft.resources/resourcegroups")


def _within(want: Any, got: Any) -> bool:
    """`want` is in `got` (objects may hold more: what ARM adds on a PUT)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _within(v, got[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_within, want, got))
    return want == got


@pytest.mark.parametrize("corpus", ["azure-policy-builtins/policyDefinitions", "alz"])
def test_corpus_templates_deploy_where_check_places_them(corpus: str, shared_dir: Path, tmp_path: Path) -> None:
    seen: Counter[str] = Counter()
    for name, template in _templates(shared_dir / "corpus" / corpus):
        sub_level = "subscriptionDeploymentTemplate" in str(template.get("$schema"))
        params = {k: {"value": _value(k, v)} for k, v in (template.get("parameters") or {}).items()
                  if isinstance(v, dict) and "defaultValue" not in v}
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(template), encoding="utf-8")
        scope = f"/subscriptions/{SUB}" + ("" if sub_level else "/resourceGroups/rg")
        try:
            placed = check_deployment.load([path], scope=scope, location="westeurope", parameters=params)
        except InputError:
            continue
        if any(p.unplaced or p.symbolic for p in placed):
            continue
        emu = Emulator(EmulatorConfig(seed=SEED))
        try:
            result = deploy(emu, template, params, subscription_id=SUB, resource_group=None if sub_level else "rg",
                            location="westeurope", name="d")
        except (TemplateError, ArmError):
            # a nested deployment into a resource group the seed lacks: ARM refuses it too
            seen["refused"] += 1
            emu.close()
            continue
        assert sorted(r.lower() for r in result.resources) == sorted(p.id.lower() for p in placed), name
        for p in placed:
            if p.resource["type"].lower().startswith(NOT_STORED_AS_RESOURCES):
                continue
            got = emu.store.get("resources", p.id) or {}
            for key in ("properties", "location", "tags", "kind", "sku", "identity"):
                assert key not in p.resource or _within(p.resource[key], got.get(key)), (name, p.id, key)
        emu.close()
        seen["same"] += 1
    # 2026-12: 824 built-in and 281 landing-zone templates deploy alike; 24 and 1 are refused (a nested
    # deployment into a resource group other than the seed's)
    assert seen["same"] > 150 and seen["refused"] < 0.1 * seen["same"], seen
