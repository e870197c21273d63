"""Tensor layers with PyTorch's names, signatures, defaults, initialisation and shapes:
Linear, Embedding, Identity, Flatten, Unflatten, Dropout, the convolutions and pools
(Conv1d, Conv2d, Conv3d, MaxPool2d, MaxPool3d, AvgPool2d, AvgPool3d, AdaptiveAvgPool2d,
AdaptiveAvgPool3d; their functions are in nn/convolution.py), the activations (ReLU, GELU,
Tanh, Sigmoid, Softmax, LogSoftmax) and the losses as modules (CrossEntropyLoss, NLLLoss,
MSELoss). Containers are in nn/container.py, normalisation in nn/normalization.py; the
other activations and losses in nn/activation.py and nn/loss.py.

Linear's weight is (out_features, in_features), as torch.nn.Linear's, and it computes
`F.linear`: one graph node. Initial weights are drawn as PyTorch draws them, from the
engine's generator (engine/random.py, PyTorch's CPU numbers), so after
`engine.manual_seed(0)` an `nn.Linear(3, 2)` holds the very weights `torch.manual_seed(0);
torch.nn.Linear(3, 2)` holds (and likewise for Conv2d). `nn.manual_seed` is
`engine.manual_seed`.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from engine.devices import check as check_device
from engine.dtypes import get_default_dtype
from engine.random import manual_seed  # noqa: F401  (nn.manual_seed)
from engine.tensor import Tensor, _as_tensor
from nn import functional as F
from nn import init
from nn.convolution import _ints
from nn.module import Module
from nn.parameter import Parameter


def _size(owner: str, name: str, n: Any) -> int:
    """A layer size as an int, or a ValueError naming it."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{owner}'s {name} must be a positive int, got {n!r}")
    return int(n)


def _float_dtype(dtype: Any) -> np.dtype:
    """A layer's dtype: the default float dtype (float32) unless told, and a float one."""
    dtype = np.dtype(dtype or get_default_dtype())
    if dtype.kind != "f":
        raise TypeError(f"a layer's weights are floats; got dtype={dtype}")
    return dtype


def _empty(shape: tuple, dtype: Any, device: Any = None) -> np.ndarray:
    """Room for a weight, to be filled by its initialisation."""
    check_device(device)
    return np.empty(shape, _float_dtype(dtype))


def _add_weight_and_bias(layer: Module, shape: tuple, bias: bool, dtype: Any,
                         device: Any) -> None:
    """layer.weight of `shape` and layer.bias (shape[0],) (or None), initialised by the
    layer's reset_parameters."""
    layer.weight = Parameter(_empty(shape, dtype, device))
    layer.bias = Parameter(_empty(shape[:1], dtype)) if bias else None
    layer.weight.label = "weight"
    if layer.bias is not None:
        layer.bias.label = "bias"
    layer.reset_parameters()


def _uniform_init(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and the convolutions, drawn from the engine's generator:
    weight and bias uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform_ with
    a = sqrt(5) for the weight)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """x @ weight.T + bias, with weight (out_features, in_features) and bias (out_features,).

    Both start uniform in [-1/sqrt(in_features), 1/sqrt(in_features)]: PyTorch's default,
    kaiming_uniform_ with a = sqrt(5) for the weight.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        self.in_features = _size("Linear", "in_features", in_features)
        self.out_features = _size("Linear", "out_features", out_features)
        _add_weight_and_bias(self, (out_features, in_features), bias, dtype, device)

    def reset_parameters(self) -> None:
        """PyTorch's initialisation, drawn from the engine's generator."""
        _uniform_init(self.weight, self.bias)

    def forward(self, input: Any) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _table(layer: Module, given: Tensor | None, frozen: bool, dtype: Any, device: Any) -> None:
    """An embedding layer's weight: a new table, drawn by its reset_parameters(), or the
    one `given` (PyTorch's `_weight`), which must have the layer's shape."""
    shape = (layer.num_embeddings, layer.embedding_dim)
    if given is None:
        layer.weight = Parameter(_empty(shape, dtype, device))
        layer.reset_parameters()
    else:
        if tuple(given.shape) != shape:
            raise ValueError(f"{type(layer).__name__}: _weight of shape {tuple(given.shape)} "
                             f"does not match {shape}")
        layer.weight = Parameter(given, requires_grad=not frozen)
    layer.weight.label = "weight"


class Embedding(Module):
    """A table of num_embeddings vectors of embedding_dim numbers, looked up by integer
    index: (...) ids -> (..., embedding_dim), F.embedding with this module's settings.
    Starts N(0, 1) as PyTorch's, with the row padding_idx (if given) zero and never
    trained; `_weight` gives the table instead (frozen if `_freeze`)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        self.num_embeddings = _size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _size("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding's padding_idx must lie in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        _table(self, _weight, _freeze, dtype, device)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding `embeddings` (2-D) as its weight, frozen unless told."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained takes a 2-D table (num_embeddings, "
                             f"embedding_dim), got shape {tuple(embeddings.shape)}")
        return cls(*embeddings.shape, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                   sparse, _weight=embeddings, _freeze=freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Any) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        settings = [f"{self.num_embeddings}, {self.embedding_dim}"]
        if self.padding_idx is not None:
            settings.append(f"padding_idx={self.padding_idx}")
        if self.max_norm is not None:
            settings.append(f"max_norm={self.max_norm}")
        if self.norm_type != 2:
            settings.append(f"norm_type={self.norm_type}")
        if self.scale_grad_by_freq:
            settings.append("scale_grad_by_freq=True")
        if self.sparse:
            settings.append("sparse=True")
        return ", ".join(settings)


class Identity(Module):
    """Returns its input (a placeholder, e.g. for a layer switched off)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # PyTorch's Identity accepts and ignores any arguments

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Dims start_dim..end_dim merged into one: (n, c, h, w) -> (n, c*h*w) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Any) -> Tensor:
        return _as_tensor(input).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dim `dim` unfolded into the sizes `unflattened_size` (one may be -1): Flatten's
    inverse, e.g. (n, 784) -> (n, 1, 28, 28)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Any) -> Tensor:
        x = _as_tensor(input)
        sizes = self.unflattened_size
        size = x.shape[self.dim] if -x.ndim <= self.dim < x.ndim else None
        known = math.prod(n for n in sizes if n != -1)
        if size is None or sizes.count(-1) > 1 or (
                size != known if -1 not in sizes else not known or size % known):
            raise ValueError(f"Unflatten: sizes {sizes} do not fit dim {self.dim} of an input "
                             f"of shape {tuple(x.shape)} (their product must be that dim's size)")
        dim = self.dim % x.ndim
        return x.reshape(tuple(x.shape[:dim]) + sizes + tuple(x.shape[dim + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """In training, zeroes each entry with probability p and scales the rest by 1/(1-p);
    in eval mode (`model.eval()`), passes its input through."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Any) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# --- convolutions and pooling ---

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _set_channels(layer: Module, in_channels: int, out_channels: int, groups: int) -> None:
    """A convolution's (or a transposed one's) channel counts and groups, checked."""
    name = type(layer).__name__
    layer.in_channels = _size(name, "in_channels", in_channels)
    layer.out_channels = _size(name, "out_channels", out_channels)
    layer.groups = _size(name, "groups", groups)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                         f"({out_channels}) must both be divisible by groups ({groups})")


class _ConvNd(Module):
    """What Conv1d, Conv2d and Conv3d share: their settings, weight (out_channels, in_channels /
    groups, *kernel_size) and bias (out_channels,), initialised as Linear's."""
    _dims = 2
    _function = staticmethod(F.conv2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        name, nd = type(self).__name__, self._dims
        _set_channels(self, in_channels, out_channels, groups)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {list(_PADDING_MODES)}, "
                             f"got {padding_mode!r}")
        self.kernel_size = _ints(name, "kernel_size", kernel_size, nd, 1)
        self.stride = _ints(name, "stride", stride, nd, 1)
        self.dilation = _ints(name, "dilation", dilation, nd, 1)
        self.padding = padding if isinstance(padding, str) else _ints(name, "padding", padding,
                                                                     nd, 0)
        if padding == "same" and self.stride != (1,) * nd:
            raise ValueError(f"{name}: padding='same' is not supported for strided "
                             f"convolutions (stride {self.stride})")
        self.padding_mode = padding_mode
        _add_weight_and_bias(self, (out_channels, in_channels // groups, *self.kernel_size),
                             bias, dtype, device)

    def reset_parameters(self) -> None:
        """PyTorch's initialisation, drawn from the engine's generator."""
        _uniform_init(self.weight, self.bias)

    def forward(self, input: Any) -> Tensor:
        if self.padding_mode == "zeros":
            return self._function(input, self.weight, self.bias, self.stride, self.padding,
                                  self.dilation, self.groups)
        # as PyTorch: the input padded by F.pad in that mode, then no padding in the conv
        return self._function(F.pad(input, self._pad_widths(), self.padding_mode),
                              self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def _pad_widths(self) -> tuple[int, ...]:
        """F.pad's (before, after) pairs, last dim first, for this layer's padding."""
        if self.padding == "valid":
            return (0, 0) * self._dims
        if self.padding == "same":  # the kernel's span less 1, the odd one after
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            return tuple(w for t in reversed(totals) for w in (t // 2, t - t // 2))
        return tuple(w for p in reversed(self.padding) for w in (p, p))

    def extra_repr(self) -> str:
        nd = self._dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * nd:
            text += f", padding={self.padding}"  # PyTorch shows padding=same unquoted
        if self.dilation != (1,) * nd:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text + ("" if self.padding_mode == "zeros" else
                       f", padding_mode={self.padding_mode}")


class Conv2d(_ConvNd):
    """F.conv2d with this layer's weight, bias and settings: (N, in_channels, H, W) ->
    (N, out_channels, H_out, W_out)."""


class Conv1d(_ConvNd):
    """F.conv1d with this layer's weight, bias and settings: (N, in_channels, L) ->
    (N, out_channels, L_out)."""
    _dims = 1
    _function = staticmethod(F.conv1d)


class Conv3d(_ConvNd):
    """F.conv3d with this layer's weight, bias and settings: (N, in_channels, D, H, W) ->
    (N, out_channels, D_out, H_out, W_out)."""
    _dims = 3
    _function = staticmethod(F.conv3d)


class _MaxPoolNd(Module):
    """What MaxPool2d and MaxPool3d share: their settings, kept as given."""
    _function = staticmethod(F.max_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Any) -> Any:
        return self._function(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """F.max_pool2d: the largest entry of each kernel_size window, every stride (the
    kernel_size by default) entries."""


class MaxPool3d(_MaxPoolNd):
    """F.max_pool3d: the largest entry of each kernel_size window of (N, C, D, H, W)."""
    _function = staticmethod(F.max_pool3d)


class _AvgPoolNd(Module):
    """What AvgPool2d and AvgPool3d share: their settings, kept as given."""
    _function = staticmethod(F.avg_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Any) -> Tensor:
        return self._function(input, self.kernel_size, self.stride, self.padding,
                              self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """F.avg_pool2d: the mean of each kernel_size window, every stride (the kernel_size by
    default) entries."""


class AvgPool3d(_AvgPoolNd):
    """F.avg_pool3d: the mean of each kernel_size window of (N, C, D, H, W)."""
    _function = staticmethod(F.avg_pool3d)


class _AdaptiveAvgPoolNd(Module):
    """What AdaptiveAvgPool2d and AdaptiveAvgPool3d share: the output size."""
    _function = staticmethod(F.adaptive_avg_pool2d)

    def __init__(self, output_size: Any) -> None:
        self.output_size = output_size

    def forward(self, input: Any) -> Tensor:
        return self._function(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """F.adaptive_avg_pool2d: the mean over windows that give output_size (1: the mean of
    each channel)."""


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """F.adaptive_avg_pool3d: the mean over windows of (N, C, D, H, W) that give
    output_size."""
    _function = staticmethod(F.adaptive_avg_pool3d)


# --- activations ---

class ReLU(Module):
    """max(x, 0), elementwise."""

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = inplace

    def forward(self, input: Any) -> Tensor:
        return F.relu(_as_tensor(input), self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    """x Phi(x), Phi the standard normal CDF; approximate='tanh' for the tanh formula."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU's approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Any) -> Tensor:
        return F.gelu(_as_tensor(input), self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, input: Any) -> Tensor:
        return _as_tensor(input).tanh()


class Sigmoid(Module):
    """1 / (1 + e**-x), elementwise."""

    def forward(self, input: Any) -> Tensor:
        return _as_tensor(input).sigmoid()


class Softmax(Module):
    """e**x / sum(e**x) along dim."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim

    def forward(self, input: Any) -> Tensor:
        return F.softmax(_as_tensor(input), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x - logsumexp(x) along dim."""

    def forward(self, input: Any) -> Tensor:
        return F.log_softmax(_as_tensor(input), self.dim)


# --- losses as modules ---

class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        F._check_reduction(reduction)
        self.reduction = reduction


class MSELoss(_Loss):
    """mean((input - target)**2) (or 'sum' or 'none')."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(F._legacy(size_average, reduce, reduction))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """F.nll_loss(input, target) with this module's class weights (a buffer, as PyTorch's),
    ignore_index and reduction: input holds log-probabilities."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(F._legacy(size_average, reduce, reduction))
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(NLLLoss):
    """F.cross_entropy(input, target) with this module's class weights, ignore_index,
    reduction and label_smoothing."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)
