"""micrograd's neural net on scalar Values: Neuron, Layer, MLP.

Weights start uniform in [-1, 1] and biases at 0, drawn from Python's `random`, as in
micrograd, so `random.seed(n)` makes a run repeatable. Parameters come out in
micrograd's order: each neuron's weights, then its bias, layer by layer.
"""
from __future__ import annotations

import random
from typing import Sequence, Union

from engine import Value
from nn.module import Module

Scalar = Union[Value, float, int]


class _ScalarModule(Module):
    """A Module whose parameters() is a list, as micrograd's (`len(model.parameters())`)."""

    def parameters(self, recurse: bool = True) -> list[Value]:  # type: ignore[override]
        return list(super().parameters(recurse))


class Neuron(_ScalarModule):
    """One unit: relu(w . x + b), or just w . x + b when `nonlin=False`."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def forward(self, x: Sequence[Scalar]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} takes {len(self.w)} inputs, got {len(x)}")
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(_ScalarModule):
    """`nout` neurons reading the same inputs; returns one Value when nout == 1, else a list."""

    def __init__(self, nin: int, nout: int, nonlin: bool = True) -> None:
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def forward(self, x: Sequence[Scalar]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(map(repr, self.neurons))}]"


class MLP(_ScalarModule):
    """Layers of sizes `nouts` after `nin` inputs; ReLU between them, linear at the end."""

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        sizes = [nin, *nouts]
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def forward(self, x: Sequence[Scalar]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(map(repr, self.layers))}]"
