"""Normalisation layers, as torch.nn's: LayerNorm (over each sample's last dims),
BatchNorm1d and BatchNorm2d (over the batch, per channel, with running statistics for eval
mode; one code for both, which differ only in the input shapes they take)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from engine.tensor import Tensor, _as_tensor
from nn import functional as F
from nn.layers import _empty, _float_dtype, _size
from nn.module import Module
from nn.parameter import Parameter


class LayerNorm(Module):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dims (normalized_shape),
    each sample on its own; weight starts at 1 and bias at 0 (elementwise_affine)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(_size("LayerNorm", "normalized_shape", n) for n in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Parameter(_empty(self.normalized_shape, dtype, device))
            self.weight._data[...] = 1
            if bias:
                self.bias = Parameter(_empty(self.normalized_shape, dtype))
                self.bias._data[...] = 0

    def forward(self, input: Any) -> Tensor:
        return F.layer_norm(_as_tensor(input), self.normalized_shape, self.weight, self.bias,
                            self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine="
                f"{self.elementwise_affine}, bias={self.bias is not None}")


class _BatchNorm(Module):
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
        self.weight = self.bias = None
        if affine:
            self.weight = Parameter(_empty((num_features,), dtype, device))
            self.weight._data[...] = 1
            if bias:
                self.bias = Parameter(_empty((num_features,), dtype))
                self.bias._data[...] = 0
        self.running_mean = self.running_var = self.num_batches_tracked = None
        if track_running_stats:
            self.running_mean = Tensor(np.zeros(num_features, _float_dtype(dtype)))
            self.running_var = Tensor(np.ones(num_features, _float_dtype(dtype)))
            self.num_batches_tracked = Tensor(np.array(0, np.int64))

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
