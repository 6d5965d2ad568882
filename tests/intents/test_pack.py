"""The one pack finder: a pack is the folder holding `policygen.yaml`, found from any path inside it."""

from __future__ import annotations

from pathlib import Path

from policygen.intents.pack import SETTINGS_FILE, find_pack, is_pack


def _pack(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    (root / "definitions" / "nested").mkdir(parents=True)
    (root / SETTINGS_FILE).write_text("name: demo\n", encoding="utf-8")
    (root / "definitions" / "nested" / "x.yaml").write_text("intent: custom\n", encoding="utf-8")
    return root


def test__pack__found_upward_from_a_folder_or_a_file_inside_it(tmp_path: Path) -> None:
    root = _pack(tmp_path)
    assert find_pack(root) == root
    assert find_pack(root / "definitions" / "nested") == root
    assert find_pack(root / "definitions" / "nested" / "x.yaml") == root


def test__pack__none_outside_any_pack(tmp_path: Path) -> None:
    _pack(tmp_path)
    (tmp_path / "other").mkdir()
    # whatever lies above the temporary folder (None normally), a sibling of the pack is not in it
    assert find_pack(tmp_path / "other") == find_pack(tmp_path) != tmp_path / "pack"
    assert not is_pack(tmp_path / "other") and not is_pack(tmp_path / "pack" / SETTINGS_FILE)


def test__pack__the_nearest_pack_wins(tmp_path: Path) -> None:
    outer = _pack(tmp_path)
    inner = outer / "definitions" / "nested"
    (inner / SETTINGS_FILE).write_text("name: inner\n", encoding="utf-8")
    assert find_pack(inner / "x.yaml") == inner and is_pack(inner) and is_pack(outer)
