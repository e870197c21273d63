"""Smaller torch.nn.functional pieces: the in-place activation spellings (`relu_`,
`leaky_relu_`, `hardtanh_`, `elu_`), `pdist` (the distances between a set's rows), and
`channel_shuffle` with its layer `ChannelShuffle`. Each is composed from engine ops, so
their gradients are those ops' own.
"""
from __future__ import annotations

import numbers

import numpy as np

from engine.tensor import Tensor, _as_tensor, _called
from nn.activation import elu, hardtanh, leaky_relu
from nn.module import Module


def relu_(input: Tensor) -> Tensor:
    """relu written into the input."""
    return input.relu_()


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """leaky_relu written into the input."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """hardtanh written into the input."""
    return hardtanh(input, min_val, max_val, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """elu written into the input."""
    return elu(input, alpha, inplace=True)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distance between every pair of rows i < j of input (N, M), row by row
    (N (N - 1) / 2 of them), as torch's F.pdist; gradients are the norm's."""
    x = _as_tensor(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2-D input (N, M), got shape {tuple(x.shape)}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or p < 0:
        raise RuntimeError(f"pdist only supports non-negative p, got {p!r}")
    first, second = np.triu_indices(x.shape[0], 1)
    return _called((x[first] - x[second]).norm(p=p, dim=1), "pdist")


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Channels (dim 1) of input (N, C, *) regrouped: C is read as groups x C/groups and
    transposed, so each group's k-th channel lands next to the others', as torch's
    F.channel_shuffle."""
    x = _as_tensor(input)
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError(f"channel_shuffle: groups must be a positive int, got {groups!r}")
    if x.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input (N, C, *) of at least 3 dims, got "
                         f"shape {tuple(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    if c % groups:
        raise RuntimeError(f"channel_shuffle: the {c} channels do not split into {groups} "
                         "groups; pick groups dividing the channel count")
    rest = tuple(x.shape[2:])
    shuffled = x.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)
    return _called(shuffled, "channel_shuffle")


class ChannelShuffle(Module):
    """F.channel_shuffle with a fixed number of groups."""

    def __init__(self, groups: int) -> None:
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
