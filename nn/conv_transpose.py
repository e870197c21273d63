"""Transposed convolutions, as torch.nn's: the functions conv_transpose1d, conv_transpose2d
and conv_transpose3d (re-exported by nn.functional) and the layers ConvTranspose1d,
ConvTranspose2d and ConvTranspose3d that hold their weight, bias and settings.

A transposed convolution is the adjoint of a convolution: what conv2d's backward pass does
to its output gradient, it does to its input. Each input entry's channels are multiplied
by the weight into one kernel-sized window per output channel (a matrix product, the
columns w^T x), and the windows are added at their places in the output, `stride` apart
(col2im, nn/convolution.py's `_fold`); then `padding` is taken off each side and
`output_padding` more zeros added at the end (`_pad` with those widths). All three steps
are engine ops with rules of their own, so this file states no derivative: the gradients,
second derivatives too, come from theirs.

Shapes are PyTorch's: input (N, in_channels, *spatial) or, unbatched, (in_channels,
*spatial); weight (in_channels, out_channels / groups, *kernel); each output size
(n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from engine.tensor import Tensor, _as_tensor, _called
from nn.convolution import _KERNEL, IntOrTuple, _conv_operands, _fold, _ints, _pad
from nn.layers import _empty, _set_channels, _uniform_init
from nn.module import Module
from nn.parameter import Parameter


def _conv_transpose(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: IntOrTuple,
                    padding: IntOrTuple, output_padding: IntOrTuple, groups: int,
                    dilation: IntOrTuple) -> Tensor:
    """conv_transpose1d, 2d and 3d: the settings and shapes checked, then the
    columns w^T x added at their windows' places, cropped by padding."""
    x, unbatched, w, b = _conv_operands(op, nd, input, weight, bias)
    stride = _ints(op, "stride", stride, nd, 1)
    padding = _ints(op, "padding", padding, nd, 0)
    output_padding = _ints(op, "output_padding", output_padding, nd, 0)
    dilation = _ints(op, "dilation", dilation, nd, 1)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    groups = int(groups)
    if w.ndim != nd + 2:
        raise ValueError(f"{op} takes a weight of shape (in_channels, out_channels / groups, "
                         f"{_KERNEL[nd]}), got {tuple(w.shape)}")
    if x.shape[1] != w.shape[0] or w.shape[0] % groups:
        raise ValueError(f"{op}: a weight of shape {tuple(w.shape)} with groups={groups} takes "
                         f"{w.shape[0]} input channels (divisible by groups), but the input "
                         f"of shape {tuple(x.shape)} has {x.shape[1]}")
    out_channels = w.shape[1] * groups
    if b is not None and b.shape != (out_channels,):
        raise ValueError(f"{op}: a bias of shape {tuple(b.shape)} does not fit a weight of shape "
                         f"{tuple(w.shape)} with groups={groups}; it needs shape "
                         f"({out_channels},)")
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                         f"stride {stride} or dilation {dilation}, in each dim")
    kernel, sizes = tuple(w.shape[2:]), tuple(x.shape[2:])
    # the windows' extent before padding is taken off: the convolution's padded input
    full = tuple((n - 1) * s + d * (k - 1) + 1 for n, k, s, d in zip(sizes, kernel, stride,
                                                                     dilation))
    out_sizes = tuple(f - 2 * p + o for f, p, o in zip(full, padding, output_padding))
    if min(out_sizes) < 1:
        raise ValueError(f"{op}: input of spatial size {sizes} with kernel {kernel}, stride "
                         f"{stride}, padding {padding}, dilation {dilation} and output_padding "
                         f"{output_padding} gives an output of size {out_sizes}; use less "
                         "padding")
    n, per_group = x.shape[0], w.shape[0] // groups
    # (groups, out/groups * kernel, in/groups) @ (N, groups, in/groups, positions): a column
    # of every output channel's kernel-sized window for each input position
    rows = w.reshape(groups, per_group, w.shape[1] * math.prod(kernel)).transpose(1, 2)
    cols = rows @ x.reshape(n, groups, per_group, math.prod(sizes))
    out = _fold(cols.reshape(n, out_channels, *kernel, *sizes), full, kernel, stride, dilation)
    if any(padding) or any(output_padding):  # padding off the start; at the end, padding
        # off and output_padding on
        out = _pad(out, [(0, 0), (0, 0), *((-p, o - p) for p, o in zip(padding, output_padding))])
    if b is not None:
        out = out + b.reshape(out_channels, *(1,) * nd)
    out = _called(out, "convolution")  # PyTorch's ConvolutionBackward0, as conv2d's
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """A 2-D transposed convolution ("deconvolution") of input (N, C, H, W) or (C, H, W)
    with weight (C, out_channels / groups, kH, kW), plus bias (out_channels,), as torch's
    F.conv_transpose2d: the adjoint of conv2d with the same settings, so an upsampling by
    stride. output_padding (smaller than stride or dilation) adds rows and columns at the
    end, to reach the sizes that a strided conv2d maps to the same size."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """A 1-D transposed convolution of input (N, C, L) or (C, L) with weight (C,
    out_channels / groups, kernel), as torch's F.conv_transpose1d (the settings as
    conv_transpose2d's)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """A 3-D transposed convolution of input (N, C, D, H, W) or (C, D, H, W) with weight (C,
    out_channels / groups, kD, kH, kW), as torch's F.conv_transpose3d (the settings as
    conv_transpose2d's)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


class _ConvTransposeNd(Module):
    """What ConvTranspose1d, 2d and 3d share: their settings, weight (in_channels,
    out_channels / groups, *kernel_size) and bias (out_channels,), initialised as PyTorch's
    (Conv2d's rule, its fan-in taken from the weight's dim 1)."""
    _dims = 2
    _function = staticmethod(conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                 groups: int = 1, bias: bool = True, dilation: IntOrTuple = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        name, nd = type(self).__name__, self._dims
        _set_channels(self, in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}, got '
                             f"{padding_mode!r}")
        self.kernel_size = _ints(name, "kernel_size", kernel_size, nd, 1)
        self.stride = _ints(name, "stride", stride, nd, 1)
        self.padding = _ints(name, "padding", padding, nd, 0)
        self.output_padding = _ints(name, "output_padding", output_padding, nd, 0)
        self.dilation = _ints(name, "dilation", dilation, nd, 1)
        self.padding_mode = padding_mode
        self.weight = Parameter(_empty((in_channels, out_channels // groups, *self.kernel_size),
                                       dtype, device))
        self.bias = Parameter(_empty((out_channels,), dtype)) if bias else None
        self.weight.label = "weight"
        if self.bias is not None:
            self.bias.label = "bias"
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation, drawn from the engine's generator."""
        _uniform_init(self.weight, self.bias)

    def forward(self, input: Any, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        return self._function(input, self.weight, self.bias, self.stride, self.padding,
                              output_padding, self.groups, self.dilation)

    def _output_padding(self, input: Any, output_size: Sequence[int] | None) -> tuple:
        """The layer's output_padding, or the one that gives output_size (the spatial sizes,
        or all of them), as PyTorch's: each from 0 to stride - 1."""
        if output_size is None:
            return self.output_padding
        nd, name = self._dims, type(self).__name__
        x = _as_tensor(input)
        sizes = tuple(int(n) for n in output_size)
        batch_dims = 2 if x.ndim == nd + 2 else 1
        if len(sizes) == batch_dims + nd:
            sizes = sizes[batch_dims:]
        if len(sizes) != nd:
            raise ValueError(f"{name}: for {x.ndim}D input, output_size must have {nd} or "
                             f"{nd + batch_dims} elements (got {len(sizes)})")
        spatial = tuple(x.shape[batch_dims:])
        least = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                 zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)]
        most = [m + s - 1 for m, s in zip(least, self.stride)]
        if any(not lo <= n <= hi for n, lo, hi in zip(sizes, least, most)):
            raise ValueError(f"{name}: requested an output size of {list(sizes)}, but valid "
                             f"sizes range from {least} to {most} (for an input of "
                             f"{spatial})")
        return tuple(n - lo for n, lo in zip(sizes, least))

    def extra_repr(self) -> str:
        nd = self._dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        for name, default in (("padding", 0), ("dilation", 1), ("output_padding", 0)):
            if getattr(self, name) != (default,) * nd:
                text += f", {name}={getattr(self, name)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")


class ConvTranspose2d(_ConvTransposeNd):
    """F.conv_transpose2d with this layer's weight, bias and settings: (N, in_channels, H, W)
    -> (N, out_channels, H_out, W_out); forward(input, output_size) picks the
    output_padding that gives output_size."""


class ConvTranspose1d(_ConvTransposeNd):
    """F.conv_transpose1d with this layer's weight, bias and settings: (N, in_channels, L) ->
    (N, out_channels, L_out)."""
    _dims = 1
    _function = staticmethod(conv_transpose1d)


class ConvTranspose3d(_ConvTransposeNd):
    """F.conv_transpose3d with this layer's weight, bias and settings: (N, in_channels, D, H,
    W) -> (N, out_channels, D_out, H_out, W_out)."""
    _dims = 3
    _function = staticmethod(conv_transpose3d)
