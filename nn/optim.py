"""Optimizers: SGD (momentum, Nesterov, weight decay) and Adam, with torch.optim's formulas.

Each optimizer writes its rule once, as an in-place update of a numpy array of parameter
numbers from an array of their gradients. Tensor parameters are updated in place,
one array each, in their own dtype (float32 stays float32). Value parameters (a scalar
MLP's) are gathered into one float64 array per step, updated by the same rule and written
back, so micrograd-style models train with the same optimizers.

The updates touch `.data` arrays directly, never Tensor ops, so they record no graph and
need no `no_grad()`.
"""
from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from typing import Any, Iterable

import numpy as np

from engine.graph import Node
from engine.tensor import Tensor
from nn.module import Module


class Optimizer(ABC):
    """Base class: holds the parameters and their state; subclasses define `_update`."""

    def __init__(self, params: Iterable[Any]) -> None:
        if isinstance(params, (Node, Module, dict)):
            raise TypeError(f"{type(self).__name__} takes an iterable of parameters, e.g. "
                            f"model.parameters(), got a {type(params).__name__}")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        seen = set()
        for i, p in enumerate(self.params):
            if isinstance(p, dict):
                raise TypeError("parameter groups (dicts) are not supported; pass one "
                                "iterable of parameters and one set of hyperparameters")
            if not (isinstance(p, Node) and p.requires_grad):
                raise TypeError(f"parameter {i} is a {type(p).__name__}"
                                f"{' without requires_grad' if isinstance(p, Node) else ''}; "
                                "an optimizer updates Values and Tensors with requires_grad=True")
            if id(p) in seen:
                raise ValueError(f"parameter {i} appears twice; it would be updated twice a step")
            seen.add(id(p))
        self._tensors = [p for p in self.params if isinstance(p, Tensor)]
        self._values = [p for p in self.params if not isinstance(p, Tensor)]
        self._tensor_states: list[dict] = [{} for _ in self._tensors]
        self._value_state: dict = {}

    def step(self) -> None:
        """Update every parameter from its gradient; Tensors whose grad is None are skipped."""
        for p, state in zip(self._tensors, self._tensor_states):
            if p._grad is not None:
                self._update(p._data, p._grad._data, state)
        if self._values:
            data = np.array([p.data for p in self._values])
            self._update(data, np.array([p.grad for p in self._values]), self._value_state)
            for p, x in zip(self._values, data.tolist()):
                p.data = x

    def zero_grad(self) -> None:
        """Reset gradients: None for Tensors (as PyTorch's set_to_none), 0.0 for Values."""
        for p in self.params:
            p.zero_grad()

    @abstractmethod
    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        """Apply the rule to `param` in place; `state` is this array's own memory between steps."""


def _check(name: str, value: float, low: float = 0.0, high: float = math.inf) -> float:
    """A hyperparameter as float, or an error naming it and its allowed range."""
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r:.40}")
    if not low <= value < high:
        allowed = f">= {low:g}" if high == math.inf else f"in [{low:g}, {high:g})"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD.

    g = grad + weight_decay * p; with momentum, b = g on the first step, then
    b = momentum * b + (1 - dampening) * g, and g = g + momentum * b (Nesterov) or b;
    finally p -= lr * g.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params)
        self.lr = _check("lr", lr)
        self.momentum = _check("momentum", momentum)
        self.dampening = _check("dampening", dampening)
        self.weight_decay = _check("weight_decay", weight_decay)
        if nesterov and (momentum == 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        self.nesterov = nesterov

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param -= self.lr * grad


class Adam(Optimizer):
    """Adam, as torch.optim.Adam (L2 weight decay added to the gradient, not AdamW).

    m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, then after t steps
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params)
        self.lr = _check("lr", lr)
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got "
                            f"{type(betas).__name__} {betas!r:.40}")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got "
                             f"{len(betas)} value{'s' * (len(betas) != 1)}: {betas!r:.60}")
        self.betas = (_check("betas[0]", betas[0], high=1.0), _check("betas[1]", betas[1], high=1.0))
        self.eps = _check("eps", eps)
        self.weight_decay = _check("weight_decay", weight_decay)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        beta1, beta2 = self.betas
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        state["step"] += 1
        m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + self.eps
        param -= self.lr / (1 - beta1 ** t) * (m / denom)
