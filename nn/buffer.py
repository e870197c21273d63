"""nn.Buffer, as PyTorch 2.5's: `self.mask = nn.Buffer(t)` in a Module registers `mask` as a
buffer (`persistent=False` keeps it out of state_dict()), as `register_buffer` does.

`Buffer(t)` is the tensor itself, detached and marked (PyTorch's makes the same plain
tensor), and `isinstance(x, nn.Buffer)` tells the marked ones; Module's `__setattr__`
reads the mark.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.tensor import Tensor


class _BufferMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """A tensor marked as module state that does not train."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:
        if data is None:
            data = Tensor(np.empty(0, np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"nn.Buffer takes a Tensor, got {type(data).__name__}")
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t
