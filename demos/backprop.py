"""The backprop lesson, step by step, on real MNIST digits: three ways to the same gradients.

    python -m demos.backprop                  all the training digits found
    python -m demos.backprop --limit 1000     a quick run on 1,000 of them

It retraces fast.ai's 03_backprop notebook: a 784-50-1 MLP (lin -> relu -> lin) that
predicts the digit as a number, with mean squared error against the float labels. Its
gradients for w1, b1, w2, b2 and the input x are computed

  1. by hand: the chain rule written out in numpy (nn.manual.forward_and_backward);
  2. by the notebook's refactor into layers that each know their backward (nn.manual.Model);
  3. by autograd: the same forward pass (nn.manual.forward) on engine.Tensor, then
     loss.backward();
  4. by PyTorch's autograd on that forward pass too, when PyTorch is installed.

A table gives the largest absolute difference of each gradient from engine.Tensor's, with
a pass when it is below the notebook's tolerance: fastcore's test_close(a, b, eps=0.01),
which checks |a - b| < 0.01 elementwise. The exit code is 1 when any check fails.
Weights are standard normal, biases zero, as in the notebook, so the numbers are large.
It writes out/backprop_lesson.html, a page that steps through this model's forward and
backward passes on a few of the digits, node by node (open it in a browser);
`python -m demos.graph --example lesson` draws the same graph as a picture.
"""
from __future__ import annotations

import importlib.util
import sys
import time
from typing import Callable

import numpy as np

import viz
from demos._common import (add_data_arguments, add_seed_argument, demo_parser, load_data,
                           number, output_folder)
from engine import Tensor
from nn import manual
from viz import examples
from viz.examples import lesson_weights

EPS = 0.01  # the notebook's test_close(..., eps=0.01)
PAGE_DIGITS = 4  # the stepping page shows the model on this many digits: a batch is a node
NAMES = ("w1", "b1", "w2", "b2", "x")  # the order of forward_and_backward's arguments


def module_refactor(arrays: dict[str, np.ndarray], y: np.ndarray) -> tuple[float, dict]:
    """Loss and gradients from the notebook's Module classes: model(x, y), model.backward()."""
    model = manual.Model(*(arrays[name] for name in NAMES[:4]))
    loss = model(arrays["x"], y)
    return float(loss), model.backward()


def by_hand(arrays: dict[str, np.ndarray], y: np.ndarray) -> tuple[float, dict]:
    """Loss and gradients from the hand-derived forward_and_backward."""
    loss, grads = manual.forward_and_backward(arrays["x"], y, *(arrays[n] for n in NAMES[:4]))
    return float(loss), grads


def engine_autograd(arrays: dict[str, np.ndarray], y: np.ndarray) -> tuple[float, dict]:
    """Loss and gradients from engine.Tensor: wrap each array, run forward, backward()."""
    leaves = {name: Tensor(arrays[name], requires_grad=True, label=name) for name in NAMES}
    loss = manual.forward(y=Tensor(y), **leaves)["loss"]
    loss.backward()
    return loss.item(), {name: np.asarray(t.grad) for name, t in leaves.items()}


def torch_autograd(arrays: dict[str, np.ndarray], y: np.ndarray) -> tuple[float, dict]:
    """Loss and gradients from PyTorch, on copies of the same float32 arrays."""
    import torch

    leaves = {name: torch.tensor(arrays[name], requires_grad=True) for name in NAMES}
    loss = manual.forward(y=torch.tensor(y), **leaves)["loss"]  # the same function, on torch
    loss.backward()
    return loss.item(), {name: t.grad.numpy() for name, t in leaves.items()}


def lesson_warmup(x: np.ndarray, y: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
    """The notebook's first cells: one layer, relu, the whole model and its loss."""
    steps = manual.forward(x, y, *(arrays[name] for name in NAMES[:4]))
    t = steps["l1"]
    print(f"lin(x, w1, b1): {t.shape}, mean {t.mean():.2f}, std {t.std():.2f}")
    t = steps["l2"]
    print(f"relu(...): {t.shape}, mean {t.mean():.2f}, std {t.std():.2f}, "
          f"{(t == 0).mean():.0%} zeros")
    print(f"model(x) = lin(relu(lin(x, w1, b1)), w2, b2): {steps['out'].shape}; "
          f"mse(model(x), y) = {steps['loss']:.1f}")


def compare(results: dict[str, dict], reference: str) -> bool:
    """Print the table of max |gradient - reference gradient|; True when every check passes."""
    ref = results[reference]
    others = [name for name in results if name != reference]
    width = max(16, *map(len, others))
    print(f"\nmax |difference| from {reference}'s gradients "
          f"(pass: < {EPS:g}, the notebook's test_close eps)")
    print(f"{'grad':<5}{'shape':<13}{'max |grad|':>11}"
          + "".join(f"{name:>{width + 2}}" for name in others))
    ok = True
    for grad in NAMES:
        cells = []
        for name in others:
            diff = float(np.abs(results[name][grad] - ref[grad]).max())
            passed = diff < EPS
            ok &= passed
            cells.append(f"{diff:.2e} {'pass' if passed else 'FAIL'}")
        shape, size = str(ref[grad].shape), float(np.abs(ref[grad]).max())
        print(f"{grad:<5}{shape:<13}{size:>11.3g}" + "".join(f"{c:>{width + 2}}" for c in cells))
    print("all gradients agree" if ok else "SOME GRADIENTS DISAGREE")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = demo_parser("backprop", __doc__)
    add_data_arguments(parser)
    parser.add_argument("--limit", type=number(int, 1, 1_000_000), default=None,
                        help="use only the first N training digits (the lesson uses all "
                             "50,000 of its pickle)")
    add_seed_argument(parser, 42, "the weights")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--out", default="out",
                        help="folder for backprop_lesson.html (default: out)")
    args = parser.parse_args(argv)
    out = output_folder(parser, args.out)

    mnist = load_data(parser, args)
    x = mnist[0][:args.limit]
    y = mnist[1][:args.limit].astype(np.float32)  # the digit as a number to regress on
    print(f"x: {x.shape} {x.dtype}, y: {y.shape} {y.dtype} "
          f"(labels as floats, {y.min():g} to {y.max():g})")

    arrays = {**lesson_weights(x.shape[1], args.seed), "x": x}
    lesson_warmup(x, y, arrays)

    ways: dict[str, Callable] = {"forward_and_backward": by_hand, "Model.backward": module_refactor,
                                 "engine.Tensor": engine_autograd}
    if args.no_torch:
        print("PyTorch left out (--no-torch)")
    elif importlib.util.find_spec("torch") is not None:
        ways["PyTorch"] = torch_autograd
    else:
        print("PyTorch is not installed: comparing without it")
    results = {}
    for name, way in ways.items():
        start = time.perf_counter()
        loss, results[name] = way(arrays, y)
        print(f"{name:<21} loss {loss:.4f}  ({time.perf_counter() - start:.2f} s)")
    agree = compare(results, "engine.Tensor")
    loss, params = examples.lesson(x[:PAGE_DIGITS], y[:PAGE_DIGITS], args.seed)
    page = out / "backprop_lesson.html"
    viz.explore(loss, page, rankdir="TB", params=params,
                title=f"the lesson's model on {min(PAGE_DIGITS, len(x))} digits: backprop, "
                      "node by node")
    print(f"wrote {page}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
