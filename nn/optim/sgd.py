"""SGD, as torch.optim.SGD: momentum, dampening, Nesterov, weight decay, maximize."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from engine.tensor import Tensor
from nn.optim.optimizer import Optimizer, check, refuse_differentiable


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD.

    g = grad + weight_decay * p (-grad with maximize); with momentum, b = g on the first
    step, then b = momentum * b + (1 - dampening) * g, and g = g + momentum * b (Nesterov)
    or b; finally p -= lr * g.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _check_group(self, group: dict) -> None:
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check(name, group[name])
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay:
            grad = grad + weight_decay * param
        if momentum:
            if state.get("momentum_buffer") is None:  # the first step takes g as it is
                state["momentum_buffer"] = Tensor(np.array(grad, param.dtype))
                buf = state["momentum_buffer"]._data
            else:
                buf = state["momentum_buffer"]._data
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= group["lr"] * grad
