"""The lesson's backprop by hand: lin -> relu -> lin -> MSE and its gradients, no autograd.

This is fast.ai's 03_backprop notebook in plain numpy, to read beside it. The notebook
stores each gradient on its tensor as `t.g`; numpy arrays cannot carry attributes, so
here the gradient functions return them, `forward_and_backward` hands back a dict, and
the Module classes keep the input's gradient as their `backward()` result and a layer's
weight gradients on the layer (`w_g`, `b_g`, for the notebook's `w.g`, `b.g`).

Shapes: x (n, m), w1 (m, h), b1 (h,), w2 (h, 1), b2 (1,), y (n,) float targets. Every
function keeps its inputs' dtype (float32 in, float32 out). Nothing here imports the
engine: this is the computation autograd has to reproduce.

`forward` is the one home of the lesson's model: it runs on numpy arrays and on autograd
tensors (engine.Tensor, torch.Tensor) alike, so the hand-derived gradients below, the
demos, the pictures (viz.examples) and the benchmark (bench.lesson) compute the very same
thing; on a tensor, relu is the tensor's own, whose gradient at 0 is relu_grad's: none.
"""
from __future__ import annotations

from typing import Any

import numpy as np

Grads = dict[str, np.ndarray]


def lin(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A linear layer: x @ w + b."""
    return x @ w + b


def relu(x: Any) -> Any:
    """max(x, 0), the notebook's x.clamp_min(0.); an autograd tensor's own relu on a tensor
    (numpy's maximum would leave its graph)."""
    return np.maximum(x, 0) if isinstance(x, np.ndarray) else x.relu()


def mse(output: Any, targ: Any) -> Any:
    """Mean squared error of a (n, 1) output against (n,) targets."""
    # (targ - out)**2 is the lesson's (out - targ)**2 to the bit; written this way round, a
    # constant targ stays one leaf of an autograd graph rather than becoming a "-targ" node
    return ((targ - output[:, 0]) ** 2).mean()


def forward(x: Any, y: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> dict[str, Any]:
    """The lesson's model and loss, lin -> relu -> lin -> MSE against y, on numpy arrays or
    autograd tensors: every step by name, l1, l2, out and loss (the backward pass reads them)."""
    l1 = lin(x, w1, b1)
    l2 = relu(l1)
    out = lin(l2, w2, b2)
    return {"l1": l1, "l2": l2, "out": out, "loss": mse(out, y)}


def lin_grad(inp: np.ndarray, out_g: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """For out = inp @ w + b and out_g = d loss / d out: the gradients (inp_g, w_g, b_g).

    Each output row is a sum over inp's row times w, so inp_g = out_g @ w.T; w collects
    every row's outer product, inp.T @ out_g; b was added to every row, so b_g sums out_g.
    """
    return out_g @ w.T, inp.T @ out_g, out_g.sum(0)


def relu_grad(inp: np.ndarray, out_g: np.ndarray) -> np.ndarray:
    """For out = relu(inp): inp_g = out_g where inp > 0, else 0."""
    return out_g * (inp > 0)


def forward_and_backward(x: np.ndarray, y: np.ndarray, w1: np.ndarray, b1: np.ndarray,
                         w2: np.ndarray, b2: np.ndarray) -> tuple[np.floating, Grads]:
    """The loss of lin -> relu -> lin against y, and its gradient for w1 b1 w2 b2 and x."""
    steps = forward(x, y, w1, b1, w2, b2)

    # backward pass: the mean of (out - y)**2 sends 2 (out - y) / n to each output
    out_g = 2.0 * (steps["out"][:, 0] - y)[:, None] / x.shape[0]
    l2_g, w2_g, b2_g = lin_grad(steps["l2"], out_g, w2)
    l1_g = relu_grad(steps["l1"], l2_g)
    x_g, w1_g, b1_g = lin_grad(x, l1_g, w1)
    return steps["loss"], {"w1": w1_g, "b1": b1_g, "w2": w2_g, "b2": b2_g, "x": x_g}


class Module:
    """The notebook's layer base class (not `nn.Module`): remember the inputs, run `bwd` later.

    A subclass defines `forward(*args)` and `bwd(out_g, *args)`. `__call__` stores the
    arguments and the output; `backward(out_g)` passes the gradient of the output to
    `bwd`, which returns the gradient of the first argument.
    """

    def __call__(self, *args: np.ndarray) -> Any:
        self.args = args
        self.out = self.forward(*args)
        return self.out

    def backward(self, out_g: Any = 1.0) -> np.ndarray:
        """d loss / d (first input), given d loss / d output (1 for the loss itself)."""
        return self.bwd(out_g, *self.args)


class ReLU(Module):
    def forward(self, inp: np.ndarray) -> np.ndarray:
        return relu(inp)

    def bwd(self, out_g: np.ndarray, inp: np.ndarray) -> np.ndarray:
        return relu_grad(inp, out_g)


class Linear(Module):
    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.w, self.b = w, b

    def forward(self, inp: np.ndarray) -> np.ndarray:
        return lin(inp, self.w, self.b)

    def bwd(self, out_g: np.ndarray, inp: np.ndarray) -> np.ndarray:
        inp_g, self.w_g, self.b_g = lin_grad(inp, out_g, self.w)
        return inp_g


class MSE(Module):
    def forward(self, inp: np.ndarray, targ: np.ndarray) -> np.ndarray:
        return mse(inp, targ)

    def bwd(self, out_g: Any, inp: np.ndarray, targ: np.ndarray) -> np.ndarray:
        return out_g * 2.0 * (inp[:, 0] - targ)[:, None] / targ.shape[0]


class Model(Module):
    """The lesson's model of the Modules above: `loss = model(x, y)`, `model.backward()`."""

    def __init__(self, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> None:
        self.layers = [Linear(w1, b1), ReLU(), Linear(w2, b2)]
        self.loss = MSE()

    def forward(self, x: np.ndarray, targ: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer(x)
        return self.loss(x, targ)

    def backward(self) -> Grads:  # type: ignore[override]
        """Run every layer's backward, last first; the same dict as forward_and_backward."""
        g = self.loss.backward()
        for layer in reversed(self.layers):
            g = layer.backward(g)
        first, _, last = self.layers
        return {"w1": first.w_g, "b1": first.b_g, "w2": last.w_g, "b2": last.b_g, "x": g}
