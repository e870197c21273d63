"""More of torch.nn's pools: power-average pools (`lp_pool1d`/`2d`/`3d`,
`LPPool1d`/`2d`/`3d`), the partial inverse of max pooling (`max_unpool1d`/`2d`/`3d`,
`MaxUnpool1d`/`2d`/`3d`), and PyTorch's `*_with_indices` spellings of the max pools.

All are composed from engine ops (powers, average pools, scatter), so their gradients are
those ops' own: an unpool sends each output place's gradient back to the entry written
there.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from engine.tensor import Tensor, _called
from nn.convolution import (IntOrTuple, _batched, _ints, avg_pool2d, avg_pool3d, max_pool2d,
                            max_pool3d)
from nn.module import Module
from nn.pooling import (adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,
                        avg_pool1d, max_pool1d)

# the max and average pools over 1, 2 and 3 spatial dims, for the power-average pools
_POOLS = {1: (max_pool1d, avg_pool1d), 2: (max_pool2d, avg_pool2d), 3: (max_pool3d, avg_pool3d)}


def max_pool1d_with_indices(input: Tensor, kernel_size: IntOrTuple,
                            stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                            dilation: IntOrTuple = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """max_pool1d's output and where each entry came from (always both, as PyTorch's)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: IntOrTuple,
                            stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                            dilation: IntOrTuple = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """max_pool2d's output and where each entry came from (always both, as PyTorch's)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: IntOrTuple,
                            stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                            dilation: IntOrTuple = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """max_pool3d's output and where each entry came from (always both, as PyTorch's)."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    return adaptive_max_pool3d(input, output_size, True)


def _power_average(pooled: Tensor, norm_type: float, window: int) -> Tensor:
    """(window * mean of x**p) ** (1/p), as PyTorch writes it: sign(out) relu(|out|)
    passes no gradient where a window's sum is 0."""
    return (pooled.sign() * pooled.abs().relu() * window) ** (1.0 / norm_type)


def _check_norm(op: str, norm_type: Any) -> float:
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) or norm_type == 0:
        raise ValueError(f"{op}: norm_type must be a nonzero number, got {norm_type!r}")
    return norm_type


def _lp_pool(op: str, nd: int, input: Any, norm_type: float, kernel_size: IntOrTuple,
             stride: IntOrTuple | None, ceil_mode: bool) -> Tensor:
    """lp_pool1d, 2d and 3d: the mean of x**p over each window (avg_pool), times the window's
    size, to the 1/p; the largest |x| (max_pool) for p = inf, the smallest for -inf."""
    p = _check_norm(op, norm_type)
    kernel = _ints(op, "kernel_size", kernel_size, nd, 1)
    max_pool, avg_pool = _POOLS[nd]
    if math.isinf(p):
        if p > 0:
            return max_pool(input.abs(), kernel, stride, 0, 1, ceil_mode)
        return -max_pool(-input.abs(), kernel, stride, 0, 1, ceil_mode)
    return _power_average(avg_pool(input ** p, kernel, stride, 0, ceil_mode), p,
                          math.prod(kernel))


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int,
              stride: IntOrTuple | None = None, ceil_mode: bool = False) -> Tensor:
    """(sum of x**p over each window) ** (1/p) along L of input (N, C, L) or (C, L), as
    torch's F.lp_pool1d; p = inf is the largest |x|, -inf the smallest."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: IntOrTuple,
              stride: IntOrTuple | None = None, ceil_mode: bool = False) -> Tensor:
    """(sum of x**p over each window) ** (1/p) of input (N, C, H, W) or (C, H, W), as
    torch's F.lp_pool2d; p = inf is the largest |x|, -inf the smallest."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: IntOrTuple,
              stride: IntOrTuple | None = None, ceil_mode: bool = False) -> Tensor:
    """(sum of x**p over each window) ** (1/p) of input (N, C, D, H, W) or (C, D, H, W), as
    torch's F.lp_pool3d; p = inf is the largest |x|, -inf the smallest."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


def _unpool_size(op: str, spatial: tuple, kernel: tuple, stride: tuple, padding: tuple,
                 output_size: Sequence[int] | None) -> tuple[int, ...]:
    """The unpooled spatial size: max pooling's input size by default, or output_size
    (spatial, or with N and C in front) when it is within a stride of that."""
    nd = len(kernel)
    default = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(spatial, kernel, stride, padding))
    if output_size is None:
        size = default
    else:
        size = tuple(int(s) for s in output_size)
        if len(size) == nd + 2:
            size = size[2:]
        if len(size) != nd:
            raise ValueError(f"{op}: output_size should hold {nd} or {nd + 2} sizes, got "
                             f"{tuple(output_size)}")
        for d in range(nd):
            if not default[d] - stride[d] < size[d] < default[d] + stride[d]:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)} (dim {d} "
                                 f"must be between {default[d] - stride[d]} and "
                                 f"{default[d] + stride[d]}, exclusive)")
    if min(size) < 0:
        raise ValueError(f"{op}: the output size {size} has a negative dim; check kernel_size, "
                         "stride and padding")
    return size


def _max_unpool(op: str, nd: int, input: Any, indices: Any, kernel_size: IntOrTuple,
                stride: IntOrTuple | None, padding: IntOrTuple,
                output_size: Sequence[int] | None) -> Tensor:
    """Zeros of the unpooled size with each input entry written where its index says
    (an index into the flattened spatial dims, as max pooling's return_indices gives)."""
    x, unbatched = _batched(op, input, nd)
    index = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers (max pooling's return_indices), got "
                        f"{index.dtype}")
    if unbatched:
        index = index[None]
    if index.shape != tuple(x.shape):
        raise ValueError(f"{op}: indices of shape {index.shape} must match the input's shape "
                         f"{tuple(x.shape)}")
    kernel = _ints(op, "kernel_size", kernel_size, nd, 1)
    steps = kernel if stride is None else _ints(op, "stride", stride, nd, 1)
    pads = _ints(op, "padding", padding, nd, 0)
    size = _unpool_size(op, tuple(x.shape[2:]), kernel, steps, pads, output_size)
    places = math.prod(size)
    flat = index.reshape(index.shape[0], index.shape[1], -1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= places):
        raise IndexError(f"{op}: found an index outside the output of {places} places per "
                         f"channel (size {size}); pass the output_size the pool's input had")
    n, c = x.shape[0], x.shape[1]
    out = Tensor(np.zeros((n, c, places), x.dtype)).scatter(2, Tensor(flat), x.flatten(2))
    out = out.reshape(n, c, *size)
    if unbatched:
        out = out.squeeze(0)
    # PyTorch's 1-D unpool is the 2-D one over a width of 1, squeezed
    return _called(out, f"max_unpool{nd}d" if nd > 1 else "squeeze_dim")


def max_unpool1d(input: Tensor, indices: Any, kernel_size: IntOrTuple,
                 stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """max_pool1d undone where it can be: each entry of input (N, C, L) or (C, L) put back
    at its index, zeros elsewhere, as torch's F.max_unpool1d; dinput = g read at indices."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input: Tensor, indices: Any, kernel_size: IntOrTuple,
                 stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """max_pool2d undone where it can be: each entry of input (N, C, H, W) or (C, H, W) put
    back at its index into H * W, zeros elsewhere, as torch's F.max_unpool2d."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input: Tensor, indices: Any, kernel_size: IntOrTuple,
                 stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """max_pool3d undone where it can be: each entry of input (N, C, D, H, W) or (C, D, H, W)
    put back at its index into D * H * W, zeros elsewhere, as torch's F.max_unpool3d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)


class _LPPool(Module):
    _function = staticmethod(lp_pool1d)

    def __init__(self, norm_type: float, kernel_size: IntOrTuple,
                 stride: IntOrTuple | None = None, ceil_mode: bool = False) -> None:
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return self._function(input, self.norm_type, self.kernel_size, self.stride,
                              self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """F.lp_pool1d: the p-norm of each kernel_size window."""


class LPPool2d(_LPPool):
    """F.lp_pool2d: the p-norm of each kernel_size window."""
    _function = staticmethod(lp_pool2d)


class LPPool3d(_LPPool):
    """F.lp_pool3d: the p-norm of each kernel_size window of (N, C, D, H, W)."""
    _function = staticmethod(lp_pool3d)


class _MaxUnpool(Module):
    nd = 1
    _function = staticmethod(max_unpool1d)

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0) -> None:
        name = type(self).__name__
        self.kernel_size = _ints(name, "kernel_size", kernel_size, self.nd, 1)
        self.stride = self.kernel_size if stride is None else _ints(name, "stride", stride,
                                                                    self.nd, 1)
        self.padding = _ints(name, "padding", padding, self.nd, 0)

    def forward(self, input: Tensor, indices: Any,
                output_size: Sequence[int] | None = None) -> Tensor:
        return self._function(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """F.max_unpool1d: put a MaxPool1d's outputs back where its indices say."""


class MaxUnpool2d(_MaxUnpool):
    """F.max_unpool2d: put a MaxPool2d's outputs back where its indices say."""
    nd = 2
    _function = staticmethod(max_unpool2d)


class MaxUnpool3d(_MaxUnpool):
    """F.max_unpool3d: put a MaxPool3d's outputs back where its indices say."""
    nd = 3
    _function = staticmethod(max_unpool3d)
