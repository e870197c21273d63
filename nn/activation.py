"""The activations beyond relu, tanh, sigmoid and gelu, as functions (re-exported by
nn.functional under PyTorch's names) and as modules (exported by nn): leaky_relu, prelu,
elu, softplus, mish, silu, hardtanh, relu6, hardswish, hardsigmoid, softsign, logsigmoid
and glu.

Each is a composite of engine ops, so it needs no derivative of its own and is
differentiable twice over. Where the function has a kink, the composite is chosen so that
its gradient at the kink is the one PyTorch's kernel gives: leaky_relu'(0) is the negative
slope (where(x > 0, ...)), hardtanh and relu6 pass nothing at their bounds (so hardswish'
is 0 at -3 and 1 at 3), and logsigmoid'(0) is 1/2 (a tie of minimum splits g evenly).
Softplus keeps x itself above its threshold, and its exponential never sees more than the
threshold, so it cannot overflow.
`inplace=True` writes the result into the input, as PyTorch's in-place forms do.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine.elementwise import where
from engine.tensor import Tensor, _as_tensor, _called
from nn.layers import _empty, _size
from nn.module import Module
from nn.parameter import Parameter


_SIXTH_FLOAT32 = float(np.float32(1 / 6))


def _written(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    """out, or with inplace=True the input with out's numbers (and graph) written into it."""
    return input.copy_(out) if inplace else out


# --- the functions ---

def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope x (so the slope at 0 is negative_slope)."""
    return _written(input, where(input > 0, input, input * negative_slope), inplace)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight x, weight one slope or one per channel (dim 1)."""
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be a number or 1-D, got shape {tuple(weight.shape)}")
    slopes = weight.numel()
    if slopes != 1:
        channels = input.shape[1] if input.ndim > 1 else 1
        if input.ndim == 0 or channels != slopes:
            raise ValueError(f"prelu: {slopes} slopes need input with {slopes} channels in dim "
                             f"1, got input of shape {tuple(input.shape)}")
        weight = weight.reshape((1, slopes) + (1,) * (input.ndim - 2))
    return where(input > 0, input, weight * input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (e**x - 1) (so the slope at 0 is alpha)."""
    below = (input.clamp(max=0).exp() - 1) * alpha  # (clamped: no e**x overflows unused)
    return _written(input, where(input > 0, input, below), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e**(beta x)) / beta, and x itself where beta x > threshold."""
    scaled = input * beta
    smooth = scaled.clamp(max=threshold).exp().log1p() / beta  # e**x never overflows
    return where(scaled > threshold, input, smooth)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    return _written(input, input * softplus(input).tanh(), inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return _written(input, _called(input * input.sigmoid(), "silu"), inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x limited to [min_val, max_val], passing no gradient at the bounds themselves."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    outside = (input <= min_val) | (input >= max_val)
    return _written(input, where(outside, input.detach().clamp(min_val, max_val), input),
                    inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x relu6(x + 3) / 6 (so its slope is 0 at -3 and 1 at 3)."""
    return _written(input, input * relu6(input + 3) / 6, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6 (no gradient at -3 and 3)."""
    clipped = relu6(input + 3)
    # PyTorch's gradient is g times 1/6 rounded to float32, in float64 too: so is this one's
    sixth = clipped * _SIXTH_FLOAT32
    return _written(input, sixth + (clipped / 6 - sixth).detach(), inplace)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def logsigmoid(input: Tensor) -> Tensor:
    """ln(sigmoid(x)) as min(x, 0) - ln(1 + e**-|x|), which cannot overflow."""
    return input.minimum(0) - (-input.abs()).exp().log1p()


log_sigmoid = logsigmoid


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a sigmoid(b), a and b the two halves of the input along dim."""
    if input.ndim == 0:
        raise ValueError("glu does not take a 0-d tensor: it halves a dim")
    if input.shape[dim] % 2:
        raise ValueError(f"glu halves dim {dim}, which must be even, got input of shape "
                         f"{tuple(input.shape)}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


# --- the modules ---

class _Inplace(Module):
    """An activation whose only option is inplace."""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x where x > 0, else negative_slope x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Any) -> Tensor:
        return leaky_relu(_as_tensor(input), self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + ", inplace=True" * self.inplace


class ELU(Module):
    """x where x > 0, else alpha (e**x - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Any) -> Tensor:
        return elu(_as_tensor(input), self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + ", inplace=True" * self.inplace


class Softplus(Module):
    """ln(1 + e**(beta x)) / beta, x itself where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Any) -> Tensor:
        return softplus(_as_tensor(input), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Mish(_Inplace):
    """x tanh(softplus(x))."""

    def forward(self, input: Any) -> Tensor:
        return mish(_as_tensor(input), self.inplace)


class SiLU(_Inplace):
    """x sigmoid(x) (also called swish)."""

    def forward(self, input: Any) -> Tensor:
        return silu(_as_tensor(input), self.inplace)


class Hardtanh(Module):
    """x limited to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        for old, value in (("min_value", min_value), ("max_value", max_value)):
            if value is not None:  # PyTorch's old names, with its warning
                warnings.warn(f"keyword argument `{old}` is deprecated and renamed to "
                              f"`{old[:3]}_val`", FutureWarning, stacklevel=2)
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        if min_val >= max_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                             f"({min_val}), as in PyTorch")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Any) -> Tensor:
        return hardtanh(_as_tensor(input), self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + ", inplace=True" * self.inplace


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardswish(_Inplace):
    """x relu6(x + 3) / 6."""

    def forward(self, input: Any) -> Tensor:
        return hardswish(_as_tensor(input), self.inplace)

    def extra_repr(self) -> str:
        return ""  # PyTorch's shows no inplace here


class Hardsigmoid(Hardswish):
    """relu6(x + 3) / 6."""

    def forward(self, input: Any) -> Tensor:
        return hardsigmoid(_as_tensor(input), self.inplace)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, input: Any) -> Tensor:
        return softsign(_as_tensor(input))


class LogSigmoid(Module):
    """ln(sigmoid(x)), stable for large |x|."""

    def forward(self, input: Any) -> Tensor:
        return logsigmoid(_as_tensor(input))


class GLU(Module):
    """a sigmoid(b), a and b the halves of the input along dim."""

    def __init__(self, dim: int = -1) -> None:
        self.dim = dim

    def forward(self, input: Any) -> Tensor:
        return glu(_as_tensor(input), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, else a x with a learnt slope a: one, or one per channel (dim 1)
    with num_parameters = the channels; a starts at `init`."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        self.num_parameters = _size("PReLU", "num_parameters", num_parameters)
        self.init = init
        self.weight = Parameter(_empty((self.num_parameters,), dtype, device))
        self.weight.label = "weight"
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.weight._data[...] = self.init

    def forward(self, input: Any) -> Tensor:
        return prelu(_as_tensor(input), self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"

