"""engine/atomic.py: a write lands whole or not at all."""
from __future__ import annotations

import os
import stat

import pytest

from engine.atomic import atomic_write


def test_a_finished_write_replaces_the_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with atomic_write(path) as f:
        f.write(b"new contents")
    assert path.read_bytes() == b"new contents"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_a_failure_midway_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="midway"):
        with atomic_write(path) as f:
            f.write(b"half of the new")
            raise RuntimeError("midway")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_nothing_is_visible_at_the_path_until_the_end(tmp_path):
    path = tmp_path / "f.bin"
    with atomic_write(path) as f:
        f.write(b"data")
        assert not path.exists()
    assert path.exists()


def test_the_file_gets_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "f.bin") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == 0o644


def test_a_missing_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        with atomic_write(tmp_path / "nowhere" / "f.bin") as f:
            f.write(b"x")
