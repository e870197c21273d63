"""The example graphs that `python -m viz` and `python -m demos.graph` draw, built once here.

neuron: micrograd's neuron on Values, o = tanh(x1 w1 + x2 w2 + b), as its lecture builds it.
lesson: the backprop lesson's 784-50-1 model with MSE on Tensors, on digits the caller gives
    (demos.graph: real MNIST digits; `python -m viz`, which cannot load data: random ones).
demo_loss: micrograd's demo loss on Values, as large as the caller asks (bench.viz and
    bench.explore time pictures and pages of it; tests/test_explore.py checks a page of it).
neuron and lesson return their root after backward, so pictures show gradients, and the
parameters by name, so pictures colour them as parameters.
"""
from __future__ import annotations

import random

import numpy as np

from engine import Tensor, Value
from nn import manual
from viz.dot import keep_grads

RANKDIR = {"neuron": "LR", "lesson": "TB"}  # the lesson's graph is deep: it fits a page upright
HIDDEN = 50  # the lesson's nh


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


def lesson_weights(n_in: int, seed: int) -> dict[str, np.ndarray]:
    """The lesson's w1 (n_in, 50) and w2 (50, 1) standard normal, b1 and b2 zero; float32."""
    rng = np.random.default_rng(seed)
    return {"w1": rng.standard_normal((n_in, HIDDEN), dtype=np.float32),
            "b1": np.zeros(HIDDEN, np.float32),
            "w2": rng.standard_normal((HIDDEN, 1), dtype=np.float32),
            "b2": np.zeros(1, np.float32)}


def random_digits(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`rows` random 28x28 'digits' (pixels uniform in [0, 1)) and labels 0-9, float32."""
    rng = np.random.default_rng(seed)
    return (rng.random((rows, 784), dtype=np.float32),
            rng.integers(0, 10, rows).astype(np.float32))


def lesson(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[Tensor, dict[str, Tensor]]:
    """The lesson's loss on digits `x` (n, 784) against their labels `y` as numbers, after
    backward: nn.manual.forward (lin -> relu -> lin -> MSE), weights from `lesson_weights`.

    x requires grad, as in the lesson, which checks the input's gradient too.
    """
    params = {name: Tensor(a, requires_grad=True, label=name)
              for name, a in lesson_weights(x.shape[1], seed).items()}
    digits = Tensor(x, requires_grad=True, label="x")
    labels = Tensor(np.asarray(y, np.float32), label="y")
    steps = manual.forward(digits, labels, **params)  # the lesson's model, written once
    for name, step in steps.items():
        step.label = name
    # a picture shows every gradient, not only the leaves', and the graph it was computed on
    keep_grads(steps["loss"]).backward(retain_graph=True)
    return steps["loss"], params


def demo_loss(points: int, l2: bool = True, seed: int = 0) -> Value:
    """micrograd's demo loss: MLP(2, [16, 16, 1]), hinge loss over `points` points (+ L2)."""
    rng = random.Random(seed)
    sizes = [2, 16, 16, 1]
    layers = [[([Value(rng.uniform(-1, 1)) for _ in range(nin)], Value(0.0))
               for _ in range(nout)] for nin, nout in zip(sizes, sizes[1:])]
    params = [p for layer in layers for w, b in layer for p in (*w, b)]

    def model(x: list) -> Value:
        for k, layer in enumerate(layers):
            x = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = [v.relu() for v in x] if k < len(layers) - 1 else x
        return x[0]

    losses = [(1 + -rng.choice((-1, 1)) * model([rng.gauss(0, 1), rng.gauss(0, 1)])).relu()
              for _ in range(points)]
    data_loss = sum(losses) * (1.0 / points)
    return data_loss + 1e-4 * sum(p * p for p in params) if l2 else data_loss
