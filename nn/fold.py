"""im2col and col2im as PyTorch offers them: the functions unfold and fold (re-exported by
nn.functional) and the modules Unfold and Fold.

unfold lays each kernel-sized window of a padded input (N, C, H, W) out as a column of
(N, C * kH * kW, L), L the number of windows; fold adds such columns back at their windows'
places, where windows overlap summing, and takes the padding off. They are
nn/convolution.py's `_unfold` and `_fold` (each the other's gradient) with a reshape and
`_pad`, so this file states no derivative of its own.
"""
from __future__ import annotations

import math
from typing import Any

from engine.tensor import Tensor, _as_tensor, _called
from nn.convolution import IntOrTuple, _batched, _fold, _ints, _out_sizes, _pad, _unfold
from nn.module import Module


def _settings(op: str, kernel_size: IntOrTuple, dilation: IntOrTuple, padding: IntOrTuple,
              stride: IntOrTuple) -> tuple[tuple, ...]:
    """(kernel, dilation, padding, stride) as pairs, or a ValueError naming the bad one."""
    return (_ints(op, "kernel_size", kernel_size, 2, 1), _ints(op, "dilation", dilation, 2, 1),
            _ints(op, "padding", padding, 2, 0), _ints(op, "stride", stride, 2, 1))


def unfold(input: Tensor, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
           padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> Tensor:
    """Each kernel_size window of input (N, C, H, W) or (C, H, W), zero-padded, as a column:
    (N, C * kH * kW, L) with the windows in row-major order, as torch's F.unfold."""
    kernel, dilation, padding, stride = _settings("unfold", kernel_size, dilation, padding,
                                                  stride)
    x, unbatched = _batched("unfold", input, 2)
    if any(padding):
        x = _pad(x, [(0, 0), (0, 0), *((p, p) for p in padding)])
    _out_sizes("unfold", tuple(x.shape[2:]), kernel, stride, dilation)  # (fits, or says why)
    windows = _unfold(x, kernel, stride, dilation)  # (N, C, kH, kW, out_H, out_W)
    n, channels = x.shape[:2]
    out = windows.reshape(n, channels * math.prod(kernel), -1)
    return _called(out.squeeze(0) if unbatched else out, "im2col")


def fold(input: Tensor, output_size: IntOrTuple, kernel_size: IntOrTuple,
         dilation: IntOrTuple = 1, padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> Tensor:
    """Columns (N, C * kH * kW, L) or (C * kH * kW, L) added back at their windows' places
    in (N, C, *output_size), overlaps summed, as torch's F.fold (unfold's adjoint: fold of
    unfold multiplies each entry by the number of windows it is in)."""
    kernel, dilation, padding, stride = _settings("fold", kernel_size, dilation, padding,
                                                  stride)
    sizes = _ints("fold", "output_size", output_size, 2, 1)
    cols = _as_tensor(input)
    if cols.ndim not in (2, 3):
        raise ValueError(f"fold takes input of shape (N, C * kH * kW, L) or (C * kH * kW, L), "
                         f"got {tuple(cols.shape)}")
    if cols.dtype.kind != "f":
        raise TypeError(f"fold takes float input, got {cols.dtype} (convert with .float())")
    unbatched = cols.ndim == 2
    cols = cols.unsqueeze(0) if unbatched else cols
    k = math.prod(kernel)
    if cols.shape[1] % k:
        raise ValueError(f"fold: input's dim {1 - unbatched} is {cols.shape[1]}, not divisible "
                         f"by the product of kernel_size {kernel}")
    padded = tuple(n + 2 * p for n, p in zip(sizes, padding))
    blocks = _out_sizes("fold", padded, kernel, stride, dilation)
    if cols.shape[2] != math.prod(blocks):
        raise ValueError(f"fold: output_size {sizes} with kernel_size {kernel}, dilation "
                         f"{dilation}, padding {padding}, stride {stride} has {blocks[0]} * "
                         f"{blocks[1]} = {math.prod(blocks)} windows, but the input's last "
                         f"dim is {cols.shape[2]}")
    n, channels = cols.shape[0], cols.shape[1] // k
    out = _fold(cols.reshape(n, channels, *kernel, *blocks), padded, kernel, stride, dilation)
    if any(padding):
        out = _pad(out, [(0, 0), (0, 0), *((-p, -p) for p in padding)])
    return _called(out.squeeze(0) if unbatched else out, "col2im")


class Unfold(Module):
    """F.unfold with this module's settings: (N, C, H, W) -> (N, C * kH * kW, L)."""

    def __init__(self, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
                 padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> None:
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Any) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """F.fold with this module's settings: (N, C * kH * kW, L) -> (N, C, *output_size)."""

    def __init__(self, output_size: IntOrTuple, kernel_size: IntOrTuple,
                 dilation: IntOrTuple = 1, padding: IntOrTuple = 0,
                 stride: IntOrTuple = 1) -> None:
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Any) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
