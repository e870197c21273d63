"""Data files, opened and fetched with care: what every reader in demos/ shares.

- `DataError`, the one error a damaged, missing or unexpected file raises, naming the file.
- `open_file` opens only regular files: a FIFO would block the reader forever and a device
  such as /dev/zero would never end, so both are refused before a byte is read.
- `read_at_most` and the size checks bound every read: what a file (or its header) claims
  is never allocated or inflated past a cap its reader sets.
- `download` fetches files into a folder (the cache), each verified by SHA-256 and renamed
  into place only when complete; a file once verified is remembered by a small marker
  beside it, so it is hashed again only when it changes.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import stat
import sys
import time
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

from engine.atomic import atomic_write


class DataError(ValueError):
    """A data file is missing, truncated, corrupt or not what it claims to be."""


def default_cache_dir() -> Path:
    """$SCRATCHGRAD_DATA, else ~/.cache/scratchgrad."""
    return Path(os.environ.get("SCRATCHGRAD_DATA") or Path.home() / ".cache" / "scratchgrad")


@contextlib.contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """Turn whatever a damaged file makes a parser raise into a DataError naming the file."""
    try:
        yield
    except DataError:
        raise
    except Exception as e:  # truncated or garbled input surfaces as anything from EOFError to KeyError
        raise DataError(f"{path}: cannot read {what} ({type(e).__name__}: {e})") from e


_KINDS = ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


def open_file(path: Path, max_bytes: int | None = None) -> BinaryIO:
    """path opened for binary reading: a regular file, at most max_bytes long, or a DataError.

    The file is opened without blocking and checked before anything is read (on the open
    file, so it cannot be swapped between the check and the read).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file or folder") from None
    except OSError as e:
        raise DataError(f"{path}: cannot open it ({e.strerror or e})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "special file")
        raise DataError(f"{path}: not a regular file ({kind}); give the path of a file")
    if max_bytes is not None and info.st_size > max_bytes:
        os.close(fd)
        raise DataError(f"{path}: {info.st_size:,} bytes, more than the {max_bytes:,} such a "
                        "file may hold; not read (the wrong file?)")
    return os.fdopen(fd, "rb")


@contextlib.contextmanager
def open_maybe_gzip(path: Path) -> Iterator[BinaryIO]:
    """A binary reader for the regular file at path, gunzipping when it starts with gzip's
    magic bytes."""
    with open_file(path) as f:
        gzipped = f.read(2) == b"\x1f\x8b"
        f.seek(0)
        if not gzipped:
            yield f
            return
        with gzip.GzipFile(fileobj=f, mode="rb") as unzipped:
            yield unzipped


def read_at_most(f: BinaryIO, size: int) -> bytearray:
    """Up to size bytes from f, in pieces: what a header claims is never allocated up front."""
    raw = bytearray()
    while len(raw) < size and (piece := f.read(min(size - len(raw), 1 << 20))):
        raw += piece
    return raw


def sha256_of(path: Path) -> str:
    """The SHA-256 of the regular file at path, read in pieces."""
    digest = hashlib.sha256()
    with open_file(path) as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- downloads into the cache


def download(folder: str | os.PathLike, files: dict[str, str], mirrors: Sequence[str], *,
             timeout: float = 5.0, total_timeout: float = 600.0, verbose: bool = True) -> Path:
    """Fetch the `files` (name -> SHA-256) missing from folder, trying `mirrors` (base URLs)
    in order; returns the folder.

    A file is renamed into place only after its checksum matches, so a cut or corrupt
    download leaves nothing behind. A file already there is checked too (once, see
    `verified`) and fetched again if it does not match. `timeout` bounds each wait for the
    server, `total_timeout` the whole call (give or take one `timeout`), so a server
    trickling bytes cannot stall it forever.
    """
    folder = Path(folder)
    give_up = time.monotonic() + total_timeout
    folder.mkdir(parents=True, exist_ok=True)
    for name, sha256 in files.items():
        if (folder / name).exists() and verified(folder / name, sha256):
            continue
        failures = []
        for base in mirrors:
            url = f"{base.rstrip('/')}/{name}"
            try:
                _fetch(url, folder / name, sha256, timeout, give_up, verbose)
                break
            except (OSError, HTTPException, DataError) as e:  # URLError and timeouts are OSErrors
                failures.append(f"{url}: {e}")
        else:
            raise DataError(f"could not download {name}:\n    " + "\n    ".join(failures))
    return folder


def _fetch(url: str, dest: Path, sha256: str, timeout: float, give_up: float,
           verbose: bool) -> None:
    """url -> dest, written atomically: only a complete file with the right SHA-256 lands."""
    digest, size = hashlib.sha256(), 0
    with atomic_write(dest) as out, urllib.request.urlopen(
            url, timeout=min(timeout, _time_left(give_up))) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with _progress_bar(dest.name, total, verbose) as bar:
            # read1: whatever has arrived, so the time is checked between any two packets
            while chunk := response.read1(1 << 16):
                _time_left(give_up)
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                bar.update(len(chunk))
        if total is not None and size != total:
            raise DataError(f"connection cut after {size:,} of {total:,} bytes")
        if digest.hexdigest() != sha256:
            raise DataError(f"SHA-256 {digest.hexdigest()} does not match the expected {sha256}")
    _remember_verified(dest, sha256)


def _time_left(give_up: float) -> float:
    """Seconds until the download's deadline (time.monotonic() value), or a DataError past it."""
    left = give_up - time.monotonic()
    if left <= 0:
        raise DataError("the download ran out of time (total_timeout); the server is too "
                        "slow, try again later or another mirror ($SCRATCHGRAD_MNIST_MIRROR)")
    return left


def verified(path: Path, sha256: str) -> bool:
    """Whether path's SHA-256 is sha256, hashing the file only if it changed since it last matched.

    A match is remembered in a small marker beside the file, `.NAME.sha256`, holding the
    digest with the file's size and modification time; a file changed since then (other
    size or time) is hashed again.
    """
    with contextlib.suppress(OSError, DataError), open_file(_marker(path), 4096) as f:
        if f.read().decode(errors="replace") == _stamp(path, sha256):
            return True
    if sha256_of(path) != sha256:
        return False
    _remember_verified(path, sha256)
    return True


def _remember_verified(path: Path, sha256: str) -> None:
    """Write path's marker (see verified); in a read-only folder, just hash again next time."""
    with contextlib.suppress(OSError), atomic_write(_marker(path)) as f:
        f.write(_stamp(path, sha256).encode())


def _marker(path: Path) -> Path:
    return path.with_name(f".{path.name}.sha256")


def _stamp(path: Path, sha256: str) -> str:
    info = path.stat()
    return f"{sha256} {info.st_size} {info.st_mtime_ns}\n"


class _NoBar:
    """Stands in for a tqdm bar when there is no tqdm or nothing should be shown."""

    def update(self, n: int) -> None:
        pass


def _progress_bar(name: str, total: int | None, verbose: bool):
    """A tqdm byte counter when verbose and tqdm is installed, else a silent stand-in."""
    if verbose:
        try:
            from tqdm import tqdm  # optional (the demos extra): imported only when downloading
        except ImportError:
            print(f"downloading {name} ...", file=sys.stderr)
        else:
            return tqdm(total=total, unit="B", unit_scale=True, desc=name, file=sys.stderr)
    return contextlib.nullcontext(_NoBar())
