"""ASGD, as torch.optim.ASGD: SGD with a decaying step size and a running average of the
parameters (in the state's "ax"), which starts averaging after t0 steps."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from nn.optim.optimizer import (Optimizer, buffer, check, count_step, refuse_differentiable,
                                scalar)


class ASGD(Optimizer):
    """Averaged stochastic gradient descent, as torch.optim.ASGD.

    g = grad + weight_decay * p (-grad with maximize); p = p (1 - lambd eta) - eta g; the
    average ax = ax + mu (p - ax) (ax = p while mu is 1); then, after t steps,
    eta = lr / (1 + lambd lr t)^alpha and mu = 1 / max(1, t - t0).
    """

    _scalar_state = ("eta", "mu")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _check_group(self, group: dict) -> None:
        for name in ("lr", "weight_decay"):
            check(name, group[name])
        for name in ("lambd", "alpha", "t0"):  # any number, as torch.optim takes
            check(name, group[name], -np.inf)

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        lr, lambd = group["lr"], group["lambd"]
        if group["maximize"]:
            grad = -grad
        step = count_step(state)
        eta, mu = scalar(state, "eta", lr), scalar(state, "mu", 1.0)
        ax = buffer(state, "ax", param)
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        eta_value = float(eta)
        param *= 1 - lambd * eta_value
        param += -eta_value * grad
        if float(mu) != 1:
            ax += (param - ax) * mu.astype(param.dtype)
        else:
            ax[...] = param
        eta[...] = lr / ((1 + lambd * lr * step) ** group["alpha"])
        mu[...] = 1 / max(1, step - group["t0"])
