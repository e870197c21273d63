"""The less common activations, as functions (re-exported by nn.functional under PyTorch's
names) and as modules (exported by nn): softmin, selu, celu, rrelu, threshold, tanhshrink,
softshrink, hardshrink and gumbel_softmax (and the in-place selu_, celu_, rrelu_,
threshold_); Softmin, Softmax2d, SELU, CELU, RReLU,
Threshold, Tanhshrink, Softshrink, Hardshrink.

Each is a composite of engine ops (no derivative of its own), named as PyTorch names its
grad_fn (SELU's is EluBackward0, as there). At a kink the composite takes the side
PyTorch's backward kernel takes: selu and celu use the exponential branch at 0, threshold
passes nothing at the threshold itself, the shrinks nothing at +-lambd.

The two random ones draw from the engine's generator exactly what PyTorch's CPU kernels
draw, so a seeded run gives PyTorch's numbers: rrelu in training one float64 uniform in
[lower, upper) per entry <= 0 (in memory order; the others keep slope 1), gumbel_softmax
its Gumbel noise as -log of exponential_() draws.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine.elementwise import where
from engine.random import rand
from engine.tensor import Tensor, _as_tensor, _called
from nn.activation import _written, leaky_relu
from nn.functional import _softmax_dim
from nn.module import Module

# SELU's constants (Klambauer et al. 2017), as PyTorch's kernel has them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _coefficient(x: Tensor, *factors: float) -> float:
    """The product of `factors` rounded as PyTorch's elu kernel rounds it: in the input's
    dtype (float32 for a float32 input), each factor first."""
    dtype = x.dtype.type if x.dtype.kind == "f" else np.float32
    product = dtype(1)
    for f in factors:
        product = product * dtype(f)
    return float(product)


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    """scale x where x > 0, else scale alpha (e**(input_scale x) - 1): PyTorch's elu kernel
    behind elu, selu and celu (so the slope at 0 is the exponential side's)."""
    below = (x.clamp(max=0) * _coefficient(x, input_scale)).expm1() * _coefficient(x, alpha, scale)
    return where(x > 0, x * _coefficient(x, scale) if scale != 1 else x, below)


# --- the functions ---

def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-x) along dim: e**-x / sum(e**-x)."""
    return (-input).softmax(_softmax_dim(input, dim, "softmin", _stacklevel), dtype=dtype)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale x where x > 0, else scale alpha (e**x - 1), with SELU's alpha ~ 1.6733 and
    scale ~ 1.0507."""
    x = _as_tensor(input)
    return _written(x, _called(_elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0), "elu"), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (e**(x / alpha) - 1)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    x = _as_tensor(input)
    return _written(x, _called(_elu(x, alpha, 1.0, 1 / alpha), "celu"), inplace)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """x where x > 0, else a x: a drawn uniform in [lower, upper) for each entry in
    training, (lower + upper) / 2 otherwise; the gradient is g times that slope."""
    if not lower <= upper:
        raise RuntimeError(f"rrelu: the lower bound ({lower}) should be less than or equal to "
                           f"the upper bound ({upper})")
    x = _as_tensor(input)
    if not training:
        return _written(x, _called(leaky_relu(x, (lower + upper) / 2), "rrelu_with_noise"),
                        inplace)
    # PyTorch's kernel: bounds in the input's dtype, a float64 uniform scaled into them
    # (no fused multiply-add), rounded to the dtype, for each entry <= 0 in memory order
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    low, high = float(dtype.type(lower)), float(dtype.type(upper))
    negative = x._data <= 0
    noise = np.ones(x.shape, dtype)
    u = rand(int(negative.sum()), dtype=np.float64).numpy()
    noise[negative] = u * (high - low) + low
    return _written(x, _called(x * Tensor(noise), "rrelu_with_noise"), inplace)


def _threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value (no gradient at the threshold itself)."""
    x = _as_tensor(input)
    return _written(x, _called(where(x > threshold, x, value), "threshold"), inplace)


threshold = _threshold  # (a name of its own: threshold_ and Threshold take a `threshold`)


def selu_(input: Tensor) -> Tensor:
    """selu written into the input."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """celu written into the input."""
    return celu(input, alpha, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """rrelu written into the input."""
    return rrelu(input, lower, upper, training, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """threshold written into the input."""
    return _threshold(input, threshold, value, inplace=True)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between: x less x clamped to
    [-lambd, lambd] (whose slope is 1 at +-lambd, so the gradient there is 0)."""
    if not lambd >= 0:
        raise RuntimeError(f"softshrink: lambda must be at least 0, but found {lambd}")
    x = _as_tensor(input)
    return _called(x - x.clamp(-lambd, lambd), "softshrink")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0 (no gradient at +-lambd)."""
    x = _as_tensor(input)
    return _called(where((x >= -lambd) & (x <= lambd), 0.0, x), "hardshrink")


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """softmax((logits + G) / tau) along dim, G standard Gumbel noise (-log of exponential
    draws from the engine's generator, as PyTorch draws them). With hard=True, the one-hot
    of its argmax in the forward pass and the soft sample's gradient (straight through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning,
                      stacklevel=2)
    logits = _as_tensor(logits)
    noise = np.empty(logits.shape, logits.dtype if logits.dtype.kind == "f" else np.float32)
    gumbels = -Tensor(noise).exponential_().log()
    soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return soft
    one_hot = np.zeros(soft.shape, soft.dtype)
    first_max = np.argmax(soft._data, axis=dim)
    np.put_along_axis(one_hot, np.expand_dims(first_max, dim), 1, axis=dim)
    return Tensor(one_hot) - soft.detach() + soft


# --- the modules ---

class Softmin(Module):
    """softmin along dim: softmax(-x)."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim

    def forward(self, input: Any) -> Tensor:
        return softmin(_as_tensor(input), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """softmax over the channels (dim -3) at each position of (N, C, H, W) or (C, H, W)."""

    def forward(self, input: Any) -> Tensor:
        x = _as_tensor(input)
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {x.ndim}D instead")
        return x.softmax(-3)


class SELU(Module):
    """scale x where x > 0, else scale alpha (e**x - 1)."""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = inplace

    def forward(self, input: Any) -> Tensor:
        return selu(_as_tensor(input), self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class CELU(Module):
    """x where x > 0, else alpha (e**(x / alpha) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Any) -> Tensor:
        return celu(_as_tensor(input), self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + ", inplace=True" * self.inplace


class RReLU(Module):
    """x where x > 0, else a x with a slope a drawn uniform in [lower, upper) for each
    entry in training, (lower + upper) / 2 in eval mode."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Any) -> Tensor:
        return rrelu(_as_tensor(input), self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + ", inplace=True" * self.inplace


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Any) -> Tensor:
        return _threshold(_as_tensor(input), self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + ", inplace=True" * self.inplace


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, input: Any) -> Tensor:
        return tanhshrink(_as_tensor(input))


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def __init__(self, lambd: float = 0.5) -> None:
        self.lambd = lambd

    def forward(self, input: Any) -> Tensor:
        return softshrink(_as_tensor(input), self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, else 0."""

    def forward(self, input: Any) -> Tensor:
        return hardshrink(_as_tensor(input), self.lambd)
