"""Rprop, as torch.optim.Rprop: each entry moves by its own step size in the direction
against its gradient's sign, the size growing while the sign holds and shrinking when it
flips."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from engine.elementwise import _sign
from engine.tensor import Tensor
from nn.optim.optimizer import Optimizer, buffer, check, count_step, pair, refuse_differentiable


class Rprop(Optimizer):
    """Rprop (resilient backpropagation), as torch.optim.Rprop.

    g = grad (-grad with maximize); each entry's step size (lr at first) is multiplied by
    etas[1] where g agrees in sign with the previous step's g, by etas[0] where it flips
    (and that entry's g counts as 0 this step), and clamped to step_sizes; then
    p -= sign(g) * step size.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        refuse_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _check_group(self, group: dict) -> None:
        check("lr", group["lr"])
        etas = pair("etas", group["etas"], "(etaminus, etaplus) such as (0.5, 1.2)")
        minus, plus = (check(f"etas[{i}]", eta, -np.inf) for i, eta in enumerate(etas))
        if not 0 < minus < 1 < plus:
            raise ValueError(f"etas must satisfy 0 < etaminus < 1 < etaplus, got {etas!r}")
        sizes = pair("step_sizes", group["step_sizes"], "(min, max) such as (1e-6, 50)")
        for i, size in enumerate(sizes):
            check(f"step_sizes[{i}]", size, -np.inf)

    def _update(self, group: dict, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        etaminus, etaplus = group["etas"]
        count_step(state)
        if group["maximize"]:
            grad = -grad
        prev = buffer(state, "prev", param)
        if "step_size" not in state:
            state["step_size"] = Tensor(np.full_like(param, group["lr"]))
        step_size = state["step_size"]._data
        agreement = grad * prev
        factor = np.where(agreement > 0, etaplus, np.where(agreement < 0, etaminus, 1))
        step_size *= factor.astype(param.dtype)
        np.clip(step_size, *group["step_sizes"], out=step_size)
        grad = np.where(agreement < 0, 0, grad).astype(param.dtype)
        param -= _sign(grad) * step_size  # (0 at nan, as torch.sign: numpy's is nan)
        prev[...] = grad
