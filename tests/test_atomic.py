"""engine/atomic.py: a write lands whole or not at all."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import atomic
from engine.atomic import atomic_write, check_writable, write_bytes


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


@pytest.mark.parametrize("obstacle, error", [
    ("a missing folder", FileNotFoundError),  # creating the temporary file fails
    ("a folder in the way", IsADirectoryError),  # the rename fails
])
def test_errors_name_the_target_not_the_temporary_file(tmp_path, obstacle, error):
    target = tmp_path / "nowhere" / "f.bin"
    if obstacle == "a folder in the way":
        target.mkdir(parents=True)
        (target / "inside").write_bytes(b"")
    with pytest.raises(error) as e:
        with atomic_write(target) as f:
            f.write(b"x")
    assert e.value.filename == str(target) and ".tmp" not in str(e.value)
    assert not list(tmp_path.rglob("*.tmp"))


# --- leftovers of writers that died


def leftover(folder, target: str, age: float, name: str = "0123abcd") -> Path:
    """A temporary file as a killed writer of `target` leaves it, last written `age` s ago."""
    path = folder / f".{target}.{name}.tmp"
    path.write_bytes(b"half a checkpoint")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_the_next_write_removes_old_unlocked_leftovers_of_the_same_target(tmp_path):
    old = leftover(tmp_path, "f.bin", age=atomic.STALE_AFTER + 5)
    fresh = leftover(tmp_path, "f.bin", age=0, name="fedc4321")  # maybe a writer just starting
    other = leftover(tmp_path, "g.bin", age=atomic.STALE_AFTER + 5)  # another target's
    with atomic_write(tmp_path / "f.bin") as f:
        f.write(b"new")
    assert not old.exists() and fresh.exists() and other.exists()


def test_a_live_writers_temporary_file_is_left_alone(tmp_path):
    target = tmp_path / "f.bin"
    with atomic_write(target) as first:
        first.write(b"slow writer")
        (tmp,) = tmp_path.glob(".f.bin.*.tmp")
        then = time.time() - atomic.STALE_AFTER - 5
        os.utime(tmp, (then, then))  # old enough; only its lock says it is in use
        with atomic_write(target) as second:
            second.write(b"fast writer")
        assert tmp.exists()
    assert target.read_bytes() == b"slow writer"
    assert os.listdir(tmp_path) == ["f.bin"]


WRITER = """
import sys, time
from engine.atomic import atomic_write
with atomic_write(sys.argv[1]) as f:
    f.write(b"half a checkpoint")
    f.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 is a POSIX signal")
def test_temporary_files_of_killed_writers_do_not_accumulate(tmp_path):
    target = tmp_path / "m.npz"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], env=env,
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline() == "writing\n"
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    leftovers = list(tmp_path.glob(".m.npz.*.tmp"))
    assert len(leftovers) == 3
    then = time.time() - atomic.STALE_AFTER - 5
    for path in leftovers:
        os.utime(path, (then, then))
    with atomic_write(target) as f:
        f.write(b"whole")
    assert os.listdir(tmp_path) == ["m.npz"]


def test_without_flock_only_the_age_rule_applies(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "fcntl", None)  # as on Windows
    old = leftover(tmp_path, "f.bin", age=atomic.STALE_AFTER + 5)
    fresh = leftover(tmp_path, "f.bin", age=0, name="fedc4321")
    with atomic_write(tmp_path / "f.bin") as f:
        f.write(b"new")
    assert not old.exists() and fresh.exists()


def test_check_writable_says_what_is_wrong_with_a_path(tmp_path):
    assert check_writable(tmp_path / "ok.bin") == tmp_path / "ok.bin"
    with pytest.raises(FileNotFoundError, match=f"the folder {tmp_path / 'no'} does not exist"):
        check_writable(tmp_path / "no" / "f.bin")
    with pytest.raises(IsADirectoryError, match="it is a folder; give a file name"):
        check_writable(tmp_path)


def test_write_bytes_names_the_target_when_it_fails(tmp_path):
    assert write_bytes(tmp_path / "f.bin", b"abc").read_bytes() == b"abc"
    with pytest.raises(FileNotFoundError, match=f"cannot write {tmp_path / 'no' / 'f.bin'}: "):
        write_bytes(tmp_path / "no" / "f.bin", b"abc")
