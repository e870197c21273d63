"""The margin, embedding and likelihood losses, as functions (re-exported by nn.functional)
and as modules (exported by nn): margin_ranking_loss, triplet_margin_loss,
cosine_embedding_loss, hinge_embedding_loss, soft_margin_loss,
multilabel_soft_margin_loss, multilabel_margin_loss, multi_margin_loss, poisson_nll_loss
and gaussian_nll_loss; MarginRankingLoss, TripletMarginLoss, CosineEmbeddingLoss,
HingeEmbeddingLoss, SoftMarginLoss, MultiLabelSoftMarginLoss, MultiLabelMarginLoss,
MultiMarginLoss, PoissonNLLLoss, GaussianNLLLoss. (CTC is nn/ctc.py.)

Each is a composite of engine ops following PyTorch's own formula, so values and
gradients are PyTorch's, kinks included: where PyTorch clamps with clamp_min the gradient
passes at the tie, where its kernel tests z > 0 (the multi-class margins) it does not
(relu). Their grad_fn is the name PyTorch gives its last node.

Input and target must have one shape where PyTorch would broadcast them into a wrong loss
(as in nn/loss.py); `reduction` is 'mean', 'sum' or 'none', and the deprecated
size_average and reduce are read as PyTorch reads them.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.elementwise import where
from engine.grad_mode import is_grad_enabled
from engine.tensor import Tensor, _as_tensor, _called, _operands, _raw
from nn.activation import logsigmoid
from nn.distance import pairwise_distance
from nn.functional import _check_reduction, _pair
from nn.loss import _legacy, _LegacyLoss

_COSINE_EPS = 1e-12  # PyTorch's EPSILON in cosine_embedding_loss, added to each |x|**2


def _reduced(losses: Tensor, reduction: str) -> Tensor:
    """The losses' mean, sum, or themselves ('none'): PyTorch's apply_loss_reduction."""
    _check_reduction(reduction)
    return losses if reduction == "none" else losses.mean() if reduction == "mean" else (
        losses.sum())


def _labels(target: Any, like: Tensor) -> Tensor:
    """target as a Tensor of `like`'s dtype (labels given as ints or an array)."""
    return target if isinstance(target, Tensor) and target.dtype == like.dtype else Tensor(
        np.asarray(_raw(target)), dtype=like.dtype)


def _class_indices(target: Any, op: str) -> np.ndarray:
    """Integer class indices as an int64 array, or a TypeError saying how to get them."""
    labels = np.asarray(_raw(target))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op} takes integer class indices as target, got {labels.dtype} "
                        "(convert with .long())")
    return labels.astype(np.int64, copy=False)


def _constant(x: Any, op: str, what: str, dtype: np.dtype) -> np.ndarray:
    """A weight that takes no gradient, as an array (PyTorch does not differentiate it)."""
    if isinstance(x, Tensor) and x.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{op} is not differentiable with respect to {what!r}, as in "
                           f"PyTorch: pass {what}.detach()")
    return np.asarray(_raw(x), dtype)


# --- the functions ---

def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin), reduced; y = 1 ranks x1 first, y = -1 x2. The three
    must have one number of dims (they may broadcast)."""
    reduction = _legacy(size_average, reduce, reduction)
    x1, x2 = _operands("margin_ranking_loss", input1, input2, floating=True)
    y = _labels(target, x1)
    if not x1.ndim == x2.ndim == y.ndim:
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {tuple(x1.shape)}, input2: "
                           f"{tuple(x2.shape)}, target: {tuple(y.shape)}")
    losses = _called((-y * (x1 - x2) + margin).clamp_min(0), "clamp_min")
    return _reduced(losses, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)), reduced, d the pairwise_distance (p-norm, eps);
    with swap, d(a, n) is replaced by d(p, n) where that is smaller."""
    reduction = _legacy(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = [_as_tensor(t).ndim for t in (anchor, positive, negative)]
    if len(set(dims)) > 1:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = to_negative.minimum(pairwise_distance(positive, negative, p, eps))
    losses = _called((to_positive - to_negative + margin).clamp_min(0), "clamp_min")
    return _reduced(losses, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (0 for other
    y), reduced; rows of (N, D) inputs with targets (N,), or one pair of (D,) vectors with
    a 0-d target."""
    reduction = _legacy(size_average, reduce, reduction)
    x1, x2 = _operands("cosine_embedding_loss", input1, input2, floating=True)
    y = _labels(target, x1)
    if y.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if not x1.ndim == x2.ndim == y.ndim + 1:
        raise RuntimeError(f"{y.ndim}D target tensor expects {y.ndim + 1}D input tensors, but "
                           f"found inputs with sizes {list(x1.shape)} and {list(x2.shape)}.")
    dim = y.ndim
    products = (x1 * x2).sum(dim)
    squares = ((x1 * x1).sum(dim) + _COSINE_EPS) * ((x2 * x2).sum(dim) + _COSINE_EPS)
    cos = products / squares.sqrt()
    losses = where(y == 1, 1 - cos, 0.0) + where(y == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduced(losses, reduction)


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1, reduced (x is often a distance);
    PyTorch's formula, which adds both terms for a y that is neither."""
    reduction = _legacy(size_average, reduce, reduction)
    x, y = _pair("hinge_embedding_loss", input, target)
    y = _labels(y, x)
    losses = (where(y != 1, (margin - x).clamp_min(0), 0.0) + where(y != -1, x, 0.0))
    return _reduced(losses, reduction)


def soft_margin_loss(input: Tensor, target: Any, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """ln(1 + e**(-y x)) for labels y = +-1, reduced (computed as -logsigmoid(y x), which
    cannot overflow)."""
    reduction = _legacy(size_average, reduce, reduction)
    x, y = _pair("soft_margin_loss", input, target)
    return _called(_reduced(-logsigmoid(_labels(y, x) * x), reduction), "soft_margin_loss")


def multilabel_soft_margin_loss(input: Tensor, target: Any, weight: Any = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """The binary cross entropy of sigmoid(x) against 0/1 targets, times weight, averaged
    over the classes (the last dim), then reduced over the samples."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, y = _pair("multilabel_soft_margin_loss", input, target)
    y = _labels(y, x)
    losses = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        losses = losses * weight
    classes = x.shape[-1] if x.ndim else 1
    return _reduced(losses.sum(x.ndim - 1 if x.ndim else None) / classes, reduction)


def _frames(x: Tensor, op: str) -> tuple[int, int]:
    """(samples, classes) of a multi-class margin loss's input: (N, C), (C,) or 0-d."""
    valid = (x.ndim == 2 and x.shape[1]) or (x.ndim == 1 and x.shape[0]) or x.ndim == 0
    if not valid:
        raise RuntimeError(f"{op}: expected a non-empty vector or matrix with optional 0-dim "
                           f"batch size, but got input of shape {tuple(x.shape)}")
    return (x.shape[0], x.shape[1]) if x.ndim == 2 else (1, x.shape[0] if x.ndim else 1)


def multilabel_margin_loss(input: Tensor, target: Any, size_average: bool | None = None,
                           reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])),
    over the number of classes, reduced over the samples. Each row of target lists the
    target classes, ended by the first -1."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    x = _operands("multilabel_margin_loss", input, floating=True)[0]
    n, classes = _frames(x, "multilabel_margin_loss")
    labels = _class_indices(target, "multilabel_margin_loss")
    if (labels.shape != tuple(x.shape) if x.ndim == 2 else
            labels.ndim > 1 or labels.size != classes):
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: "
                           f"{list(labels.shape)} for input of size: {list(x.shape)}")
    if labels.size and (labels.min() < -1 or labels.max() >= classes):
        raise RuntimeError(f"multilabel_margin_loss: target must hold class indices in [0, "
                           f"{classes}) or -1 (the end of a row), got values from "
                           f"{labels.min()} to {labels.max()}")
    rows, scores = labels.reshape(n, classes), x.reshape(n, classes)
    listed = np.cumprod(rows >= 0, axis=1).astype(bool)  # the slots before the first -1
    slots = int(listed.sum(1).max(initial=0))
    is_target = np.zeros((n, classes), bool)
    is_target[np.nonzero(listed)[0], rows[listed]] = True
    picked = scores.gather(1, np.where(listed, rows, 0)[:, :slots])  # x[j] per slot (n, k)
    margins = (1 - picked.unsqueeze(2) + scores.unsqueeze(1)).relu()  # (n, slot, i)
    counted = listed[:, :slots, None] & ~is_target[:, None, :]
    losses = (margins * Tensor(counted, dtype=x.dtype)).sum((1, 2)) / classes
    if reduction == "none" and labels.ndim <= 1:  # one sample: a 0-d loss, as PyTorch's
        losses = losses.reshape(())
    return _called(_reduced(losses, reduction), "multilabel_margin_loss")


def multi_margin_loss(input: Tensor, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Any = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """sum over classes i != y of w[y] max(0, margin - x[y] + x[i])**p, over the number of
    classes, reduced over the samples (p is 1 or 2); the multi-class hinge loss."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = _operands("multi_margin_loss", input, floating=True)[0]
    n, classes = _frames(x, "multi_margin_loss")
    labels = _class_indices(target, "multi_margin_loss")
    if labels.ndim > 1 or labels.size != n:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{n}], but got {list(labels.shape)}. Input has shape "
                           f"{list(x.shape)}.")
    batched, labels = labels.ndim == 1, labels.reshape(n)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise RuntimeError(f"multi_margin_loss: target out of range: class indices must lie in "
                           f"[0, {classes}), got values from {labels.min()} to {labels.max()}")
    scores = x.reshape(n, classes)
    margins = (scores - scores.gather(1, labels[:, None]) + margin).relu()
    if p == 2:
        margins = margins * margins
    others = labels[:, None] != np.arange(classes)
    scale = others.astype(x.dtype)
    if weight is not None:
        w = _constant(weight, "multi_margin_loss", "weight", x.dtype)
        if w.ndim != 1:
            raise ValueError("weight must be one-dimensional")
        if w.shape != (classes,):
            raise RuntimeError(f"inconsistent weight size, expected {classes} but got "
                               f"{list(w.shape)}")
        scale = scale * w[labels][:, None]
    losses = (margins * Tensor(scale)).sum(1) / classes
    if reduction == "none" and not batched:  # a 0-d target: a 0-d loss, as PyTorch's
        losses = losses.reshape(())
    return _called(_reduced(losses, reduction), "multi_margin_loss")


def poisson_nll_loss(input: Tensor, target: Any, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of target counts t under a Poisson of rate r, without
    its constant ln(t!): e**x - t x for log-rates x (log_input), else x - t ln(x + eps);
    with full, plus Stirling's t ln(t) - t + ln(2 pi t) / 2 where t > 1. Reduced."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, t = _pair("poisson_nll_loss", input, target)
    x, t = _operands("poisson_nll_loss", x, t, floating=True)
    losses = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = t * t.log() - t + (t * (2 * math.pi)).log() * 0.5
        losses = losses + stirling.masked_fill(t <= 1, 0)
    return _reduced(losses, reduction)


def _gaussian_var(var: Any, x: Tensor) -> Tensor:
    """var as a Tensor that broadcasts against the input, by PyTorch's rules: the input's
    shape; or one dim short of it (the last dim shared); or its shape with one dim of 1."""
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        return Tensor(np.full(x.shape, var, x.dtype))
    var = _as_tensor(var)
    if bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape == x.shape:
        return var
    if tuple(x.shape[:-1]) == tuple(var.shape):
        return var.unsqueeze(-1)
    if var.ndim == x.ndim and sum(v for s, v in zip(x.shape, var.shape) if s != v) == 1:
        return var
    raise ValueError(f"var is of incorrect size: {tuple(var.shape)} for an input of shape "
                     f"{tuple(x.shape)} (pass the input's shape, that shape without its last "
                     "dim, or that shape with one dim of size 1)")


def gaussian_nll_loss(input: Tensor, target: Any, var: Any, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """(ln(max(var, eps)) + (x - t)**2 / max(var, eps)) / 2, plus ln(2 pi) / 2 with full,
    reduced: the negative log-likelihood of t under a normal of mean x and variance var.
    var is clamped to eps as PyTorch clamps it (under no_grad: its gradient passes as if
    unclamped)."""
    _check_reduction(reduction)
    x = _as_tensor(input)
    var = _gaussian_var(var, x)
    x, t, var = _operands("gaussian_nll_loss", x, target, var, floating=True)
    if np.broadcast_shapes(tuple(x.shape), tuple(t.shape)) != tuple(x.shape):
        raise ValueError(f"gaussian_nll_loss: target of shape {tuple(t.shape)} does not "
                         f"broadcast to the input's shape {tuple(x.shape)}")
    # the clamped numbers, with var's gradient passing unchanged (var - var is exactly 0)
    var = Tensor(np.maximum(var._data, var._data.dtype.type(eps))) + (var - var.detach())
    losses = 0.5 * (var.log() + (x - t) ** 2 / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduced(losses, reduction)


# --- the modules ---

class MarginRankingLoss(_LegacyLoss):
    """margin_ranking_loss(input1, input2, target, margin)."""

    def __init__(self, margin: float = 0.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin,
                                   reduction=self.reduction)


class TripletMarginLoss(_LegacyLoss):
    """triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap)."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, reduction=self.reduction)


class CosineEmbeddingLoss(MarginRankingLoss):
    """cosine_embedding_loss(input1, input2, target, margin)."""

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_LegacyLoss):
    """hinge_embedding_loss(input, target, margin)."""

    def __init__(self, margin: float = 1.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_LegacyLoss):
    """soft_margin_loss(input, target): ln(1 + e**(-y x)), reduced."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelMarginLoss(_LegacyLoss):
    """multilabel_margin_loss(input, target): target rows list classes, ended by -1."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_LegacyLoss):
    """multilabel_soft_margin_loss(input, target, weight)."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return multilabel_soft_margin_loss(input, target, self.weight,
                                           reduction=self.reduction)


class MultiMarginLoss(_LegacyLoss):
    """multi_margin_loss(input, target, p, margin, weight): the multi-class hinge loss."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.ndim}D instead")
        self.register_buffer("weight", weight)
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                 reduction=self.reduction)


class PoissonNLLLoss(_LegacyLoss):
    """poisson_nll_loss(log_input, target, log_input, full, eps=eps)."""

    def __init__(self, log_input: bool = True, full: bool = False,
                 size_average: bool | None = None, eps: float = 1e-8,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Any) -> Tensor:
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_LegacyLoss):
    """gaussian_nll_loss(input, target, var, full, eps)."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Any, var: Any) -> Tensor:
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)
