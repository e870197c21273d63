"""Tensor layers: Linear, the activations ReLU, Tanh and Sigmoid, and Sequential.

`Linear` keeps the lesson's layout: weight has shape (in_features, out_features) and the
layer computes `x @ weight + bias`. That is the transpose of torch.nn.Linear.weight
(copy PyTorch weights in with `.T`), and it saves a transpose node per layer.

Initial weights come from the engine's one numpy Generator, the one behind `engine.randn`;
`nn.manual_seed(n)` (which is `engine.manual_seed`) reseeds it, as `torch.manual_seed(n)`
does, so a run is repeatable.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from engine import Tensor
from engine.random import manual_seed, uniform_  # noqa: F401  (nn.manual_seed)
from engine.tensor import _as_tensor
from nn.module import Module


class Linear(Module):
    """x @ weight + bias, with weight (in_features, out_features) and bias (out_features,).

    Both start uniform in [-1/sqrt(in_features), 1/sqrt(in_features)]: PyTorch's default,
    Kaiming-uniform with a = sqrt(5).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = np.float32) -> None:
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Linear's {name} must be a positive int, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        bound = 1 / math.sqrt(in_features)
        self.weight = Tensor(uniform_(np.empty((in_features, out_features), dtype), -bound, bound),
                             requires_grad=True, label="weight")
        self.bias = (Tensor(uniform_(np.empty(out_features, dtype), -bound, bound),
                            requires_grad=True, label="bias") if bias else None)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self!r} takes inputs of shape (..., {self.in_features}), "
                             f"got {tuple(x.shape)}")
        out = x @ self.weight
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).relu()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).tanh()


class Sigmoid(Module):
    """1 / (1 + e**-x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).sigmoid()


class Sequential(Module):
    """Modules applied in order; indexable, iterable, and named `0`, `1`, ... as in PyTorch."""

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules; argument {i} is a "
                                f"{type(m).__name__} (for a function, wrap it in a Module)")
        self.layers = list(modules)
        # Label the weights `0.weight`, `2.bias`, ... once, here, for graph pictures. A label
        # the user chose stays, and so does a longer name that an enclosing Sequential gives
        # later (built after this one, it relabels `0.weight` as `1.0.weight`).
        for name, node in self._named_state():
            if not node.label or name.endswith("." + node.label):
                node.label = name

    def _members(self) -> Iterator[tuple[str, Any]]:
        return ((str(i), m) for i, m in enumerate(self.layers))

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        return Sequential(*self.layers[index]) if isinstance(index, slice) else self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)
