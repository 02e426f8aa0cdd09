"""write_json_atomic / read_json."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lavinmq.storage import read_json, write_json_atomic


def test_round_trip_and_indent(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    data = {"users": [{"name": "guest", "tags": ["administrator"]}], "n": 1}
    write_json_atomic(path, data)
    assert read_json(path, None) == data
    assert path.read_text().startswith('{\n  "users"')
    write_json_atomic(path, [1, 2])
    assert read_json(path, None) == [1, 2]
    assert os.listdir(tmp_path) == ["users.json"]  # no temp file left


def test_missing_file_returns_default(tmp_path: Path) -> None:
    default: dict[str, int] = {}
    assert read_json(tmp_path / "nope.json", default) is default


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "vhosts.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"vhosts\.json"):
        read_json(path, None)


def test_failed_write_leaves_old_content(tmp_path: Path) -> None:
    path = tmp_path / "policies.json"
    write_json_atomic(path, {"old": True})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"bad": object()})
    assert read_json(path, None) == {"old": True}
    assert os.listdir(tmp_path) == ["policies.json"]
