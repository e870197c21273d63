"""`python -m viz`: draw an example computation graph to a file, to see one in a second.

    python -m viz                                      micrograd's neuron -> neuron.svg
    python -m viz --example lesson --out lesson.png    the lesson's 784-50-1 model
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from engine import Tensor, Value
from viz.dot import RANKDIRS
from viz.render import FORMATS, render


def neuron() -> tuple[Value, dict[str, Value]]:
    """micrograd's neuron: o = tanh(x1 w1 + x2 w2 + b), after backward."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1*w1", "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, {"w1": w1, "w2": w2, "b": b}


def lesson(rows: int, seed: int) -> tuple[Tensor, dict[str, Tensor]]:
    """The lesson's model on `rows` random "digits": lin, relu, lin, MSE, after backward."""
    rng = np.random.default_rng(seed)

    def tensor(data: np.ndarray, label: str, requires_grad: bool = False) -> Tensor:
        return Tensor(data.astype(np.float32), requires_grad=requires_grad, label=label)

    x = tensor(rng.random((rows, 784)), "x")
    y = tensor(rng.integers(0, 10, rows), "y")
    w1 = tensor(rng.standard_normal((784, 50)) * np.sqrt(2 / 784), "w1", True)
    b1 = tensor(np.zeros(50), "b1", True)
    w2 = tensor(rng.standard_normal((50, 1)) / np.sqrt(50), "w2", True)
    b2 = tensor(np.zeros(1), "b2", True)
    l1 = x @ w1 + b1
    l2 = l1.relu()
    out = l2 @ w2 + b2
    # the lesson's MSE, (out.squeeze(-1) - y)**2 averaged, written y - out so that y itself
    # is in the graph: Tensor's a - b is a + -b, and -y would be an anonymous leaf
    loss = ((y - out.reshape(rows)) ** 2).mean()
    l1.label, l2.label, out.label, loss.label = "l1", "l2", "out", "loss"
    loss.backward()
    return loss, {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


RANKDIR = {"neuron": "LR", "lesson": "TB"}  # the lesson's graph is deep: it fits a page upright


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m viz", description=__doc__.split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The suffix of --out picks the format: " + ", ".join(FORMATS) + ". "
               "SVG and PNG need no system Graphviz (graphviz-pure draws them); PDF does.")
    parser.add_argument("--example", choices=("neuron", "lesson"), default="neuron",
                        help="neuron: micrograd's 2-input tanh neuron on Values; lesson: the "
                             "784-50-1 MLP with MSE loss on Tensors (default: neuron)")
    parser.add_argument("--out", default=None,
                        help="file to write (default: EXAMPLE.svg in the current folder)")
    parser.add_argument("--rows", type=int, default=4,
                        help="lesson: how many random 28x28 'digits' in the batch (default: 4)")
    parser.add_argument("--seed", type=int, default=0, help="lesson: random seed (default: 0)")
    parser.add_argument("--rankdir", choices=RANKDIRS, default=None,
                        help="layout direction (default: LR, inputs on the left, for the "
                             "neuron; TB, inputs on top, for the lesson's deeper graph)")
    parser.add_argument("--max-nodes", type=int, default=500,
                        help="draw at most this many nodes, nearest the output (default: 500)")
    parser.add_argument("--no-grad", action="store_true", help="leave gradients out")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error(f"--rows must be at least 1, got {args.rows}")

    root, params = neuron() if args.example == "neuron" else lesson(args.rows, args.seed)
    out = args.out or f"{args.example}.svg"
    try:
        path = render(root, out, rankdir=args.rankdir or RANKDIR[args.example],
                      show_grad=not args.no_grad, max_nodes=args.max_nodes, params=params)
    except (ValueError, OSError, RuntimeError) as e:  # bad path or option, no layout program
        parser.exit(1, f"{parser.prog}: error: {e}\n")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
