"""micrograd's demo on scratchgrad's scalar engine: a 2-16-16-1 MLP separates two moons.

    python -m demos.moons                 100 steps, then out/moons.png
    python -m demos.moons --steps 20 --out /tmp/moons

Every number here is a `Value`: the model is `nn.scalar.MLP(2, [16, 16, 1])`, the loss
micrograd's max-margin (hinge) loss with labels -1/+1 plus 1e-4 times the sum of squared
weights, trained by plain gradient descent on the whole set with micrograd's learning
rate schedule: 1.0 falling linearly to 0.1 over the run, however many steps it has. The
picture colours the plane by the sign of the model's output, with the training points on
top. Each step builds a graph of about 90,000 Values, so the 100 steps take 10-20 seconds;
--steps 20 gives a rougher boundary in a fifth of the time.
"""
from __future__ import annotations

import math
import random
import sys
import time
from pathlib import Path

import numpy as np

from demos._common import (add_seed_argument, demo_parser, number, output_folder,
                           pyplot, require, save_figure)
from demos.data import make_moons
from engine import Value, no_grad
from nn import hinge_loss
from nn.scalar import MLP

L2 = 1e-4  # micrograd's alpha
MAX_GRID_POINTS = 40_000  # the picture's forward passes (200 x 200), each a scalar graph's worth


def loss_and_accuracy(model: MLP, X: np.ndarray, y: np.ndarray) -> tuple[Value, float]:
    """Max-margin loss + L2 penalty over the whole set, and the fraction classified right.

    y holds -1/+1 labels; a point counts as right when its score has the label's sign.
    """
    scores = [model(row) for row in X.tolist()]
    data_loss = hinge_loss(scores, y)
    reg_loss = L2 * sum(p * p for p in model.parameters())
    accuracy = np.mean([(s.data > 0) == (label > 0) for s, label in zip(scores, y)])
    return data_loss + reg_loss, float(accuracy)


def learning_rate(step: int, steps: int) -> float:
    """micrograd's schedule, 1.0 - 0.9 * step / 100 over its 100 steps, stretched to `steps`:
    from 1.0 down towards 0.1, never below it."""
    return 1.0 - 0.9 * step / steps


def train(model: MLP, X: np.ndarray, y: np.ndarray, steps: int, print_every: int) -> float:
    """Gradient descent on the full set, as micrograd's demo; returns the final accuracy.

    A tqdm bar shows every step's loss on a terminal; every `print_every` steps a line stays.
    """
    from tqdm import tqdm  # the demos extra

    with tqdm(range(steps), unit="step", leave=False, disable=None) as bar:
        for k in bar:
            loss, accuracy = loss_and_accuracy(model, X, y)
            model.zero_grad()
            loss.backward()
            lr = learning_rate(k, steps)
            for p in model.parameters():
                p.data -= lr * p.grad
            bar.set_postfix(loss=f"{loss.data:.4f}", accuracy=f"{accuracy:.0%}", refresh=False)
            if k % print_every == 0 or k == steps - 1:
                bar.write(f"step {k:3d}  loss {loss.data:.4f}  accuracy {accuracy:4.0%}")
    with no_grad():
        return loss_and_accuracy(model, X, y)[1]


def grid_lines(X: np.ndarray, step: float) -> list[tuple[float, float, int]]:
    """The picture's grid along each axis: (start, stop, number of lines), covering the
    points with a margin of 1, a line every `step` (as np.arange(start, stop, step))."""
    return [(low - 1, high + 1, math.ceil((high - low + 2) / step))
            for low, high in zip(X.min(axis=0), X.max(axis=0))]


def coarsest_step(X: np.ndarray, step: float) -> float:
    """A grid step of two significant digits, about the smallest giving at most
    MAX_GRID_POINTS: what to suggest when `step` gives more."""
    (_, _, nx), (_, _, ny) = grid_lines(X, step)
    step *= math.sqrt(nx * ny / MAX_GRID_POINTS)
    unit = 10.0 ** (math.floor(math.log10(step)) - 1)
    step = math.ceil(step / unit) * unit
    while math.prod(n for *_, n in grid_lines(X, step)) > MAX_GRID_POINTS:
        step += unit
    return step


def decision_boundary(model: MLP, X: np.ndarray, y: np.ndarray, accuracy: float, path: Path,
                      step: float) -> Path:
    """Colour a grid around the points by the sign of the model's score; draw the points."""
    (x0, x1, _), (y0, y1, _) = grid_lines(X, step)
    xx, yy = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    with no_grad():  # thousands of forward passes: no graph needed, so none is built
        scores = [model(point).data for point in np.c_[xx.ravel(), yy.ravel()].tolist()]
    positive = (np.array(scores) > 0).reshape(xx.shape)

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.contourf(xx, yy, positive, levels=[-0.5, 0.5, 1.5], colors=["#f4b6b6", "#b6cdf4"],
                alpha=0.8)
    for label, colour, name in ((-1, "#c0392b", "moon y = -1"), (1, "#1f4e9e", "moon y = +1")):
        ax.scatter(*X[y == label].T, c=colour, s=25, edgecolors="white", linewidths=0.6,
                   label=name)
    ax.set(xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max()), xlabel="$x_1$",
           ylabel="$x_2$",
           title=f"Scalar MLP 2-16-16-1 on two moons: {accuracy:.0%} of training points right")
    ax.legend(loc="upper right", framealpha=0.9)
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = demo_parser("moons", __doc__)
    parser.add_argument("--steps", type=number(int, 1, 10_000), default=100,
                        help="training steps (default: 100)")
    parser.add_argument("--samples", type=number(int, 2, 1000), default=100,
                        help="points in the two-moons set, at least one per moon (default: 100)")
    parser.add_argument("--noise", type=number(float, 0, 1), default=0.1,
                        help="standard deviation of the points' noise, at most 1: beyond it "
                             "the moons are one cloud (default: 0.1)")
    add_seed_argument(parser, 0, "the data and the initial weights")
    parser.add_argument("--grid-step", type=number(float, 0, 1, inclusive=False), default=0.05,
                        help="spacing of the grid the picture evaluates, at most 1; the grid "
                             f"may have {MAX_GRID_POINTS:,} points (default: 0.05)")
    parser.add_argument("--print-every", type=number(int, 1, 10_000), default=10,
                        help="print the loss every this many steps (default: 10)")
    parser.add_argument("--out", default="out", help="folder for moons.png (default: out)")
    args = parser.parse_args(argv)
    require(parser, "tqdm", "matplotlib")
    X, labels = make_moons(args.samples, noise=args.noise, seed=args.seed)
    (_, _, nx), (_, _, ny) = grid_lines(X, args.grid_step)
    if nx * ny > MAX_GRID_POINTS:  # said before the training, not after it
        parser.error(f"--grid-step {args.grid_step:g}: the picture would evaluate the model at "
                     f"{nx * ny:,} points ({nx} x {ny}); at most {MAX_GRID_POINTS:,}: give "
                     f"--grid-step {coarsest_step(X, args.grid_step):g} or more")
    out = output_folder(parser, args.out)

    y = 2 * labels - 1  # the hinge loss wants -1/+1
    random.seed(args.seed)  # nn.scalar draws initial weights from Python's random
    model = MLP(2, [16, 16, 1])
    print(f"MLP 2-16-16-1 on Values: {len(model.parameters())} parameters, {len(X)} points")

    start = time.perf_counter()
    accuracy = train(model, X, y, args.steps, args.print_every)
    print(f"final training accuracy {accuracy:.0%} after {args.steps} steps "
          f"({time.perf_counter() - start:.1f} s)")
    print(f"wrote {decision_boundary(model, X, y, accuracy, out / 'moons.png', args.grid_step)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
