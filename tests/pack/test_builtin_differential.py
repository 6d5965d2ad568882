"""The MLOps pack agrees with Microsoft's own built-ins, or says why not (issue #19).

Each pack definition is paired with its closest built-in (`pack-differences.yaml` at the repository
root); both are evaluated on generated boundary resources (tests/pack/differential.py) and every
disagreement must be listed there as deliberate, with its reason. Built-ins come from
../shared/corpus (Azure/azure-policy `built-in-policies/`, MIT; the Azure Landing Zones library where no
built-in exists): https://github.com/Azure/azure-policy/tree/master/built-in-policies/policyDefinitions
The human-readable list is docs/mlops-network-security.md, "How this differs from the built-in".
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from policygen.arm.aliases import shipped_catalogue
from policygen.artefacts import Build, TestCase
from policygen.evaluate import compile_policy
from policygen.render import compile_pack
from tests.pack.differential import MISSING, Probe, dimensions, probes, rule_fields, verdict

REPO = Path(__file__).resolve().parents[2]
DIFFERENCES = REPO / "pack-differences.yaml"

# Pack definitions no built-in (or Landing Zones definition) enforces; the reasons are in the YAML.
NO_COUNTERPART = {
    "mlc-no-public-ip",
    "mlops-public-network-mloe",
    "mlops-service-endpoint-policy-snet",
    "mlops-service-endpoint-policy-vnet",
    "mlw-image-build-compute",
    "mlw-storage-pe-blob",
    "mlw-storage-pe-file",
}


@dataclass
class Disagreement:
    pack: str
    builtin: str
    flagged_by: str  # 'pack', 'builtin', 'pack: error' / 'builtin: error', 'both, remediated differently'
    probe: Probe

    def line(self) -> str:
        how = self.flagged_by if self.flagged_by.startswith("both") else f"flagged only by {self.flagged_by}"
        return f"{self.pack} vs {self.builtin}: {how} at {self.probe.describe()}"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(DIFFERENCES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def build() -> Build:
    return compile_pack(REPO)


# --------------------------------------------------------------------------- the list itself (no ../shared needed)


def test_every_definition_has_a_counterpart_or_a_reason(spec: dict[str, Any], build: Build) -> None:
    paired, unpaired = set(spec["counterparts"]), set(spec["noCounterpart"])
    assert unpaired == NO_COUNTERPART
    assert not paired & unpaired
    assert paired | unpaired == set(build.definitions), "pair each new pack definition or say why it has no counterpart"
    assert all(str(reason).strip() for reason in spec["noCounterpart"].values())


def test_every_deliberate_difference_names_a_pair_and_a_reason(spec: dict[str, Any]) -> None:
    pairs = {(pack, c["id"]) for pack, cs in spec["counterparts"].items() for c in cs}
    for entry in spec["deliberate"]:
        assert (entry["pack"], entry["builtin"]) in pairs, entry
        assert entry["flaggedBy"] in ("pack", "builtin"), entry
        assert len(str(entry["reason"]).split()) >= 8, f"say why: {entry}"
        assert isinstance(entry.get("when", {}), dict), entry


def test_docs_say_how_each_definition_differs(build: Build) -> None:
    text = (REPO / "docs" / "mlops-network-security.md").read_text(encoding="utf-8")
    section = text.split("## How this differs from the built-in", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in build.definitions if f"`{name}`" not in section]
    assert not missing, f"docs/mlops-network-security.md, 'How this differs from the built-in', lacks {missing}"


# --------------------------------------------------------------------------- the comparison


def _base_case(build: Build, name: str, wanted: str | None) -> TestCase:
    cases = [t for t in build.tests if t.definition == name]
    if wanted:
        return next(t for t in cases if t.name == wanted)
    return next(t for t in cases if t.expect.compliant is True and t.expect.matched is not False)


def _builtin_values(builtin: dict, pack_values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Same-named pack parameters carry over (effect excepted); otherwise the built-in's default."""
    values: dict[str, Any] = {}
    for name, decl in (builtin["properties"].get("parameters") or {}).items():
        if name in overrides:
            values[name] = overrides[name]
        elif name.lower() == "effect":
            allowed = [e for e in decl.get("allowedValues", []) if e.lower() != "disabled"]
            default = decl.get("defaultValue", "")
            values[name] = default if str(default).lower() != "disabled" else allowed[0]
        elif name in pack_values:
            values[name] = pack_values[name]
        elif "defaultValue" not in decl:
            values[name] = {"array": [], "object": {}}.get(decl.get("type", "").lower(), "x")
    return values


def _pack_values(art: Any, case: TestCase) -> dict[str, Any]:
    declared = art.properties.get("parameters") or {}
    values = {k: d["defaultValue"] for k, d in declared.items() if "defaultValue" in d}
    return {**values, **case.parameters}


def _matches(entry: dict[str, Any], d: Disagreement) -> bool:
    if (entry["pack"], entry["builtin"], entry["flaggedBy"]) != (d.pack, d.builtin, d.flagged_by):
        return False
    for key, allowed in (entry.get("when") or {}).items():
        allowed = allowed if isinstance(allowed, list) else [allowed]
        got = d.probe.settings.get(key, MISSING)
        if not any(got == a and type(got) is type(a) or got == a == MISSING for a in allowed):
            return False
    return True


@pytest.fixture(scope="module")
def comparison(shared_dir: Path, spec: dict[str, Any], build: Build) -> dict[str, Any]:
    corpus = shared_dir / "corpus"
    catalogue = shipped_catalogue()
    disagreements: list[Disagreement] = []
    probe_count, pairs = 0, 0
    for name, counterparts in spec["counterparts"].items():
        art = build.definitions[name]
        for cp in counterparts:
            builtin = json.loads((corpus / cp["file"]).read_text(encoding="utf-8-sig"))
            assert builtin["name"] == cp["id"], cp["file"]
            case = _base_case(build, name, cp.get("base"))
            pack_values = _pack_values(art, case)
            builtin_values = _builtin_values(builtin, pack_values, cp.get("parameters") or {})
            pack_policy = compile_policy(art.body, case.parameters)
            builtin_policy = compile_policy(builtin, builtin_values)
            fields, api = rule_fields(art.body, pack_values)
            more, more_api = rule_fields(builtin, builtin_values)
            for key, lits in more.items():
                fields.setdefault(key, []).extend(lits)
            dims = dimensions(fields, api + more_api, case.resource, case.related, catalogue, cp.get("values") or {})
            pairs += 1
            for probe in probes(dims, case.resource, case.related):
                probe_count += 1
                (ours, our_fix), (theirs, their_fix) = verdict(pack_policy, probe), verdict(builtin_policy, probe)
                if ours == theirs and our_fix == their_fix:
                    continue
                if ours == theirs:
                    side = "both, remediated differently"
                elif "error" in (ours, theirs):
                    side = f"{'pack' if ours == 'error' else 'builtin'}: error"
                else:
                    side = "pack" if ours == "flagged" else "builtin"
                disagreements.append(Disagreement(name, cp["id"], side, probe))
    return {"disagreements": disagreements, "probes": probe_count, "pairs": pairs}


def test_pack_agrees_with_builtins_except_deliberate_differences(comparison: dict[str, Any], spec) -> None:
    found: list[Disagreement] = comparison["disagreements"]
    undocumented = [d for d in found if not any(_matches(e, d) for e in spec["deliberate"])]
    print(
        f"\n{comparison['pairs']} pairs, {comparison['probes']} probes, {len(found)} disagreements "
        f"({len(found) - len(undocumented)} listed as deliberate); "
        f"no built-in counterpart: {', '.join(sorted(NO_COUNTERPART))}"
    )
    by_pair = Counter(f"{d.pack} vs {d.builtin} (flagged by {d.flagged_by})" for d in undocumented)
    shown = "\n".join(d.line() for d in undocumented[:40])
    assert not undocumented, (
        f"{len(undocumented)} disagreement(s) not listed in pack-differences.yaml ({dict(by_pair)}):\n{shown}"
    )
    assert comparison["pairs"] == sum(len(c) for c in spec["counterparts"].values())


def test_every_deliberate_difference_still_occurs(comparison: dict[str, Any], spec: dict[str, Any]) -> None:
    stale = [e for e in spec["deliberate"] if not any(_matches(e, d) for d in comparison["disagreements"])]
    assert not stale, f"these no longer differ from the built-in; remove them: {stale}"
