"""Instance normalisation, as torch.nn's: the function instance_norm (re-exported by
nn.functional) and the layers InstanceNorm1d, InstanceNorm2d and InstanceNorm3d.

Each sample's channels are normalised on their own, over their positions: batch
normalisation of the input seen as one sample of N * C channels, which is how PyTorch
computes it, running statistics too (each channel's are repeated for every sample, moved
as batch_norm moves them, then averaged back over the samples). So it is a composite of
F.batch_norm, reshape and repeat, and states no derivative of its own.

The layers' defaults are PyTorch's: no affine weight and bias, no running statistics
(affine=True, track_running_stats=True to have them); with running statistics, eval mode
normalises with them.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from engine.tensor import Tensor, _as_tensor
from nn import functional as F
from nn.normalization import _BatchNorm


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias for each sample's channel (dim 1) over
    its positions, as torch's F.instance_norm: the mean and biased variance of the input
    (use_input_stats, updating the running statistics in place, with the variances'
    unbiased form averaged over the samples), or else the running statistics."""
    x = _as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm takes input of shape (N, C, *positions), got "
                         f"{tuple(x.shape)}")
    n, channels = x.shape[:2]
    if use_input_stats and math.prod(x.shape[2:]) == 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {tuple(x.shape)}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise ValueError("instance_norm without use_input_stats needs running_mean and "
                         "running_var")
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"instance_norm: {name} of shape {tuple(t.shape)} does not fit "
                             f"input {tuple(x.shape)} with {channels} channels; it needs shape "
                             f"({channels},)")
    stats = [None if t is None else Tensor(np.tile(t._data, n)) for t in (running_mean,
                                                                         running_var)]
    out = F.batch_norm(x.reshape(1, n * channels, *x.shape[2:]), *stats,
                       None if weight is None else weight.repeat(n),
                       None if bias is None else bias.repeat(n), use_input_stats, momentum, eps)
    if use_input_stats:
        for stat, moved in zip((running_mean, running_var), stats):
            if stat is not None:
                stat._data[...] = moved._data.reshape(n, channels).mean(axis=0)
                stat._changed()
    return out.reshape(x.shape)


class _InstanceNorm(_BatchNorm):
    """Normalises each sample's channels over their positions (F.instance_norm), with
    BatchNorm's parameters and buffers; input (N, C, *positions) or unbatched."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input: Any) -> Tensor:
        x = _as_tensor(input)
        dims = self._positions + 1  # an unbatched input's
        if x.ndim not in (dims, dims + 1):
            raise ValueError(f"{type(self).__name__} expects {dims}D or {dims + 1}D input "
                             f"(got {x.ndim}D input of shape {tuple(x.shape)})")
        channel_dim = x.ndim - dims
        if x.shape[channel_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{type(self).__name__}: expected input's size at dim="
                                 f"{channel_dim} to match num_features ({self.num_features}), "
                                 f"but got: {x.shape[channel_dim]}.")
            warnings.warn(f"input's size at dim={channel_dim} does not match num_features. "
                          "You can silence this warning by not passing in num_features, "
                          "which is not used because affine=False", stacklevel=2)
        unbatched = x.ndim == dims
        out = instance_norm(x.unsqueeze(0) if unbatched else x, self.running_mean,
                            self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """_InstanceNorm over (N, C, L) or (C, L): each sample's channel over its length."""
    _positions = 1


class InstanceNorm2d(_InstanceNorm):
    """_InstanceNorm over (N, C, H, W) or (C, H, W): each sample's channel over its image."""
    _positions = 2


class InstanceNorm3d(_InstanceNorm):
    """_InstanceNorm over (N, C, D, H, W) or (C, D, H, W)."""
    _positions = 3
