"""Padding layers, as torch.nn's: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and
CircularPad, each in 1d, 2d and 3d. Each holds its widths and calls F.pad (nn/convolution.py)
in its mode, whose gradients are F.pad's.

`padding` is an int (every side) or the widths F.pad takes, last dim first: (left, right)
for 1d, (left, right, top, bottom) for 2d, and (left, right, top, bottom, front, back) for
3d.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from engine.tensor import Tensor
from nn.convolution import pad
from nn.module import Module


class _PadNd(Module):
    """F.pad of the input with this layer's widths in its mode."""
    _dims, _mode = 1, "constant"
    value = 0.0

    def __init__(self, padding: int | Sequence[int]) -> None:
        count, name = 2 * self._dims, type(self).__name__
        widths = (padding,) * count if np.ndim(padding) == 0 else tuple(padding)
        if len(widths) != count or not all(isinstance(w, (int, np.integer))
                                           and not isinstance(w, bool) for w in widths):
            raise ValueError(f"{name} takes an int or {count} ints as padding, got {padding!r}")
        self.padding = tuple(int(w) for w in widths)

    def forward(self, input: Any) -> Tensor:
        return pad(input, self.padding, self._mode, self.value)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with `value`."""

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with `value`."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with `value`."""
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with `value`."""
    _dims = 3


class ZeroPad1d(_PadNd):
    """Pads the last dim with zeros."""


class ZeroPad2d(_PadNd):
    """Pads the last 2 dims with zeros."""
    _dims = 2


class ZeroPad3d(_PadNd):
    """Pads the last 3 dims with zeros."""
    _dims = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its mirror image, the edge not repeated (widths < size)."""
    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Pads the last 2 dims with their mirror images, the edges not repeated."""
    _dims = 2


class ReflectionPad3d(ReflectionPad1d):
    """Pads the last 3 dims with their mirror images, the edges not repeated."""
    _dims = 3


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating its edge entries."""
    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Pads the last 2 dims by repeating their edge entries."""
    _dims = 2


class ReplicationPad3d(ReplicationPad1d):
    """Pads the last 3 dims by repeating their edge entries."""
    _dims = 3


class CircularPad1d(_PadNd):
    """Pads the last dim by wrapping it around: the left padding is its end."""
    _mode = "circular"


class CircularPad2d(CircularPad1d):
    """Pads the last 2 dims by wrapping them around."""
    _dims = 2


class CircularPad3d(CircularPad1d):
    """Pads the last 3 dims by wrapping them around."""
    _dims = 3
