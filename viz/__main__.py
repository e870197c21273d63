"""`python -m viz`: draw an example computation graph into out/, to see one in a second.

    python -m viz                                  micrograd's neuron -> out/neuron.svg
    python -m viz --example lesson --format png    the lesson's 784-50-1 model -> out/lesson.png
    python -m viz --explore                        also out/neuron.html: step through backprop
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from viz import examples
from viz.dot import RANKDIRS
from viz.explore import explore
from viz.render import FORMATS, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m viz", description=__doc__.split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="SVG and PNG need no system Graphviz (graphviz-pure draws them); PDF does. "
               "python -m demos.graph draws the same lesson on real MNIST digits.")
    parser.add_argument("--example", choices=("neuron", "lesson"), default="neuron",
                        help="neuron: micrograd's 2-input tanh neuron on Values; lesson: the "
                             "784-50-1 MLP with MSE loss on Tensors (default: neuron)")
    parser.add_argument("--format", nargs="+", choices=[s[1:] for s in FORMATS],
                        default=["svg"], help="file formats (default: svg)")
    parser.add_argument("--out", default="out",
                        help="folder for EXAMPLE.FORMAT, created if missing (default: out)")
    parser.add_argument("--rows", type=int, default=4,
                        help="lesson: how many random 28x28 'digits' in the batch (default: 4)")
    parser.add_argument("--seed", type=int, default=0,
                        help="lesson: seed for the digits and weights (default: 0)")
    parser.add_argument("--rankdir", choices=RANKDIRS, default=None,
                        help="layout direction (default: LR, inputs on the left, for the "
                             "neuron; TB, inputs on top, for the lesson's deeper graph)")
    parser.add_argument("--max-nodes", type=int, default=500,
                        help="draw at most this many nodes, nearest the output (default: 500)")
    parser.add_argument("--no-grad", action="store_true", help="leave gradients out")
    parser.add_argument("--explore", action="store_true",
                        help="also write EXAMPLE.html, a page that steps through the forward "
                             "and backward passes node by node (open it in a browser)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error(f"--rows must be at least 1, got {args.rows}")
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")
    if args.max_nodes < 1:
        parser.error(f"--max-nodes must be at least 1, got {args.max_nodes}")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        parser.error(f"--out {out}: cannot create this folder ({e.strerror or e})")

    if args.example == "neuron":
        root, params = examples.neuron()
    else:
        root, params = examples.lesson(*examples.random_digits(args.rows, args.seed), args.seed)
    rankdir = args.rankdir or examples.RANKDIR[args.example]

    failed = []

    def write(path: Path, make: Callable[[Path], object]) -> None:
        """Make one file; a failure is reported and the other files are still made."""
        try:
            make(path)
        except (ValueError, OSError, RuntimeError) as e:  # no layout program, a bad path
            print(f"{parser.prog}: error: {e}", file=sys.stderr)
            failed.append(path)
            return
        print(f"wrote {path}")

    for fmt in dict.fromkeys(args.format):
        write(out / f"{args.example}.{fmt}", lambda path: render(
            root, path, params=params, rankdir=rankdir, show_grad=not args.no_grad,
            max_nodes=args.max_nodes))
    if args.explore:
        write(out / f"{args.example}.html", lambda path: explore(
            root, path, max_nodes=args.max_nodes, rankdir=rankdir, params=params,
            title=f"backprop through {args.example}, node by node"))
    asked = len(dict.fromkeys(args.format)) + args.explore
    if failed and asked > 1:
        print(f"{parser.prog}: {len(failed)} of {asked} files not written: "
              f"{', '.join(map(str, failed))}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
