"""Adamax, NAdam and RAdam, as torch.optim's: Adam's moment estimates with an infinity norm
in place of the second moment (Adamax), a Nesterov look-ahead on the first moment (NAdam),
or the second moment's variance rectified while it is unreliable (RAdam)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from nn.optim.adam import check_betas
from nn.optim.optimizer import (Optimizer, buffer, check, count_step, lerp_,
                                refuse_differentiable, scalar)


def _decayed(group: dict, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The gradient (negated with maximize) after the group's weight decay: added to it as
    weight_decay * p, or, decoupled, p shrunk by lr * weight_decay instead."""
    if group["maximize"]:
        grad = -grad
    weight_decay = group["weight_decay"]
    if weight_decay:
        if group.get("decoupled_weight_decay"):
            param *= 1 - group["lr"] * weight_decay
        else:
            grad = grad + weight_decay * param
    return grad


def _moments(group: dict, param: np.ndarray, grad: np.ndarray,
             state: dict) -> tuple[np.ndarray, np.ndarray]:
    """Adam's exp_avg and exp_avg_sq, updated with this gradient."""
    beta1, beta2 = group["betas"]
    exp_avg, exp_avg_sq = buffer(state, "exp_avg", param), buffer(state, "exp_avg_sq", param)
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    return exp_avg, exp_avg_sq


class _AdamFamily(Optimizer):
    """What the three share: lr, betas, eps and weight_decay checked as Adam's."""

    def _check_group(self, group: dict) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check(name, group[name])
        check_betas(group)


class Adamax(_AdamFamily):
    """Adamax, as torch.optim.Adamax.

    g = grad + weight_decay * p (-grad with maximize); m = b1 m + (1 - b1) g;
    u = max(b2 u, |g| + eps); after t steps p -= lr / (1 - b1^t) * m / u.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        beta1, beta2 = group["betas"]
        step = count_step(state)
        grad = _decayed(group, param, grad)
        exp_avg, exp_inf = buffer(state, "exp_avg", param), buffer(state, "exp_inf", param)
        lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + group["eps"], out=exp_inf)
        param += -(group["lr"] / (1 - beta1 ** step)) * exp_avg / exp_inf


class NAdam(_AdamFamily):
    """NAdam, as torch.optim.NAdam.

    Adam's m and v (weight decay added to g, or decoupled as AdamW's); with the momentum
    schedule mu_t = b1 (1 - 0.96^(t psi) / 2) (psi = momentum_decay) and P_t = mu_1 ... mu_t,
    p -= lr (1 - mu_t) / (1 - P_t) g / d + lr mu_{t+1} / (1 - P_t mu_{t+1}) m / d, with
    d = sqrt(v / (1 - b2^t)) + eps.
    """

    _scalar_state = ("mu_product",)

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        check("momentum_decay", group["momentum_decay"])

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        beta1, beta2 = group["betas"]
        lr, momentum_decay = group["lr"], group["momentum_decay"]
        step = count_step(state)
        mu_product = scalar(state, "mu_product", 1.0)
        grad = _decayed(group, param, grad)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mu_product *= mu  # in its own dtype, as torch's 0-d tensor
        exp_avg, exp_avg_sq = _moments(group, param, grad, state)
        denom = np.sqrt(exp_avg_sq / (1 - beta2 ** step))
        denom += group["eps"]
        product = float(mu_product)
        param += -lr * (1.0 - mu) / (1.0 - product) * grad / denom
        param += -lr * mu_next / (1.0 - product * mu_next) * exp_avg / denom


class RAdam(_AdamFamily):
    """RAdam, as torch.optim.RAdam.

    Adam's m and v (weight decay added to g, or decoupled as AdamW's); with
    rho_inf = 2 / (1 - b2) - 1 and rho_t = rho_inf - 2 t b2^t / (1 - b2^t), while
    rho_t <= 5 p -= lr m / (1 - b1^t) (plain momentum), after that
    p -= lr m / (1 - b1^t) * sqrt(1 - b2^t) / (sqrt(v) + eps) * r_t, with the rectification
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        step = count_step(state)
        grad = _decayed(group, param, grad)
        exp_avg, exp_avg_sq = _moments(group, param, grad, state)
        bias_correction2 = 1 - beta2 ** step
        corrected = exp_avg / (1 - beta1 ** step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # torch's scalar / tensor is tensor.reciprocal() * scalar
            adaptive_lr = 1 / (np.sqrt(exp_avg_sq) + group["eps"]) * bias_correction2 ** 0.5
            param -= corrected * lr * adaptive_lr * rect
        else:
            param -= corrected * lr
