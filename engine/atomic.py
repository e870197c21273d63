"""Atomic file writes, for everything the project saves: checkpoints, pictures, downloads.

A reader never sees half a file: the bytes go into a temporary file beside the target,
which is flushed to disk and then renamed over it in one step. If anything fails first,
the temporary file is removed and the old file, if any, is left as it was. Errors about
creating or renaming the file name the target, not the temporary file.

A writer killed outright (`kill -9`, a power cut) cannot remove its temporary file, so the
next write to the same target removes such leftovers. It must not remove the file of a
writer that is still at work, and tells the two apart by a lock: every writer holds an
exclusive `flock` on its temporary file, and the kernel drops the lock when the process
dies. A leftover is removed only when nobody holds its lock and it has not been written
for STALE_AFTER seconds; the age covers the instants in which a live writer's file is not
locked (just created, or closed and about to be renamed) and file systems without locks.
Where there is no flock at all (Windows), the system itself refuses to delete a file that
another process has open.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from pathlib import Path
from typing import BinaryIO, Iterator

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

STALE_AFTER = 10.0  # seconds without a write before an unlocked temporary file counts as left over


def check_writable(path: str | os.PathLike) -> Path:
    """`path` as a Path if a file can be written there, else an OSError saying why: checked
    before the work that produces the file, so a bad path costs nothing."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist "
                                "(create it first)")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {path}: no permission to write in {folder}")
    return path


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically; an OSError says `cannot write PATH` and why."""
    path = Path(path)
    try:
        with atomic_write(path) as f:
            f.write(data)
    except OSError as e:
        raise type(e)(f"cannot write {path}: {e.strerror or e}") from e
    return path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write `path` through; it replaces `path` only when the block succeeds."""
    path = Path(path)
    _remove_leftovers(path)
    # beside the target, so os.replace is a rename on one file system; opened with open()
    # rather than mkstemp so the file gets the usual permissions (umask), not 0600
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        try:
            f = open(tmp, "xb")
        except OSError as e:
            raise _naming(path, e) from None
        with f:
            if fcntl is not None:
                with contextlib.suppress(OSError):  # no locks here: the age rule protects it
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise _naming(path, e) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _naming(path: Path, error: OSError) -> OSError:
    """The same error about `path`, so the user reads the name they gave, not the temp file's."""
    if error.errno is None:
        return error
    return type(error)(error.errno, error.strerror, str(path))


def _remove_leftovers(path: Path) -> None:
    """Delete temporary files of earlier writes to `path` whose writers died (see above)."""
    name = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{8}}\.tmp")
    try:
        leftovers = [e.path for e in os.scandir(path.parent) if name.fullmatch(e.name)]
    except OSError:
        return  # no such folder: creating the file will say so
    for leftover in leftovers:
        # OSError: removed meanwhile, locked by a live writer, or (Windows) open in one
        with contextlib.suppress(OSError):
            if time.time() - os.stat(leftover).st_mtime < STALE_AFTER:
                continue
            if fcntl is None:
                os.unlink(leftover)
                continue
            with open(leftover, "rb") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.unlink(leftover)
