"""`policygen import` round trips (issue #15): Azure (the emulator over HTTP, real SDK clients), EPAC, ALZ.

EPAC file formats: https://azure.github.io/enterprise-azure-policy-as-code/ (definitions, sets, assignment
node trees); ALZ library assets: https://github.com/Azure/Azure-Landing-Zones-Library (suffix-named files).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from policygen.adopt.alz import is_escaped as escaped
from policygen.adopt.files import unescape
from policygen.adopt.pack import differences
from policygen.export import export_pack
from policygen.render import compile_pack
from policygen.tasks.adopt import from_files, write
from tests.azure.deploy_support import REPO, cli, emulator


def test_import_from_the_emulator_then_plan_shows_no_changes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with emulator(monkeypatch):
        assert cli(["apply", str(REPO), "--env", "local", "--yes"]).exit_code == 0
        out = tmp_path / "imported"
        result = cli(["import", str(REPO), "--env", "local", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "33 definitions (33 lifted to kinds = 100%, 0 custom)" in result.output
        assert "39 of 39 objects build exactly" in result.output  # with the pack's exemption
        plan = cli(["plan", str(out), "--env", "local", "--detailed-exitcode"])
        assert plan.exit_code == 0, plan.output
        assert "No changes" in plan.output


def test_epac_export_then_import_builds_the_same_rest_json(tmp_path: Path) -> None:
    original = compile_pack(REPO, env="azure")
    export_pack(original, "epac", tmp_path / "Definitions")
    report = from_files("epac", tmp_path / "Definitions", "azure", name="mlops-network-security")
    write(report, tmp_path / "pack")
    again = compile_pack(tmp_path / "pack", env="azure")
    for group in ("definitions", "initiatives", "assignments"):
        before, after = getattr(original, group), getattr(again, group)
        assert set(before) == set(after)
        for name in before:
            assert before[name].body == after[name].body, name
    assert sum(report.lifted.values()) == 33 and report.custom == 0  # defender-storage too: extensions (objects)


def test_epac_errors_are_positioned_and_all_reported(tmp_path: Path) -> None:
    root = tmp_path / "Definitions"
    (root / "policySetDefinitions").mkdir(parents=True)
    (root / "policyDefinitions").mkdir()
    (root / "global-settings.jsonc").write_text('{"pacOwnerId": "x", // owner\n "pacEnvironments": '
                                                '[{"pacSelector": "t", "deploymentRootScope": "/providers/'
                                                'Microsoft.Management/managementGroups/c"}]}\n', encoding="utf-8")
    (root / "policyDefinitions" / "bad.json").write_text('{"name": "a",\n  "properties": {,}}\n', encoding="utf-8")
    (root / "policySetDefinitions" / "set.json").write_text(json.dumps({"name": "s", "properties": {
        "displayName": "S", "policyDefinitions": [{"policyDefinitionReferenceId": "r",
                                                   "policyDefinitionName": "missing-def"}]}}, indent=1),
        encoding="utf-8")
    result = cli(["import", "--from", "epac", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "bad.json:2:18: invalid JSON" in result.output
    assert "set.json:" in result.output and "'missing-def' is not defined" in result.output


# Every definition and initiative of each library, per cloud for Enterprise-Scale (its `<name>.<cloud>.json`
# variants replace the asset of that name in that cloud's import), equal to its source after undoing ARM
# escaping, ignoring key order, naming local ids by name, leaving out policygen's owner stamps and letting a
# source without `properties.version` have the one Azure gives it: (library, cloud, equal, definitions).
ALZ = "Azure-Landing-Zones-Library/platform/"
ES = "Enterprise-Scale/src/resources/Microsoft.Authorization"
ALZ_ROUND_TRIPS = [
    (ALZ + "alz", None, 191, 149),
    (ALZ + "amba", None, 159, 143),
    (ES, "AzureCloud", 191, 149),
    (ES, "AzureChinaCloud", 203, 158),
    (ES, "AzureUSGovernment", 195, 150),
]
CLOUD_SUFFIX = re.compile(r"\.(AzureChinaCloud|AzureUSGovernment|AzureCloud)\.json$")


def _cloud_files(source: Path, cloud: str | None) -> list[Path]:
    """The files one cloud deploys: every unsuffixed file, that cloud's `<name>.<cloud>.json` replacing it."""
    files: dict[str, Path] = {}
    for path in sorted(source.rglob("*.json")):
        m = CLOUD_SUFFIX.search(path.name)
        if m is None:
            files.setdefault(str(path), path)
        elif m.group(1) == cloud:
            files[str(path)[: -len(m.group(0))] + ".json"] = path
    return sorted(files.values())


def _normal(body: dict, scope: str) -> dict:
    """The properties, exactly (== ignores key order), but for local ids compared by name (the library's
    placeholder management group vs the pack's definition scope) and policygen's own stamps (the owner marker
    and provenance it writes on everything it owns)."""
    text = json.dumps(body["properties"])
    for prefix in (scope, "/providers/Microsoft.Management/managementGroups/placeholder"):
        text = text.replace(prefix + "/providers/", "/providers/Microsoft.Management/managementGroups/LOCAL/providers/")
    props = json.loads(text)
    props["metadata"] = {k: v for k, v in props["metadata"].items() if k not in ("pacOwnerId", "policygen")}
    return props


def _as_azure_versions(source: dict, mine: dict) -> dict:
    """A source without `properties.version` gets the one Azure gives it (metadata.version when that is
    Major.Minor.Patch, else 1.0.0; the emulator's `_default_version`): policygen always writes it."""
    if "version" in source["properties"]:
        return mine
    meta = str((source["properties"].get("metadata") or {}).get("version") or "")
    expected = meta if re.fullmatch(r"\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?", meta) else "1.0.0"
    props = dict(mine["properties"])
    assert props.pop("version", expected) == expected, (mine["name"], expected)
    return {**mine, "properties": props}


@pytest.mark.parametrize(("library", "cloud", "equal", "definitions"), ALZ_ROUND_TRIPS)
def test_alz_import_build_export_equals_the_source(shared_dir: Path, tmp_path: Path, library: str,
                                                   cloud: str | None, equal: int, definitions: int) -> None:
    source = shared_dir / "corpus" / "alz" / library
    if not source.is_dir():
        pytest.skip(f"{source} not present")
    report = from_files("alz", source, None, name="alzlib", **({"cloud": cloud} if cloud else {}))
    write(report, tmp_path / "pack")
    build = compile_pack(tmp_path / "pack")
    export_pack(build, "alz", tmp_path / "lib")
    exported = {}
    for path in (tmp_path / "lib").rglob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "properties" in doc:
            exported[(doc["type"].lower(), doc["name"])] = doc
    same, differ = 0, []
    scope = build.pack.definition_scope
    seen = set()
    for path in _cloud_files(source, cloud):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or "properties" not in doc:
            continue
        assert (doc["type"].lower(), doc["name"]) not in seen, f"{path}: one cloud, one asset per name"
        seen.add((doc["type"].lower(), doc["name"]))
        doc = unescape(doc) if escaped(doc) else doc  # Enterprise-Scale: ARM-template escaped, one level
        mine = exported.get((doc["type"].lower(), doc["name"]))
        if mine is not None and _normal(_as_azure_versions(doc, mine), scope) == _normal(doc, scope):
            same += 1
        else:
            differ.append(str(path))
    lifted = sum(report.lifted.values())
    print(f"{library} ({cloud or 'AzureCloud'}): {same}/{len(seen)} equal to the source; "
          f"{lifted} of {report.definitions} definitions lifted to kinds ({report.custom} custom)")
    assert differ == [], differ
    assert (same, len(seen), report.definitions) == (equal, equal, definitions)


def test_differences_ignore_only_what_was_left_to_the_engine() -> None:
    src = {"name": "d", "properties": {"displayName": "D", "metadata": {"a": 1, "pacOwnerId": "x"}}}
    built = {"name": "d", "properties": {"displayName": "D", "metadata": {"a": 1, "pacOwnerId": "y"}}}
    assert differences("definition", src, built, {"pacOwnerId"}) == []
    assert [d.path for d in differences("definition", src, built, set())] == ["properties.metadata.pacOwnerId"]
