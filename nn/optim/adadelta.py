"""Adadelta, as torch.optim.Adadelta: steps sized by the ratio of running averages of past
squared updates and past squared gradients, so no hand-tuned learning rate is needed."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from nn.optim.optimizer import Optimizer, buffer, check, count_step, refuse_differentiable


class Adadelta(Optimizer):
    """Adadelta, as torch.optim.Adadelta.

    g = grad + weight_decay * p (-grad with maximize); v = rho v + (1 - rho) g^2;
    delta = sqrt(u + eps) / sqrt(v + eps) * g; u = rho u + (1 - rho) delta^2;
    p -= lr * delta.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _check_group(self, group: dict) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check(name, group[name])
        if check("rho", group["rho"]) > 1:
            raise ValueError(f"rho must be in [0, 1], got {group['rho']!r}")

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        rho = group["rho"]
        count_step(state)
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = buffer(state, "square_avg", param)
        acc_delta = buffer(state, "acc_delta", param)
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = np.sqrt(acc_delta + group["eps"]) / np.sqrt(square_avg + group["eps"]) * grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param -= group["lr"] * delta
