"""Adam and AdamW, as torch.optim's: bias-corrected moment estimates, L2 weight decay
added to the gradient (Adam) or decoupled from it (AdamW), optional AMSGrad."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from nn.optim.optimizer import (Optimizer, buffer, check, count_step, lerp_, pair,
                                refuse_differentiable)


def check_betas(group: dict) -> None:
    """Refuse a group's betas unless a pair of numbers in [0, 1); store them as floats."""
    betas = pair("betas", group["betas"], "(beta1, beta2) such as (0.9, 0.999)")
    group["betas"] = (check("betas[0]", betas[0], high=1.0), check("betas[1]", betas[1], high=1.0))


class Adam(Optimizer):
    """Adam, as torch.optim.Adam.

    m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, then after t steps
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps) (with AMSGrad, v's largest
    value so far in place of v). Weight decay adds weight_decay * p to g; with
    decoupled_weight_decay (AdamW) it shrinks p by lr * weight_decay * p instead.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused, decoupled_weight_decay=decoupled_weight_decay))

    def _check_group(self, group: dict) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check(name, group[name])
        check_betas(group)

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        t = count_step(state)
        if weight_decay:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        m, v = buffer(state, "exp_avg", param), buffer(state, "exp_avg_sq", param)
        lerp_(m, grad, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            v = np.maximum(buffer(state, "max_exp_avg_sq", param), v,
                           out=state["max_exp_avg_sq"]._data)
        bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5
        param += -lr / (1 - beta1 ** t) * m / (np.sqrt(v) / bias_correction2_sqrt + group["eps"])


class AdamW(Adam):
    """Adam with decoupled weight decay (weight_decay 0.01 by default), as torch.optim.AdamW:
    each step first shrinks p by lr * weight_decay * p."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
