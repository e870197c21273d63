"""RMSprop and Adagrad, as torch.optim's: steps scaled by each entry's own running size of
gradient (an exponential average of g^2 for RMSprop, the sum of all g^2 for Adagrad)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from engine.tensor import Tensor
from nn.optim.optimizer import (Optimizer, buffer, check, count_step, lerp_,
                                refuse_differentiable)


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop.

    g = grad + weight_decay * p (-grad with maximize); v = alpha v + (1 - alpha) g^2;
    a = sqrt(v) + eps, or, centered, sqrt(v - m^2) + eps with m = alpha m + (1 - alpha) g;
    p -= lr * g / a, or with momentum, b = momentum * b + g / a and p -= lr * b.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _check_group(self, group: dict) -> None:
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check(name, group[name])

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        alpha, weight_decay = group["alpha"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        count_step(state)
        if weight_decay:
            grad = grad + weight_decay * param
        square_avg = buffer(state, "square_avg", param)
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = buffer(state, "grad_avg", param)
            lerp_(grad_avg, grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = buffer(state, "momentum_buffer", param)
            buf *= group["momentum"]
            buf += grad / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * grad / avg


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad.

    g = grad + weight_decay * p (-grad with maximize); s += g^2 (s starts at
    initial_accumulator_value); after t steps p -= lr / (1 + (t - 1) lr_decay) * g /
    (sqrt(s) + eps).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))

    def _check_group(self, group: dict) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check(name, group[name])

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        step = count_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        if "sum" not in state:
            state["sum"] = Tensor(np.full_like(param, group["initial_accumulator_value"]))
        total = state["sum"]._data
        total += grad * grad
        param -= group["lr"] / (1 + (step - 1) * group["lr_decay"]) * grad / (
            np.sqrt(total) + group["eps"])
