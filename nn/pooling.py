"""The pools nn/convolution.py lacks, as torch.nn's: avg_pool1d, max_pool1d,
adaptive_avg_pool1d and adaptive_max_pool1d/2d/3d (re-exported by nn.functional) and their
modules AvgPool1d, MaxPool1d, AdaptiveAvgPool1d and AdaptiveMaxPool1d/2d/3d.

The 1-D pools are the 2-D ones over a height of 1, as PyTorch computes them. An adaptive
pool's windows are PyTorch's: output entry i of a dim of size n pooled to m covers
[floor(i n / m), ceil((i + 1) n / m)), so windows may differ in size and overlap. Their
sums are, along each dim, a matrix product with the 0/1 matrix of which entries each
window holds, and their means those sums over the windows' sizes. Their largest entries
are picked from each window's entries (gathered, the short windows padded with a repeat of
their last entry, which never wins a tie) and taken with `gather`. Every function is a
composite of engine ops, so this file states no derivative of its own.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from engine.tensor import Tensor, _called
from nn.convolution import IntOrTuple, _batched, _ceil_count, _ints, avg_pool2d, max_pool2d
from nn.module import Module

OutputSize = int | None | Sequence[int | None]


def _settings_1d(op: str, length: int, kernel_size: IntOrTuple, stride: IntOrTuple | None,
                 padding: IntOrTuple, dilation: IntOrTuple,
                 ceil_mode: bool) -> tuple[int, int, int, int]:
    """(kernel, stride, padding, dilation) of a 1-D pool as ints, stride defaulting to the
    kernel, checked against an input of `length` as PyTorch checks them."""
    kernel = _ints(op, "kernel_size", kernel_size, 1, 1)[0]
    stride = kernel if stride is None or stride in ([], ()) else _ints(op, "stride", stride, 1,
                                                                       1)[0]
    padding = _ints(op, "padding", padding, 1, 0)[0]
    dilation = _ints(op, "dilation", dilation, 1, 1)[0]
    span = dilation * (kernel - 1) + 1
    if 2 * padding > span:
        raise ValueError(f"{op}: padding {padding} should be at most half of the kernel "
                         f"{kernel} (dilation {dilation})")
    if length + 2 * padding < span and not (
            ceil_mode and _ceil_count(length, span, stride, padding) >= 1):
        raise ValueError(f"{op}: the kernel {kernel} (dilation {dilation}, so spanning {span}) "
                         f"is larger than the padded input length {length + 2 * padding}; pad "
                         "the input or use a smaller kernel")
    return kernel, stride, padding, dilation


def avg_pool1d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of input (N, C, L) or (C, L), as torch's F.avg_pool1d
    (avg_pool2d over a height of 1; padding zeros count unless count_include_pad=False)."""
    x, unbatched = _batched("avg_pool1d", input, 1)
    k, s, p, _ = _settings_1d("avg_pool1d", x.shape[2], kernel_size, stride, padding, 1,
                              ceil_mode)
    out = avg_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def max_pool1d(input: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The largest entry of each window of input (N, C, L) or (C, L), as torch's
    F.max_pool1d (max_pool2d over a height of 1: the first of tied entries gets the
    gradient); return_indices: also where each came from along L."""
    x, unbatched = _batched("max_pool1d", input, 1)
    k, s, p, d = _settings_1d("max_pool1d", x.shape[2], kernel_size, stride, padding, dilation,
                              ceil_mode)
    result = max_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, p), (1, d), ceil_mode,
                        return_indices)
    out, index = result if return_indices else (result, None)
    out, index = out.squeeze(2), index if index is None else index.squeeze(2)
    if unbatched:
        out, index = out.squeeze(0), index if index is None else index.squeeze(0)
    return (out, index) if return_indices else out


# --- adaptive pools ---

def _output_sizes(op: str, output_size: OutputSize, spatial: tuple) -> tuple[int, ...]:
    """output_size (an int, None, or one of either per dim; None keeps the input's size)
    as ints, or a ValueError naming it."""
    nd = len(spatial)
    sizes = (output_size,) * nd if output_size is None or isinstance(
        output_size, (int, np.integer)) else tuple(output_size)
    if len(sizes) != nd or not all(m is None or (isinstance(m, (int, np.integer)) and not
                                                 isinstance(m, bool) and m >= 1) for m in sizes):
        raise ValueError(f"{op}: output_size must be a positive int or None, or {nd} of them, "
                         f"got {output_size!r}")
    return tuple(n if m is None else int(m) for m, n in zip(sizes, spatial))


def _windows(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each of the m adaptive windows over n entries starts and ends (exclusive)."""
    i = np.arange(m)
    return i * n // m, -(-(i + 1) * n // m)


def _adaptive_avg(x: Tensor, sizes: tuple[int, ...]) -> Tensor:
    """The mean over each adaptive window of x (N, C, *spatial) giving `sizes`: along each
    spatial dim a product with the (n, m) matrix of which entries each window holds, then
    the sums over the windows' sizes."""
    counts = np.ones((), x.dtype)
    for dim, m in enumerate(sizes, 2):
        n = x.shape[dim]
        starts, ends = _windows(n, m)
        inside = Tensor(((np.arange(n)[:, None] >= starts) & (np.arange(n)[:, None] < ends)
                         ).astype(x.dtype))
        x = x @ inside if dim == x.ndim - 1 else (x.movedim(dim, -1) @ inside).movedim(-1, dim)
        counts = np.multiply.outer(counts, (ends - starts).astype(x.dtype))
    return x / Tensor(counts)


def _adaptive_max(x: Tensor, sizes: tuple[int, ...]) -> tuple[Tensor, np.ndarray]:
    """The largest entry of each adaptive window of x (N, C, *spatial) giving `sizes`, and
    where each came from as an index into the flattened spatial dims (the first of tied
    entries, in row-major order, as PyTorch)."""
    spatial, nd = tuple(x.shape[2:]), len(sizes)
    flat = np.zeros((1,) * 2 * nd, np.int64)  # (*out, *window): a flat spatial index
    for d, (n, m) in enumerate(zip(spatial, sizes)):
        starts, ends = _windows(n, m)
        taps = np.minimum(starts[:, None] + np.arange((ends - starts).max()), ends[:, None] - 1)
        shape = [1] * 2 * nd
        shape[d], shape[nd + d] = taps.shape
        flat = flat * n + taps.reshape(shape)
    flat = flat.reshape(math.prod(sizes), -1)
    rows = x.reshape(*x.shape[:2], -1)
    picks = rows._data[:, :, flat].argmax(axis=-1)  # (N, C, out positions)
    index = flat[np.arange(flat.shape[0]), picks]
    return rows.gather(2, index).reshape(*x.shape[:2], *sizes), index.reshape(
        *x.shape[:2], *sizes)


def adaptive_avg_pool1d(input: Tensor, output_size: OutputSize) -> Tensor:
    """The mean over each of output_size windows of input (N, C, L) or (C, L), PyTorch's
    adaptive windows (which may differ in size and overlap)."""
    x, unbatched = _batched("adaptive_avg_pool1d", input, 1)
    out = _adaptive_avg(x, _output_sizes("adaptive_avg_pool1d", output_size, (x.shape[2],)))
    out = _called(out, "squeeze_dim")  # PyTorch pools over a height of 1, then squeezes it
    return out.squeeze(0) if unbatched else out


def _adaptive_max_pool(op: str, nd: int, input: Any, output_size: OutputSize,
                       return_indices: bool) -> Tensor | tuple[Tensor, Tensor]:
    """adaptive_max_pool1d, 2d and 3d: the output and, if asked, the indices."""
    x, unbatched = _batched(op, input, nd)
    out, index = _adaptive_max(x, _output_sizes(op, output_size, tuple(x.shape[2:])))
    if unbatched:
        out, index = out.squeeze(0), index[0]
    # PyTorch's 1-D pool is the 2-D one over a height of 1, squeezed
    out = _called(out, op if nd > 1 else "squeeze_dim")
    return (out, Tensor(index)) if return_indices else out


def adaptive_max_pool2d(input: Tensor, output_size: OutputSize,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The largest entry of each adaptive window of input (N, C, H, W) or (C, H, W) giving
    output_size (an int, a pair, None keeping an input size), as torch's
    F.adaptive_max_pool2d; dinput = g sent to each window's largest entry (the first of
    ties); return_indices: also where each came from, as an index into H * W."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input: Tensor, output_size: OutputSize,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The largest entry of each adaptive window of input (N, C, L) or (C, L), as torch's
    F.adaptive_max_pool1d (return_indices: also where each came from along L)."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: OutputSize,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The largest entry of each adaptive window of input (N, C, D, H, W) or (C, D, H, W), as
    torch's F.adaptive_max_pool3d (return_indices: also where each came from, as an index
    into D * H * W)."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


# --- modules ---

class AvgPool1d(Module):
    """F.avg_pool1d: the mean of each kernel_size window, every stride (the kernel_size by
    default) entries."""

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        self.kernel_size = _ints("AvgPool1d", "kernel_size", kernel_size, 1, 1)
        self.stride = self.kernel_size if stride is None else _ints("AvgPool1d", "stride",
                                                                    stride, 1, 1)
        self.padding = _ints("AvgPool1d", "padding", padding, 1, 0)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Any) -> Tensor:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(Module):
    """F.max_pool1d: the largest entry of each kernel_size window, every stride (the
    kernel_size by default) entries."""

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, dilation: IntOrTuple = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Any) -> Any:
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AdaptiveAvgPool1d(Module):
    """F.adaptive_avg_pool1d: the mean over the windows that give output_size."""

    def __init__(self, output_size: OutputSize) -> None:
        self.output_size = output_size

    def forward(self, input: Any) -> Tensor:
        return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """F.adaptive_max_pool2d: the largest entry of each window that gives output_size."""
    _function = staticmethod(adaptive_max_pool2d)

    def __init__(self, output_size: OutputSize, return_indices: bool = False) -> None:
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Any) -> Any:
        return self._function(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """F.adaptive_max_pool1d: the largest entry of each window that gives output_size."""
    _function = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """F.adaptive_max_pool3d: the largest entry of each window that gives output_size."""
    _function = staticmethod(adaptive_max_pool3d)
