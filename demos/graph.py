"""Pictures of computation graphs: what backward() walks, drawn after it has run.

    python -m demos.graph                         every example, as SVG and PNG, into out/,
                                                  and out/backprop.html, the neuron's backprop
                                                  to step through in a browser
    python -m demos.graph --example lesson --rows 2 --format png

Examples:
  neuron  micrograd's neuron, tanh(x1 w1 + x2 w2 + b): every number is a Value
  mlp     a 2-3-1 nn.scalar.MLP on one point: scalar graphs grow with every weight
  lesson  the lesson's 784-50-1 model with MSE on a few real MNIST digits, on Tensors:
          the whole batch is one node per op, however many digits and weights
The neuron and the lesson are viz.examples', which `python -m viz` draws too (the lesson on
random digits there). Each node shows its data and its gradient; a legend says what the
colours mean: parameters green, inputs that require grad lilac, other inputs blue, the
output gold.
"""
from __future__ import annotations

import random
import sys
from typing import Any

import viz
from demos._common import (add_data_arguments, add_seed_argument, demo_parser,
                           load_data, number, output_folder)
from engine import Value
from nn.scalar import MLP
from viz import examples

def mlp() -> tuple[Value, MLP]:
    """A 2-3-1 MLP (ReLU hidden units, a linear output) on the point (2, -1), after backward."""
    model = MLP(2, [3, 1])
    out = model([Value(2.0, label="x1"), Value(-1.0, label="x2")])
    out.label = "out"
    out.backward()
    return out, model


EXAMPLES = ("neuron", "mlp", "lesson")
RANKDIR = {**examples.RANKDIR, "mlp": "LR"}


def main(argv: list[str] | None = None) -> int:
    parser = demo_parser("graph", __doc__)
    parser.add_argument("--example", choices=[*EXAMPLES, "all"], default="all",
                        help="which graph to draw (default: all)")
    parser.add_argument("--format", nargs="+", choices=("svg", "png", "pdf", "dot"),
                        default=["svg", "png"],
                        help="file formats (default: svg png; pdf needs system Graphviz)")
    parser.add_argument("--rows", type=number(int, 1, 1000), default=4,
                        help="lesson: how many digits in the batch (default: 4)")
    add_data_arguments(parser)  # lesson: where its digits come from
    add_seed_argument(parser, 0, "the weights")
    parser.add_argument("--out", default="out", help="folder for the pictures (default: out)")
    args = parser.parse_args(argv)
    out = output_folder(parser, args.out)

    def lesson() -> tuple[Any, dict]:
        x, y = load_data(parser, args)[:2]
        return examples.lesson(x[:args.rows], y[:args.rows], args.seed)

    builders = {"neuron": examples.neuron, "mlp": mlp, "lesson": lesson}
    for name in EXAMPLES if args.example == "all" else [args.example]:
        random.seed(args.seed)  # nn.scalar draws its weights from Python's random
        root, params = builders[name]()
        writes = {out / f"graph_{name}.{fmt}": lambda path: viz.render(
            root, path, params=params, rankdir=RANKDIR[name]) for fmt in dict.fromkeys(args.format)}
        if name == "neuron":
            writes[out / "backprop.html"] = lambda path: viz.explore(
                root, path, rankdir=RANKDIR[name], params=params,
                title="micrograd's neuron: backprop, node by node")
        for path, write in writes.items():
            try:
                write(path)
            except (RuntimeError, OSError) as e:  # no layout program (or a timeout, an OSError)
                parser.exit(1, f"{parser.prog}: error: {e}\n")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
