"""Mixed-precision training's loss scaler, as `torch.amp.GradScaler` (also reached as
`torch.cuda.amp.GradScaler`), and `torch.amp.autocast` (engine/autocast_mode.py).

A float16 gradient underflows to 0 below about 6e-8, so float16 training multiplies the loss
by a large `scale` before backward and divides the gradients by it before the step. A step
whose gradients hold inf or nan is skipped and the scale halved; after `growth_interval`
good steps in a row it doubles. Disabled (`enabled=False`, float32 training), every call is
a pass-through, which is how training scripts written for GPUs run here unchanged:

    scaler = torch.amp.GradScaler(enabled=(dtype == "float16"))
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)        # before clipping the gradients
    scaler.step(optimizer)
    scaler.update()
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.autocast_mode import autocast  # noqa: F401 (torch.amp.autocast)
from engine.tensor import Tensor


class GradScaler:
    """Scales the loss up for backward and the gradients down for the step, skipping steps
    whose gradients overflowed; a pass-through when not `enabled`."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if not (growth_factor > 1 and 0 < backoff_factor < 1):
            raise ValueError(f"GradScaler: growth_factor must be > 1 and backoff_factor in "
                             f"(0, 1), got {growth_factor} and {backoff_factor}")
        self._enabled = bool(enabled)
        self._scale, self._growth_factor = float(init_scale), float(growth_factor)
        self._backoff_factor, self._growth_interval = float(backoff_factor), int(growth_interval)
        self._good_steps = 0
        self._unscaled: dict[int, bool] = {}  # id(optimizer) -> whether its grads held inf/nan

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def scale(self, outputs: Any) -> Any:
        """outputs (a loss, or a list or tuple of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer: Any) -> None:
        """Divide the gradients of optimizer's parameters by the scale, in place (once per
        step), noting whether any holds inf or nan."""
        if not self._enabled:
            return
        if id(optimizer) in self._unscaled:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update()")
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if isinstance(p, Tensor) and p.grad is not None:
                    g = p.grad._data
                    g *= g.dtype.type(1 / self._scale)
                    found = found or not np.isfinite(g).all()
        self._unscaled[id(optimizer)] = found

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """optimizer.step(), after unscaling its gradients, unless they hold inf or nan."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._unscaled:
            self.unscale_(optimizer)
        return None if self._unscaled[id(optimizer)] else optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | None = None) -> None:
        """Halve the scale after a step with inf or nan gradients; double it after
        `growth_interval` good steps in a row (or set it to `new_scale`)."""
        if not self._enabled:
            return
        overflowed = any(self._unscaled.values())
        self._unscaled.clear()
        if new_scale is not None:
            self._scale, self._good_steps = float(new_scale), 0
        elif overflowed:
            self._scale *= self._backoff_factor
            self._good_steps = 0
        else:
            self._good_steps += 1
            if self._good_steps == self._growth_interval:
                self._scale *= self._growth_factor
                self._good_steps = 0
        if not math.isfinite(self._scale) or self._scale <= 0:
            raise RuntimeError(f"GradScaler: the scale became {self._scale}")

    def state_dict(self) -> dict:
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._good_steps}

    def load_state_dict(self, state: dict) -> None:
        self._scale, self._good_steps = float(state["scale"]), int(state["_growth_tracker"])
        self._growth_factor = float(state["growth_factor"])
        self._backoff_factor = float(state["backoff_factor"])
        self._growth_interval = int(state["growth_interval"])
