"""Parameter: a Tensor that a Module trains, as torch.nn.Parameter.

PyTorch code wraps weights in it (`self.w = nn.Parameter(torch.randn(3, 4))`). Here any
Tensor that requires grad already counts as a parameter of the Module holding it; a
Parameter also stays one when it is frozen (`p.requires_grad_(False)`), so
`model.parameters()` and `requires_grad_(True)` still find it, as in PyTorch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor sharing `data`'s numbers, requiring grad unless told otherwise."""

    __slots__ = ()
    _deepcopy_keeps_grad = False  # (PyTorch's Parameter.__deepcopy__ copies the numbers only)

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        super().__init__(np.empty(0, np.float32) if data is None else data,
                         requires_grad=requires_grad)

    def __repr__(self) -> str:
        """As PyTorch prints it, so without the label (`weight`, `0.bias`) that nn gives
        its weights to name them in graph pictures."""
        plain = Tensor(self._data, requires_grad=self.requires_grad)  # shares the numbers
        return "Parameter containing:\n" + repr(plain)
