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


def number(kind: type, low: float, high: float | None = None, *,
           inclusive: bool = True) -> Callable[[str], Any]:
    """An argparse type: a finite `kind` (int or float) from `low` (for floats, above it
    unless inclusive) up to `high`, or a message saying what was wrong and what is allowed.

    The demos give every size a `high`: a huge count would otherwise surface as a
    traceback, hours of work or memory running out, far from the option that caused it.
    """
    def parse(text: str) -> Any:
        try:
            value = kind(text) + 0  # + 0 turns -0.0 into 0.0, which numpy takes as a scale
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            got = repr(text) if len(text) <= 20 else shown(text)
            raise argparse.ArgumentTypeError(f"expected {what}, got {got}") from None
        above_low = low < value or value == low and (inclusive or kind is int)
        if above_low and (high is None or value <= high) and (kind is int or math.isfinite(value)):
            return value  # (an int may be too large for a float: isfinite is for floats)
        if kind is int:
            bound = f"at least {low:,}" if high is None else f"between {low:,} and {high:,}"
        else:
            bound = f"{'at least' if inclusive else 'greater than'} {low:g}"
            bound += f" and at most {high:g}" if high is not None else ""
        what = "a finite number " if kind is float else ""
        raise argparse.ArgumentTypeError(f"must be {what}{bound}, got {shown(text)}")
    return parse


def shown(text: str) -> str:
    """A typed value as an error message shows it: a long one cut, saying how long it was."""
    return text if len(text) <= 20 else f"{text[:12]}... ({len(text)} characters)"


class Diverged(ArithmeticError):
    """Training stopped: the loss is no longer a finite number (a learning rate too large)."""


def add_seed_argument(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    """--seed, a whole number from 0 to 2**64 - 1 (what PyTorch's manual_seed accepts)."""
    parser.add_argument("--seed", type=number(int, 0, 2**64 - 1), default=default,
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
