"""Normalisation layers, as torch.nn's: LayerNorm (over each sample's last dims),
BatchNorm1d, BatchNorm2d and BatchNorm3d (over the batch, per channel, with running
statistics for eval mode; one code for all, which differ only in the input shapes they
take), RMSNorm (each sample's last dims scaled by their root mean square) and GroupNorm
(each sample's channels normalised in groups); with the functions rms_norm, group_norm,
normalize and cosine_similarity (re-exported by nn.functional) and the CosineSimilarity
module. These functions are composites of engine ops."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from engine.inplace import write_out
from engine.tensor import Tensor, _as_tensor
from nn import functional as F
from nn import init
from nn.layers import _empty, _float_dtype, _size
from nn.module import Module
from nn.parameter import Parameter


class _Affine(Module):
    """What the normalisation layers share: a weight (1 at the start) and bias (0) of one
    shape, each optional, and reset_parameters() putting them back there, as PyTorch's
    (each layer's __init__ ends with it)."""

    def _add_affine(self, shape: tuple, weight: bool, bias: bool, dtype: Any,
                    device: Any) -> None:
        self.weight = Parameter(_empty(shape, dtype, device)) if weight else None
        self.bias = Parameter(_empty(shape, dtype, device)) if weight and bias else None

    def reset_parameters(self) -> None:
        """weight to 1 and bias to 0, in place."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class LayerNorm(_Affine):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dims (normalized_shape),
    each sample on its own; weight starts at 1 and bias at 0 (elementwise_affine)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(_size("LayerNorm", "normalized_shape", n) for n in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._add_affine(self.normalized_shape, elementwise_affine, bias, dtype, device)
        self.reset_parameters()

    def forward(self, input: Any) -> Tensor:
        return F.layer_norm(_as_tensor(input), self.normalized_shape, self.weight, self.bias,
                            self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine="
                f"{self.elementwise_affine}, bias={self.bias is not None}")


class _BatchNorm(_Affine):
    """Normalises each channel (dim 1) over the batch (and any dims after the channel).

    In training it uses the batch's mean and (biased) variance and moves the running
    statistics towards them: running = (1 - momentum) running + momentum batch, with the
    unbiased variance, or their plain average over all batches when momentum is None. In
    eval mode it uses the running statistics (unless track_running_stats=False, which
    keeps none and always uses the batch's). weight starts at 1, bias at 0 (affine).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        self.num_features = _size(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._add_affine((num_features,), affine, bias, dtype, device)
        self.running_mean = self.running_var = self.num_batches_tracked = None
        if track_running_stats:
            dtype = _float_dtype(dtype)
            self.running_mean = Tensor(np.empty(num_features, dtype))
            self.running_var = Tensor(np.empty(num_features, dtype))
            self.num_batches_tracked = Tensor(np.empty((), np.int64))
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """The running mean to 0, variance to 1 and batch count to 0, in place."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """The running statistics and weight and bias as they start."""
        self.reset_running_stats()
        super().reset_parameters()

    def forward(self, input: Any) -> Tensor:
        x = _as_tensor(input)
        if x.ndim not in self._input_dims or x.shape[1] != self.num_features:
            shapes = " or ".join(shape.format(self.num_features) for shape in self._shapes)
            raise ValueError(f"{self!r} takes input of shape {shapes}, got {tuple(x.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:  # the running statistics average every batch alike
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """_BatchNorm over (n, c) or (n, c, length): each channel over the batch (and length)."""
    _input_dims, _shapes = (2, 3), ("(n, {})", "(n, {}, length)")


class BatchNorm2d(_BatchNorm):
    """_BatchNorm over (n, c, h, w): each channel over the batch and every position."""
    _input_dims, _shapes = (4,), ("(n, {}, h, w)",)


class BatchNorm3d(_BatchNorm):
    """_BatchNorm over (n, c, d, h, w): each channel over the batch and every position."""
    _input_dims, _shapes = (5,), ("(n, {}, d, h, w)",)


# --- more normalisation, as functions ---

def _shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(normalized_shape)


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x**2) + eps) * weight over the last dims (normalized_shape); eps None
    is the input dtype's machine epsilon (PyTorch >= 2.4)."""
    shape = _shape(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or (
            weight is not None and tuple(weight.shape) != shape):
        raise ValueError(f"rms_norm over normalized_shape {shape} needs an input of shape "
                         f"(..., {', '.join(map(str, shape))}) and a weight of shape {shape}; "
                         f"got input {tuple(input.shape)}" + (
                             "" if weight is None else f", weight {tuple(weight.shape)}"))
    eps = float(np.finfo(input.dtype).eps) if eps is None else eps
    dims = tuple(range(-len(shape), 0))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Each sample's channels (dim 1) split into num_groups groups, each group normalised
    over its channels and positions, then weight * x + bias per channel."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: input of shape (n, channels, ...) with channels "
                         f"divisible by num_groups={num_groups} needed, got "
                         f"{tuple(input.shape)}")
    n, channels = input.shape[:2]
    groups = input.reshape(n, num_groups, math.prod(input.shape[1:]) // num_groups)
    centred = groups - groups.mean(-1, keepdim=True)
    out = (centred * ((centred * centred).mean(-1, keepdim=True) + eps).rsqrt()).reshape(
        input.shape)
    along = (1, channels) + (1,) * (input.ndim - 2)  # a channel's numbers broadcast
    if weight is not None:
        out = out * weight.reshape(along)
    return out if bias is None else out + bias.reshape(along)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """x / max(||x||_p, eps) along dim (written into `out` when given, as PyTorch's)."""
    result = input / input.norm(p, dim, keepdim=True).clamp_min(eps)
    return result if out is None else write_out(out, result, "normalize")


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim (x1, x2 broadcast)."""
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    units = []
    for x in (x1.expand(shape), x2.expand(shape)):
        norm = x.norm(2, dim, keepdim=True)
        # clamped below at eps, with the norm's own gradient: PyTorch clamps under no_grad
        units.append(x / (norm + (norm.clamp_min(eps) - norm).detach()))
    return (units[0] * units[1]).sum(dim)


class RMSNorm(_Affine):
    """x / sqrt(mean(x**2) + eps) * weight over the last dims (normalized_shape), each
    sample on its own; weight starts at 1 (elementwise_affine); eps None is the dtype's
    machine epsilon."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None) -> None:
        self.normalized_shape = tuple(_size("RMSNorm", "normalized_shape", n)
                                      for n in _shape(normalized_shape))
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._add_affine(self.normalized_shape, elementwise_affine, False, dtype, device)
        self.reset_parameters()

    def forward(self, input: Any) -> Tensor:
        return rms_norm(_as_tensor(input), self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(_Affine):
    """Each sample's num_channels channels normalised in num_groups groups, then scaled and
    shifted per channel by weight (starts at 1) and bias (starts at 0) when affine."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        self.num_groups = _size("GroupNorm", "num_groups", num_groups)
        self.num_channels = _size("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps, self.affine = eps, affine
        self._add_affine((num_channels,), affine, bias, dtype, device)
        self.reset_parameters()

    def forward(self, input: Any) -> Tensor:
        x = _as_tensor(input)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{self!r} takes input of shape (n, {self.num_channels}, ...), got "
                             f"{tuple(x.shape)}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class CosineSimilarity(Module):
    """cosine_similarity(x1, x2, dim, eps)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)
