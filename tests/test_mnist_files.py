"""Checks demos/mnist_files.py: IDX, the lesson's pickle and .npz read into one form; hostile,
damaged and oversized files refused by name, without running code or inflating bombs."""
from __future__ import annotations

import codecs
import gzip
import io
import os
import pickle
import pickletools
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from demos import mnist_files
from demos.files import DataError
from demos.mnist_files import read_idx, read_mnist

try:
    from numpy._core.numeric import _frombuffer as numpy_frombuffer  # numpy >= 2
except ImportError:
    from numpy.core.numeric import _frombuffer as numpy_frombuffer  # numpy 1.x


# --- files the tests write, independently of the code under test


def digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n random 28x28 uint8 images and labels 0-9 (stand-ins: only the plumbing is tested)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of array, written from the format's description."""
    code = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}[array.dtype.str[1:]]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, payload: bytes) -> Path:
    """payload to path, gzipped when the name ends in .gz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return path


def write_idx_folder(folder: Path, n: int = 60, suffix: str = ".gz", split: str = "train") -> tuple:
    """The standard pair of IDX files for a split; returns the arrays written."""
    x, y = digits(n)
    prefix = "t10k" if split == "test" else "train"
    write(folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(x))
    write(folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(y))
    return x, y


def lesson_parts(sizes=(50, 10, 10)) -> tuple:
    """((x_train, y_train), (x_valid, y_valid), (x_test, y_test)) as in the lesson's file."""
    parts = []
    for seed, n in enumerate(sizes):
        x, y = digits(n, seed)
        parts.append((x.reshape(n, 784).astype(np.float32) / 256, y.astype(np.int64)))
    return tuple(parts)


class Py2StylePickler(pickle._Pickler):
    """Writes bytes as Python 2's str opcodes (BINSTRING), as the lesson's file has them."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj: bytes) -> None:
        self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def pickle_bytes(obj: object, style: str = "py3", numpy_module: str = "numpy._core") -> bytes:
    """obj pickled Python 2 style, or Python 3 style at protocol 2 or 5 ("py3-5"), naming
    numpy's core module as given (numpy 1.x wrote numpy.core, numpy 2 writes numpy._core)."""
    if style == "py2":
        buf = io.BytesIO()
        Py2StylePickler(buf, protocol=2).dump(obj)
        raw = buf.getvalue()
    elif style == "py3-5":
        raw = pickle.dumps(obj, protocol=5)
        # Protocol 5 spells module names as length-prefixed strings inside length-prefixed
        # frames: rename with the new length, then let pickletools rebuild the frames.
        old = b"numpy._core.numeric"
        new = f"{numpy_module}.numeric".encode()
        return pickletools.optimize(raw.replace(bytes([len(old)]) + old, bytes([len(new)]) + new))
    else:
        raw = pickle.dumps(obj, protocol=2)
    # Protocol 2 spells globals as newline-terminated text, so renaming the module is safe.
    return raw.replace(b"numpy._core.multiarray\n", f"{numpy_module}.multiarray\n".encode())


def expected_pixels(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), 784).astype(np.float32) / 255


def assert_mnist_form(arrays) -> None:
    """The documented output form: float32 (n, 784) in [0, 1], int64 labels 0-9."""
    for x, y in (arrays[:2], arrays[2:]):
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 784
        assert y.dtype == np.int64 and y.shape == (len(x),)
        assert 0 <= x.min() and x.max() <= 1 and 0 <= y.min() and y.max() <= 9


def load_train(path: Path) -> tuple:
    """The training images and labels of the MNIST at path."""
    return read_mnist(Path(path), "train")["train"]


# --- read_idx


def test_read_idx_real_test_digits(mnist_dir):
    x = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    y = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and set(np.unique(y)) == set(range(10))
    raw = gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    np.testing.assert_array_equal(x.ravel(), np.frombuffer(raw, np.uint8, offset=16))


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_round_trip(tmp_path, dtype, suffix):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    got = read_idx(write(tmp_path / f"a.idx{suffix}", idx_bytes(a)))
    assert got.shape == a.shape and got.dtype == a.dtype.newbyteorder("=") and got.flags.writeable
    np.testing.assert_array_equal(got, a)


GOOD_IDX = idx_bytes(np.zeros((2, 3), np.uint8))


@pytest.mark.parametrize("payload, phrase", [
    (b"", "magic number missing"),
    (b"\x01\x00" + GOOD_IDX[2:], "magic number 0100"),
    (GOOD_IDX[:2] + b"\x07" + GOOD_IDX[3:], "type code 0x07"),
    (GOOD_IDX[:12], "needs 18 bytes, the file has 12"),
    (GOOD_IDX + b"\0", "needs 18 bytes, the file has more"),
    (GOOD_IDX[:6], "declares 2 dimensions"),
    (GOOD_IDX[:4] + struct.pack(">2I", 2**31, 2**31) + bytes(10),
     r"4,611,686,018,427,387,904 bytes, more than the 268,435,456 any MNIST-sized file needs"),
], ids=["empty", "bad-magic", "bad-type", "truncated", "too-long", "short-header", "huge-claim"])
def test_read_idx_rejects_bad_files(tmp_path, payload, phrase):
    path = write(tmp_path / "bad-idx1-ubyte", payload)
    with pytest.raises(DataError, match=phrase) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_read_idx_names_a_cut_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    noise = np.random.default_rng(0).integers(0, 256, (30, 20), dtype=np.uint8)  # incompressible
    path.write_bytes(gzip.compress(idx_bytes(noise))[:-20])
    with pytest.raises(DataError, match="EOFError") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def gzip_bomb(path: Path, header_shape: tuple, zeros: int) -> Path:
    """An IDX header declaring header_shape uint8, then `zeros` zero bytes, gzipped as it goes."""
    packer = zlib.compressobj(1, wbits=31)  # 31: gzip framing
    with open(path, "wb") as f:
        f.write(packer.compress(bytes([0, 0, 0x08, len(header_shape)])
                                + struct.pack(f">{len(header_shape)}I", *header_shape)))
        for start in range(0, zeros, 1 << 20):
            f.write(packer.compress(bytes(min(1 << 20, zeros - start))))
        f.write(packer.flush())
    return path


def refused_with_peak(load, *args, match: str) -> tuple[str, int]:
    """load(*args)'s DataError message (matching `match`) and the peak bytes Python
    allocated on the way to it."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=match) as e:
            load(*args)
        return str(e.value), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    # a valid header for 10 images, then a quarter GiB of zeros in about 1 MB of gzip
    path = gzip_bomb(tmp_path / "bomb-idx3-ubyte.gz", (10, 28, 28), zeros=1 << 28)
    assert path.stat().st_size < 2 << 20
    error, peak = refused_with_peak(read_idx, path,
                                    match="needs 7856 bytes, the file has more")
    assert str(path) in error
    assert peak < 8 << 20, f"read_idx took {peak / 2**20:.0f} MiB"


def test_a_gzip_bomb_whose_header_claims_its_size_is_refused_before_inflating(tmp_path):
    # the header honestly declares the half GiB of zeros that follow, in about 0.5 MB of gzip
    path = gzip_bomb(tmp_path / "bomb-idx3-ubyte.gz", (1 << 15, 1 << 14), zeros=1 << 29)
    error, peak = refused_with_peak(read_idx, path,
                                    match=r"declares shape \(32768, 16384\) of uint8, "
                                          r"536,870,912 bytes, more than the 268,435,456")
    assert str(path) in error
    assert peak < 1 << 20, f"read_idx took {peak / 2**20:.0f} MiB"


# --- hostile and damaged files


class Payload:
    """Pickles as a call to `func(*args)`: what a malicious pickle would run on load."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("make, refused", [
    (lambda target: Payload(os.system, f"touch {target}"), "system"),
    (lambda target: Payload(open, str(target), "w"), "open"),
    (lambda target: ((Payload(open, str(target), "w"), 0), (0, 0), (0, 0)), "open"),
], ids=["os.system", "open", "inside-lesson-layout"])
@pytest.mark.parametrize("protocol", [2, 5])
def test_malicious_pickle_runs_nothing(tmp_path, make, refused, protocol):
    target = tmp_path / "pwned"
    path = write(tmp_path / "mnist.pkl.gz", pickle.dumps(make(target), protocol=protocol))
    with pytest.raises(DataError, match=f"refusing to load .*{refused}") as e:
        load_train(path)
    assert str(path) in str(e.value)
    assert not target.exists()


@pytest.mark.parametrize("dtype", [np.dtype(object), np.dtype([("a", "O")])],
                         ids=["object", "record"])
def test_the_protocol_5_array_path_cannot_forge_object_pointers(tmp_path, dtype):
    # numpy's own name for the rebuild function, so the unpickler maps it to ours
    payload = Payload(numpy_frombuffer, bytes(64), dtype, (8,), "C")
    path = write(tmp_path / "mnist.pkl", pickle.dumps(((payload, 0), (0, 0), (0, 0)), protocol=5))
    with pytest.raises(DataError, match="cannot read the MNIST pickle .*OBJECT") as e:
        load_train(path)
    assert str(path) in str(e.value)


def test_pickle_codec_other_than_latin1_is_refused(tmp_path):
    payload = Payload(codecs.encode, "x", "rot13")  # pickled as _codecs.encode
    path = write(tmp_path / "mnist.pkl", pickle.dumps(payload, protocol=2))
    with pytest.raises(DataError, match="only latin1"):
        load_train(path)


# Builders of damaged inputs: each writes into folder d and returns (path to load, path the
# error must name); they differ for IDX folders, where the error names the bad file inside.

def pickled(obj: object):
    return lambda d: 2 * (write(d / "m.pkl.gz", pickle_bytes(obj)),)


def raw_file(name: str, payload: bytes):
    return lambda d: 2 * (write(d / name, payload),)


def npz(**arrays):
    def build(d: Path) -> tuple[Path, Path]:
        np.savez(d / "m.npz", **arrays)
        return d / "m.npz", d / "m.npz"
    return build


def cut_in_half(build):
    def cut(d: Path) -> tuple[Path, Path]:
        given, named = build(d)
        named.write_bytes(named.read_bytes()[:named.stat().st_size // 2])
        return given, named
    return cut


def idx_folder_with(name: str, payload: bytes | None):
    """A good IDX folder where file `name` is replaced by payload (None: removed)."""
    def build(d: Path) -> tuple[Path, Path]:
        write_idx_folder(d)
        (d / name).unlink()
        return d, (d if payload is None else write(d / name, payload))
    return build


def with_pixel(x: np.ndarray, value: float) -> np.ndarray:
    """A copy of float array x with one pixel set to value."""
    x = x.copy()
    x.flat[len(x.flat) // 2] = value
    return x


X60, Y60 = digits(60)
FLOATS_784 = np.zeros((4, 784), np.float32)
CORRUPT = {
    "pickle-truncated": (cut_in_half(pickled(lesson_parts())), "EOFError"),
    "pickle-garbage-gzip": (raw_file("m.pkl.gz", b"\x1f\x8bnonsense"), "cannot read the MNIST pickle"),
    "pickle-wrong-layout": (pickled({"x": 1}), "expected the lesson's layout"),
    "pickle-wrong-width": (pickled(((np.zeros((4, 783), np.float32), Y60[:4]),) * 3), "784 pixels"),
    "pickle-bad-labels": (pickled(((FLOATS_784, np.full(4, 10)),) * 3), "integers 0-9"),
    "pickle-pixels-0-255": (pickled(((FLOATS_784 + 255, Y60[:4]),) * 3), "expected 0 to 1"),
    "npz-missing-keys": (npz(x_test=X60, y_test=Y60), "no x_train or y_train"),
    "npz-truncated": (cut_in_half(npz(x_train=X60, y_train=Y60)), "cannot read .npz"),
    "npz-not-a-zip": (raw_file("m.npz", b"hello, not a zip"), "cannot read .npz archive: it is "
                      "not a zip file"),  # not numpy's "contains pickled (object) data"
    "npz-length-mismatch": (npz(x_train=X60, y_train=Y60[:5]), "do not pair up"),
    "idx-bad-magic": (idx_folder_with("train-labels-idx1-ubyte.gz",
                                      b"\x08\x03" + idx_bytes(Y60)[2:]), "not an IDX"),
    "idx-wrong-length": (idx_folder_with("train-images-idx3-ubyte.gz",
                                         idx_bytes(X60)[:-1]), "truncated or corrupt"),
    "idx-missing-labels": (idx_folder_with("train-labels-idx1-ubyte.gz", None),
                           "no train-labels-idx1-ubyte"),
    "unknown-format": (raw_file("mnist.csv", b"1,2,3"), "unknown MNIST format"),
    # pixels that are not finite real numbers
    "npz-all-nan": (npz(x_train=np.full((60, 28, 28), np.nan, np.float32), y_train=Y60),
                    "pixels range from nan to nan"),
    "idx-float-nan": (idx_folder_with("train-images-idx3-ubyte.gz",
                                      idx_bytes(with_pixel(X60 / 255, np.nan))), "from nan"),
    "pickle-float16-nan": (pickled(((with_pixel(FLOATS_784.astype(np.float16), np.nan),
                                     Y60[:4]),) * 3), "float16 pixels range from nan"),
    "npz-inf": (npz(x_train=with_pixel(X60 / 255, np.inf), y_train=Y60), "to inf"),
    "pickle-minus-inf": (pickled(((with_pixel(FLOATS_784, -np.inf), Y60[:4]),) * 3), "from -inf"),
    "npz-complex": (npz(x_train=X60.astype(np.complex64), y_train=Y60), "real numbers.*complex64"),
    # pixel and label types that are not numbers at all
    **{f"pickle-{kind}": (pickled(((pixels, Y60[:4]),) * 3), f"real numbers.*got {got}")
       for kind, pixels, got in [
           ("none", np.full((4, 784), None), "object"),
           ("str", np.full((4, 784), "0", dtype=object), "object"),
           ("bytes", np.zeros((4, 784), "S1"), r"\|S1"),
           ("datetime64", np.zeros((4, 784), "datetime64[s]"), r"datetime64\[s\]"),
           ("structured", np.zeros((4, 784), [("a", "f4")]), r"\[\('a', '<f4'\)\]"),
           ("complex", np.zeros((4, 784), complex), "complex128")]},
    "pickle-none-labels": (pickled(((FLOATS_784, np.full(4, None)),) * 3),
                           "labels must be integers 0-9, got object"),
    "pickle-ragged-lists": (pickled((([[0.0] * 784, [0.0]], [1, 2]),) * 3), "not arrays"),
    "missing": (lambda d: 2 * (d / "nowhere.pkl.gz",), "no such file or folder"),
}


@pytest.mark.parametrize("build, phrase", CORRUPT.values(), ids=CORRUPT)
def test_damaged_file_errors_name_the_file(tmp_path, build, phrase):
    given, named = build(tmp_path)
    with pytest.raises(DataError, match=phrase) as e:
        load_train(given)
    assert str(named) in str(e.value)


# --- issue 21, item 9: the pickle and .npz are bounded like IDX


def pickle_bomb(path: Path, chunk_bytes: int, chunks: int = 1, written: int | None = None) -> Path:
    """A gzipped protocol-4 pickle of a tuple of `chunks` byte strings, each declared as
    `chunk_bytes` long (BINBYTES8) and followed by `written` zero bytes (default: all of
    them), compressed as it goes: a small file whose pickle claims a lot."""
    packer = zlib.compressobj(9, wbits=31)  # 9: deflate's best ratio; 31: gzip framing
    written = chunk_bytes if written is None else written
    with open(path, "wb") as f:
        f.write(packer.compress(b"\x80\x04("))  # PROTO 4, MARK
        for _ in range(chunks):
            f.write(packer.compress(b"\x8e" + struct.pack("<Q", chunk_bytes)))
            for start in range(0, written, 1 << 20):
                f.write(packer.compress(bytes(min(1 << 20, written - start))))
        f.write(packer.compress(b"t."))  # TUPLE, STOP
        f.write(packer.flush())
    return path


def test_a_pickle_claiming_a_gibibyte_is_refused_before_reading_it(tmp_path):
    # the case: a ~1 MB mnist.pkl.gz drove load_mnist to gigabytes before refusing.
    # Its first 64 MiB are here (compressing all 1 GiB takes seconds): a reader that read
    # what it was told before refusing would use 64 MiB, or stop at the end of the file,
    # and either fails this test as the whole gibibyte would.
    path = pickle_bomb(tmp_path / "mnist.pkl.gz", chunk_bytes=1 << 30, written=1 << 26)
    assert path.stat().st_size < 2 << 20
    error, peak = refused_with_peak(load_train, path, match="more than the 268,435,456")
    assert str(path) in error
    assert peak < 8 << 20, f"reading took {peak / 2**20:.0f} MiB"


def test_a_pickle_of_many_small_pieces_is_read_no_further_than_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_files, "MAX_FILE_BYTES", 4 << 20)
    path = pickle_bomb(tmp_path / "mnist.pkl.gz", chunk_bytes=1 << 20, chunks=64)
    error, peak = refused_with_peak(load_train, path, match="more than the 4,194,304")
    assert str(path) in error
    assert peak < 16 << 20, f"reading took {peak / 2**20:.0f} MiB"


def test_an_npz_whose_array_claims_half_a_gibibyte_is_refused_before_reading_it(tmp_path):
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, shape in (("x_train.npy", (1 << 15, 1 << 14)), ("y_train.npy", (1 << 15,))):
            with z.open(name, "w", force_zip64=True) as member:
                np.lib.format.write_array_header_2_0(
                    member, {"descr": "|u1", "fortran_order": False, "shape": shape})
                member.write(bytes(1 << 20))  # the first MiB of what the header claims
    error, peak = refused_with_peak(load_train, path,
                                    match=r"x_train.npy declares shape \(32768, 16384\)")
    assert str(path) in error and "more than the 268,435,456" in error
    assert peak < 8 << 20, f"reading took {peak / 2**20:.0f} MiB"


# --- issue 21, item 11: what is not a regular file is refused, not read


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("name", ["mnist.pkl.gz", "mnist.npz"])
def test_a_fifo_given_as_mnist_is_refused_by_name(tmp_path, name):
    os.mkfifo(tmp_path / name)
    with pytest.raises(DataError, match="not a regular file .*FIFO") as e:
        load_train(tmp_path / name)
    assert str(tmp_path / name) in str(e.value)

