"""What the demos share: their command lines, MNIST loading, output folder, saving figures."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from demos.data import MNIST, DataError, load_mnist
from engine.atomic import atomic_write


def demo_parser(name: str, doc: str) -> argparse.ArgumentParser:
    """The parser of `python -m demos.NAME`: the docstring's first line, then the rest below."""
    return argparse.ArgumentParser(
        prog=f"python -m demos.{name}", description=doc.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc.split("\n", 2)[2])


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--data and --no-download, read by load_data."""
    parser.add_argument("--data", default=None,
                        help="MNIST: the lesson's mnist.pkl.gz, a folder of IDX files or an "
                             "mnist.npz (default: ./data/mnist.pkl.gz, the cache, a download, "
                             "then the 5,000-digit sample; see demos/data.py)")
    parser.add_argument("--no-download", action="store_true",
                        help="never download MNIST; offline, use the 5,000-digit sample")


def load_data(parser: argparse.ArgumentParser, args: argparse.Namespace) -> MNIST:
    """MNIST as --data and --no-download say, or exit with the loader's explanation."""
    try:
        return load_mnist(args.data, download=not args.no_download)
    except DataError as e:
        parser.exit(1, f"{parser.prog}: error: {e}\n")


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
