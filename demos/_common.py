"""What the demos share: command lines and their checks, MNIST loading, output folders, figures."""
from __future__ import annotations

import argparse
import importlib
import math
import os
import warnings
from pathlib import Path
from typing import Any, Callable

from demos.data import MNIST, DataError, SampleWarning, load_mnist
from engine.atomic import atomic_write

EXTRA_HINT = 'pip install "scratchgrad[demos]" (in a checkout: pip install -e ".[demos]")'


def demo_parser(name: str, doc: str) -> argparse.ArgumentParser:
    """The parser of `python -m demos.NAME`: the docstring's first line, then the rest below."""
    return argparse.ArgumentParser(
        prog=f"python -m demos.{name}", description=doc.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc.split("\n", 2)[2])


def require(parser: argparse.ArgumentParser, *modules: str) -> None:
    """Exit with one line naming the demos extra when any of `modules` cannot be imported."""
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        parser.exit(1, f"{parser.prog}: error: this demo needs {' and '.join(missing)}, from "
                       f"the demos extra: {EXTRA_HINT}\n")


def number(kind: type, low: float, *, inclusive: bool = True) -> Callable[[str], Any]:
    """An argparse type: a finite `kind` (int or float) from `low` up (above it unless
    inclusive), or a message saying what was wrong."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            finite = "a finite number " if kind is float else ""
            bound = f"{'at least' if inclusive else 'greater than'} {low:g}"
            raise argparse.ArgumentTypeError(f"must be {finite}{bound}, got {text}")
        return value
    return parse


def add_seed_argument(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    """--seed, a whole number >= 0 (what numpy's generators accept)."""
    parser.add_argument("--seed", type=number(int, 0), default=default,
                        help=f"seed for {what} (default: {default})")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--data and --no-download, read by load_data."""
    parser.add_argument("--data", default=None,
                        help="MNIST: the lesson's mnist.pkl.gz, a folder of IDX files or an "
                             "mnist.npz (default: ./data/mnist.pkl.gz, the cache, a download, "
                             "then the 5,000-digit sample; see demos/data.py)")
    parser.add_argument("--no-download", action="store_true",
                        help="never download MNIST; offline, use the 5,000-digit sample")


def load_data(parser: argparse.ArgumentParser, args: argparse.Namespace) -> MNIST:
    """MNIST as --data and --no-download say, or exit with the loader's explanation.

    Prints one line saying where the digits came from; for the offline sample that line
    also says how to get all of MNIST (load_mnist's longer warning is for library users).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SampleWarning)
            mnist = load_mnist(args.data, download=not args.no_download)
    except DataError as e:
        parser.exit(1, f"{parser.prog}: error: {e}\n")
    note = ""
    if mnist.is_sample:
        how = "pass --data PATH" + (" or drop --no-download" if args.no_download else
                                    " or run once online")
        note = f"; not all of MNIST: for its 60,000 training digits {how}"
    print(f"data: {mnist.source}{note}")
    return mnist


def output_folder(parser: argparse.ArgumentParser, out: str) -> Path:
    """The --out folder, created if missing; a clear argparse error when it cannot be."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        parser.error(f"--out {out}: cannot create the output folder ({e.strerror or e})")
    if not os.access(path, os.W_OK):
        parser.error(f"--out {out}: no permission to write in this folder")
    return path


def pyplot() -> Any:
    """matplotlib.pyplot drawing off-screen (Agg), so the demos run without a display."""
    import matplotlib  # imported here: only the demos that draw need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Write a matplotlib figure to path atomically, then close it."""
    with atomic_write(path) as f:
        fig.savefig(f, format=path.suffix.lstrip("."), dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    return path
