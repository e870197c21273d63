"""Dropout of whole channels and alpha dropout, as functions (re-exported by nn.functional)
and as modules (exported by nn): dropout1d, dropout2d, dropout3d, alpha_dropout,
feature_alpha_dropout; Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout.
(Plain dropout is F.dropout and nn.Dropout; F.dropout's mask is made here.)

Channel ("feature") dropout zeroes each channel of each sample, all of its positions at
once: its mask has shape (N, C, 1, ...). Alpha dropout (for SELU networks) sets dropped
entries to SELU's negative saturation value and then scales and shifts so that the mean
and variance stay those of the input: x a + b with a = 1 / sqrt((alpha**2 p + 1)(1 - p)).
Masks are drawn from the engine's generator as PyTorch's CPU kernels draw them
(bernoulli_(1 - p) on a tensor of the mask's shape, filled in its memory order: laid out
as the input for plain and alpha dropout, contiguous for channel dropout), so a seeded run
drops what PyTorch's drops, transposed inputs included. Each is a product (and sum) of
engine ops: the gradient is g times the mask's scale.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from engine.random import bernoulli_, laid_out_like
from engine.tensor import Tensor, _as_tensor, _called
from nn.layers import Dropout

_ALPHA = 1.7580993408473766  # -SELU's scale * alpha: where SELU saturates for x -> -inf


def _check_p(p: float) -> None:
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropped(x: Tensor, p: float, inplace: bool, mask_shape: tuple | None,
             alpha: bool = False) -> Tensor:
    """x times a mask (broadcast over x): kept entries scaled by 1 / (1 - p) (by a, plus b,
    for alpha dropout). p = 1 multiplies by 0, drawing nothing, as PyTorch.

    The mask is PyTorch's: a contiguous one of `mask_shape` for channel dropout (its
    make_feature_noise), else (mask_shape None) one of x's shape laid out as x (its
    empty_like(input)); PyTorch fills it in memory order, so a transposed x's mask takes
    its numbers in x's memory order, not in row-major order."""
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1:
        zero = Tensor(np.zeros((), dtype))
        return x.mul_(zero) if inplace else x * zero
    empty = laid_out_like(x, dtype) if mask_shape is None else np.empty(mask_shape, dtype)
    noise = bernoulli_(empty, 1 - p)
    if not alpha:
        noise /= dtype.type(1 - p)
        return x.mul_(Tensor(noise)) if inplace else x * Tensor(noise)
    # PyTorch's arithmetic: each coefficient rounded to the dtype, then used
    a = 1 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    shift = (noise - 1) * dtype.type(_ALPHA * a) + dtype.type(_ALPHA * a * p)
    noise *= dtype.type(a)
    if inplace:
        return x.mul_(Tensor(noise)).add_(Tensor(shift))
    return x * Tensor(noise) + Tensor(shift)


def _feature_mask(shape: tuple, batched: bool) -> tuple:
    """The mask shape of channel dropout: (N, C, 1, ...), or (C, 1, ...) without a batch."""
    if len(shape) + (not batched) < 2:  # (an unbatched input gains a batch dim first)
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    kept = 2 if batched else 1
    return tuple(shape[:kept]) + (1,) * (len(shape) - kept)


def _feature_dropout(input: Any, p: float, training: bool, inplace: bool, batched: bool,
                     alpha: bool = False) -> Tensor:
    _check_p(p)
    x = _as_tensor(input)
    if p == 0 or not training or x.numel() == 0:
        return x
    if p == 1:  # all of it, before the shape is looked at, as PyTorch's
        out = x.mul_(0) if inplace else x * 0
    else:
        out = _dropped(x, p, inplace, _feature_mask(x.shape, batched), alpha)
    # PyTorch adds a batch dim to an unbatched input and squeezes it out again
    return out if batched or inplace else _called(out, "squeeze_dim")


# --- the functions ---

def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Each channel of (N, C, L) or (C, L) zeroed with probability p (all its positions at
    once), the rest scaled by 1 / (1 - p), in training; the input itself otherwise."""
    _check_p(p)
    input = _as_tensor(input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout "
                           "on inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, input.ndim == 3)


def _warn_dims(name: str, ndim: int, spatial: int) -> None:
    """PyTorch's warning for dropout2d / dropout3d of an input with other dims."""
    if ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead. Note that "
                      f"{name} exists to provide channel-wise dropout on inputs with {spatial} "
                      "spatial dimensions, a channel dimension, and an optional batch "
                      f"dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).",
                      UserWarning, stacklevel=3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Each channel of (N, C, H, W) zeroed with probability p, the rest scaled by
    1 / (1 - p), in training. A 3-D input is read as (N, C, L), as PyTorch reads it (with
    its warning), not as an unbatched (C, H, W)."""
    _check_p(p)
    input = _as_tensor(input)
    _warn_dims("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      UserWarning, stacklevel=2)
    return _feature_dropout(input, p, training, inplace, True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Each channel of (N, C, D, H, W) or (C, D, H, W) zeroed with probability p, the rest
    scaled by 1 / (1 - p), in training."""
    _check_p(p)
    input = _as_tensor(input)
    _warn_dims("dropout3d", input.ndim, 3)
    return _feature_dropout(input, p, training, inplace, input.ndim == 5)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """In training, each entry set with probability p to SELU's saturation value, then
    x a + b so that mean and variance are kept; the input itself otherwise."""
    _check_p(p)
    x = _as_tensor(input)
    if p == 0 or not training or x.numel() == 0:
        return x
    return _dropped(x, p, inplace, None, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels (dim 1) of each sample."""
    return _feature_dropout(input, p, training, inplace, True, alpha=True)


# --- the modules (p and inplace checked and shown by nn.Dropout's __init__ and repr) ---

class Dropout1d(Dropout):
    """dropout1d: whole channels of (N, C, L) or (C, L) zeroed in training."""

    def forward(self, input: Any) -> Tensor:
        return dropout1d(_as_tensor(input), self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """dropout2d: whole channels of (N, C, H, W) zeroed in training."""

    def forward(self, input: Any) -> Tensor:
        return dropout2d(_as_tensor(input), self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """dropout3d: whole channels of (N, C, D, H, W) or (C, D, H, W) zeroed in training."""

    def forward(self, input: Any) -> Tensor:
        return dropout3d(_as_tensor(input), self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """alpha_dropout in training (for SELU networks); inplace is kept but unused, as in
    PyTorch."""

    def forward(self, input: Any) -> Tensor:
        return alpha_dropout(_as_tensor(input), self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """feature_alpha_dropout in training: whole channels set to SELU's saturation value."""

    def forward(self, input: Any) -> Tensor:
        return feature_alpha_dropout(_as_tensor(input), self.p, self.training)
