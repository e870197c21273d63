"""Atomic file writes, for everything the project saves: checkpoints, pictures, downloads.

A reader never sees half a file: the bytes go into a temporary file beside the target,
which is flushed to disk and then renamed over it in one step. If anything fails first,
the temporary file is removed and the old file, if any, is left as it was.
"""
from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write `path` through; it replaces `path` only when the block succeeds."""
    path = Path(path)
    # beside the target, so os.replace is a rename on one file system; opened with open()
    # rather than mkstemp so the file gets the usual permissions (umask), not 0600
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
