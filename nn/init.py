"""Weight initialisation, as torch.nn.init: each function fills a Tensor in place (outside
the graph, as under no_grad) and returns it.

The random ones draw from the engine's generator (or the `generator` given) exactly what
PyTorch's draw, with PyTorch's arithmetic for the bounds and standard deviations, so a
seeded model starts from PyTorch's very numbers.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from engine import random
from engine.grad_mode import no_grad
from engine.random import Generator
from engine.tensor import Tensor

_LINEAR_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through `nonlinearity`:
    1 (linear, sigmoid), 5/3 (tanh), sqrt(2) (relu), sqrt(2 / (1 + slope**2))
    (leaky_relu, slope `param`, 0.01 by default), 3/4 (selu)."""
    if nonlinearity in _LINEAR_GAIN:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _check_tensor(tensor: Any) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init fills a Tensor in place, got {type(tensor).__name__}")


def _filled(tensor: Tensor, method: str, *args: Any, **kwargs: Any) -> Tensor:
    _check_tensor(tensor)
    with no_grad():
        return getattr(tensor, method)(*args, **kwargs)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b)."""
    return _filled(tensor, "uniform_", a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std**2)."""
    return _filled(tensor, "normal_", mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std**2) truncated to [a, b], drawn as PyTorch 2.13 draws it.

    Where [a, b] holds more than 30% of the mass: normal draws, those outside [a, b]
    replaced from a fresh draw of the whole tensor until none is. Else uniform proposals
    on [a, b], each kept where log(u) for a uniform u is at most its log density below
    the peak, the rest proposed again.
    """
    _check_tensor(tensor)  # before any draw
    if not std > 0:
        raise ValueError(f"trunc_normal_ needs std > 0, got std={std}")

    def cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    like = tensor.numpy()

    def draw(fill: Any, *args: float) -> np.ndarray:
        return fill(np.empty_like(like), *args, generator=generator)
    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        low, high = like.dtype.type(a), like.dtype.type(b)  # the bounds in the dtype, as PyTorch
        x = draw(random.normal_, mean, std)
        while (outside := (x < low) | (x > high)).any():
            x = np.where(outside, draw(random.normal_, mean, std), x)
    else:
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def rejected(proposal: np.ndarray) -> np.ndarray:  # in the dtype, step by step as PyTorch
            return np.log(draw(random.uniform_)) > ((proposal - mean) / std) ** 2 * -0.5 - log_peak
        x = draw(random.uniform_, a, b)
        pending = rejected(x)
        while pending.any():
            proposal = draw(random.uniform_, a, b)
            x = np.where(pending, proposal, x)
            pending &= rejected(proposal)
    return _filled(tensor, "copy_", Tensor(x))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with val."""
    return _filled(tensor, "fill_", val)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal) in a 2-D tensor."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_ fills 2-D tensors, got shape {tuple(tensor.shape)}")
    return _filled(tensor, "copy_", np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """A convolution's identity: 1 at the centre of each kernel that maps an input channel to
    the output channel of its number (within each of `groups`), 0 elsewhere, so the
    convolution passes those channels through."""
    _check_tensor(tensor)
    if not 3 <= tensor.ndim <= 5:
        raise ValueError(f"dirac_ fills 3-, 4- or 5-D tensors (convolution weights), got shape "
                         f"{tuple(tensor.shape)}")
    out_channels = tensor.shape[0]
    if out_channels % groups:
        raise ValueError(f"dirac_: dim 0 ({out_channels}) must be divisible by groups ({groups})")
    per_group = out_channels // groups
    channel = np.arange(min(per_group, tensor.shape[1]))
    weights = np.zeros(tensor.shape, tensor.numpy().dtype)
    weights[((np.arange(groups)[:, None] * per_group + channel).reshape(-1),
             np.tile(channel, groups), *(n // 2 for n in tensor.shape[2:]))] = 1
    return _filled(tensor, "copy_", Tensor(weights))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix times gain (Saxe et al. 2013), dims after the first
    flattened, made as PyTorch makes it: Q of the QR factorisation of a normal draw (of its
    transpose when wider than tall), each column's sign set by R's diagonal so that Q is
    uniformly distributed. The draw is PyTorch's; Q agrees with PyTorch's to the rounding
    of the factorisation (numpy's LAPACK works in float64)."""
    _check_tensor(tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_ fills tensors of 2 or more dims, got shape "
                         f"{tuple(tensor.shape)}")
    if not tensor.numel():
        return tensor
    rows = tensor.shape[0]
    drawn = random.normal_(np.empty((rows, tensor.numel() // rows), tensor.numpy().dtype),
                           generator=generator)
    wide = drawn.shape[1] > rows
    q, r = np.linalg.qr(drawn.T if wide else drawn)
    q = q * np.sign(np.diagonal(r))
    q = (q.T if wide else q).astype(drawn.dtype)
    return _filled(tensor, "copy_", Tensor((q * drawn.dtype.type(gain)).reshape(tensor.shape)))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """A 2-D tensor drawn from N(0, std**2), then in each column ceil(sparsity * rows)
    entries set to 0 (Martens 2010), as PyTorch's: the normals from `generator`, each
    column's zeros the first of a randperm of the rows drawn, as PyTorch 2.13 draws it,
    from the default generator whatever `generator` is."""
    _check_tensor(tensor)
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    normal_(tensor, 0, std, generator)
    # a permutation per column, drawn in column order as PyTorch's loop draws them; the
    # zeros then written at once: picked[k, c] is column c's k-th zeroed row
    picked = np.array([random.randperm(rows).numpy()[:zeros] for _ in range(cols)],
                      np.int64).reshape(cols, min(zeros, rows)).T
    with no_grad():
        tensor[picked, np.arange(cols)] = 0
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out): a weight's inputs and outputs per unit, PyTorch's layout
    (out, in, *kernel): in * kernel size and out * kernel size."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of 2 or more dims, got shape "
                         f"{tuple(tensor.shape)}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """N(0, std**2) with std = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    """gain / sqrt(fan), or None (with PyTorch's warning) for a tensor with no entries."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """U(-b, b) with b = sqrt(3) gain / sqrt(fan) (He et al.); nn.Linear's default with
    a = sqrt(5) gives b = 1 / sqrt(fan_in)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """N(0, std**2) with std = gain / sqrt(fan) (He et al.)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0, std, generator)
