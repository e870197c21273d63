"""Pictures of computation graphs: what backward() walks, drawn after it has run.

    python -m demos.graph                         every example, as SVG and PNG, into out/
    python -m demos.graph --example lesson --rows 2 --format png

Examples:
  neuron  one nn.scalar.Neuron on two inputs: every weight, product and sum is a Value
  mlp     a 2-3-1 nn.scalar.MLP on one point: scalar graphs grow with every weight
  lesson  the lesson's 784-50-1 model with MSE on a few real MNIST digits, on Tensors:
          the whole batch is one node per op, however many digits and weights
Each node shows its data and its gradient; parameters are green, inputs blue, the
output yellow.
"""
from __future__ import annotations

import random
import sys
from typing import Any

import viz
from demos._common import add_data_arguments, demo_parser, load_data, output_folder
from demos.backprop import NAMES, forward, init_weights
from demos.data import MNIST
from engine import Tensor, Value
from nn.scalar import MLP, Neuron

Example = tuple[Any, Any, str]  # (root after backward, parameters to name, layout direction)


def scalar_example(model: Neuron | MLP, point: list[float]) -> Example:
    """A scalar model's output on one point, after backward."""
    inputs = [Value(v, label=f"x{i + 1}") for i, v in enumerate(point)]
    out = model(inputs)
    out.label = "out"
    out.backward()
    return out, model, "LR"


def neuron() -> Example:
    """relu(w . x + b) for one neuron, as micrograd draws it."""
    return scalar_example(Neuron(2), [2.0, -1.0])


def mlp() -> Example:
    """A 2-3-1 MLP: ReLU hidden units, a linear output."""
    return scalar_example(MLP(2, [3, 1]), [2.0, -1.0])


def lesson(mnist: MNIST, rows: int, seed: int) -> Example:
    """demos.backprop's forward pass on the first few training digits, after backward."""
    x, y = mnist[0][:rows], mnist[1][:rows].astype("float32")
    arrays = {**init_weights(x.shape[1], seed), "x": x}
    leaves = {name: Tensor(arrays[name], requires_grad=True, label=name) for name in NAMES}
    loss = forward(y=Tensor(y, label="y (digit)"), **leaves)
    loss.label = "loss"
    loss.backward()
    return loss, None, "TB"


EXAMPLES = ("neuron", "mlp", "lesson")


def main(argv: list[str] | None = None) -> int:
    parser = demo_parser("graph", __doc__)
    parser.add_argument("--example", choices=[*EXAMPLES, "all"], default="all",
                        help="which graph to draw (default: all)")
    parser.add_argument("--format", nargs="+", choices=("svg", "png", "dot"),
                        default=["svg", "png"], help="file formats (default: svg png)")
    parser.add_argument("--rows", type=int, default=4,
                        help="lesson: how many digits in the batch (default: 4)")
    add_data_arguments(parser)  # lesson: where its digits come from
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights (default: 0)")
    parser.add_argument("--out", default="out", help="folder for the pictures (default: out)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error(f"--rows must be at least 1, got {args.rows}")
    out = output_folder(parser, args.out)

    examples = {"neuron": neuron, "mlp": mlp,
                "lesson": lambda: lesson(load_data(parser, args), args.rows, args.seed)}
    for name in EXAMPLES if args.example == "all" else [args.example]:
        random.seed(args.seed)  # nn.scalar draws its weights from Python's random
        root, params, rankdir = examples[name]()
        for fmt in dict.fromkeys(args.format):
            try:
                path = viz.render(root, out / f"graph_{name}.{fmt}", params=params,
                                  rankdir=rankdir)
            except (viz.RendererNotFound, RuntimeError, TimeoutError) as e:
                parser.exit(1, f"{parser.prog}: error: {e} (the .dot file is written)\n")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
