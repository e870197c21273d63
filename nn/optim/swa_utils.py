"""Averaged weights, as torch.optim.swa_utils: AveragedModel keeps a copy of a model whose
parameters are the running average of the model's (stochastic weight averaging) or, with
get_ema_multi_avg_fn / get_ema_avg_fn, their exponential moving average (an EMA of the
weights, as diffusion models and many GPT trainers keep); SWALR anneals each group's lr to
a constant swa_lr; update_bn recomputes BatchNorm's running statistics for the averaged
weights with one pass over the data. The averages are PyTorch's formulas in its order."""
from __future__ import annotations

import copy
import itertools
import math
from typing import Any, Callable, Iterable

from engine.grad_mode import no_grad
from engine.tensor import Tensor
from nn.module import Module
from nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from nn.optim.lr_scheduler import LRScheduler, _per_group
from nn.optim.optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]

Params = list  # tensors, one per parameter (and buffer, with use_buffers)


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[Params, Params, Any], None]:
    """An update of every averaged tensor at once: ema += (1 - decay) (current - ema)."""
    _check_decay(decay)

    def ema_update(ema: Params, current: Params, num_averaged: Any) -> None:
        with no_grad():
            for e, c in zip(ema, current, strict=True):
                if e.is_floating_point():
                    e.lerp_(c, 1 - decay)
                else:
                    e.copy_(e * decay + c * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn() -> Callable[[Params, Params, Any], None]:
    """An update of every averaged tensor at once: avg += (current - avg) / (n + 1)."""
    def swa_update(averaged: Params, current: Params, num_averaged: Any) -> None:
        with no_grad():
            for a, c in zip(averaged, current, strict=True):
                if a.is_floating_point():
                    a.lerp_(c, 1 / (num_averaged + 1))
                else:
                    a.add_((c - a) / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """decay ema + (1 - decay) current, one tensor at a time."""
    _check_decay(decay)

    def ema_update(ema: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema + (1 - decay) * current
    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """avg + (current - avg) / (n + 1), one tensor at a time (AveragedModel's default)."""
    def swa_update(averaged: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return averaged + (current - averaged) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose update_parameters(model) averages model's parameters into it
    (and buffers too with use_buffers; otherwise they are copied). The first update copies
    them; after, avg_fn(avg, current, n) one tensor at a time or multi_avg_fn(avgs,
    currents, n) on all, by default the running mean; n_averaged counts the updates."""

    def __init__(self, model: Module, device: Any = None,
                 avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
                 multi_avg_fn: Callable[[Params, Params, Any], None] | None = None,
                 use_buffers: bool = False) -> None:
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor(0, dtype="int64"))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        if self.use_buffers:
            ours = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            ours, theirs = list(self.parameters()), list(model.parameters())
        ours = [p.detach() for p in ours]
        theirs = [p.detach() for p in theirs[:len(ours)]]
        n = self.n_averaged
        if int(n) == 0:
            for a, c in zip(ours, theirs):
                a.copy_(c)
        elif self.avg_fn is not None:
            for a, c in zip(ours, theirs):
                a.copy_(self.avg_fn(a, c, n))
        elif self.multi_avg_fn is not None:
            self.multi_avg_fn(ours, theirs, n)
        else:  # (PyTorch's CPU path: one tensor at a time)
            average = get_swa_avg_fn()
            for a, c in zip(ours, theirs):
                a.copy_(average(a, c, n))
        if not self.use_buffers:
            for a, c in zip(self.module.buffers(), model.buffers(), strict=True):
                a.detach().copy_(c.detach())
        self.n_averaged += 1


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """BatchNorm's running statistics recomputed from one pass over `loader` (each batch,
    or its first item), as the plain average over batches; the model's mode is kept."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, (BatchNorm1d, BatchNorm2d, BatchNorm3d)):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            model(input if device is None else input.to(device))
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Each group's lr annealed from where it is to swa_lr over anneal_epochs ('cos' or
    'linear'), then held there, as PyTorch's (stepped once per epoch of SWA)."""

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float],
                 anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        for group, lr in zip(optimizer.param_groups, _per_group("swa_lr", optimizer, swa_lr)):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self._anneal_strategy, self.anneal_epochs = anneal_strategy, anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t: float) -> float:
        return t if self._anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # the lr the annealing started from, recovered from the current one (chainable)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        starts = [group["swa_lr"] if prev_alpha == 1 else
                  (group["lr"] - prev_alpha * group["swa_lr"]) / (1 - prev_alpha)
                  for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, starts)]
