"""More losses, as functions (re-exported by nn.functional) and as modules (exported by nn):
binary_cross_entropy (on probabilities) and binary_cross_entropy_with_logits, l1_loss,
smooth_l1_loss, huber_loss and kl_div; BCELoss, BCEWithLogitsLoss, L1Loss, SmoothL1Loss,
HuberLoss, KLDivLoss.

All but the two binary cross entropies are composites of engine ops. binary_cross_entropy
is a primitive because PyTorch clamps its logarithms at -100 and divides its gradient by
max(x (1 - x), 1e-12): at a probability of exactly 0 or 1 (a saturated float32 sigmoid)
it gives a finite loss and gradient, which no composite of log and clamp can (0 times the
log's infinite slope is nan). binary_cross_entropy_with_logits is one node, weights and
reduction included, as PyTorch's fused op (BinaryCrossEntropyWithLogitsBackward0); it is
computed through softplus, so logits of magnitude 1000 give finite values and gradients.

Input and target must have one shape (PyTorch only warns for most of these, then
broadcasts into a wrong loss); `reduction` is 'mean', 'sum' or 'none' ('batchmean' too for
kl_div); the deprecated size_average and reduce are read as PyTorch reads them.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine.elementwise import where
from engine.grad_mode import is_grad_enabled
from engine.tensor import Tensor, _called, _exp, _log, _node, _operands, _raw, _where
from nn.activation import logsigmoid
from nn.functional import _check_reduction, _legacy, _pair, _reduce
from nn.layers import _Loss


def _weighted(losses: Tensor, weight: Any) -> Tensor:
    return losses if weight is None else losses * weight


# --- the functions ---

_EPS = float(np.float32(1e-12))  # PyTorch's bound on x (1 - x), a float32 number in float64 too


def _bce(x: Tensor, t: Tensor) -> Tensor:
    """-(t max(ln(x), -100) + (1 - t) max(ln(1 - x), -100));
    dx = g (x - t) / (x (1 - x)) where x (1 - x) > 1e-12, g (x - t) / 1e-12 where
    x (1 - x) <= 1e-12; dt = g (ln(1 - x) - ln(x))."""
    with np.errstate(divide="ignore"):
        out = ((t._data - 1) * np.maximum(np.log1p(-x._data), -100)
               - t._data * np.maximum(np.log(x._data), -100))

    def rule(g: Any, out: Any, need: list, x: Any, t: Any) -> tuple:
        spread = x * (1 - x)
        with np.errstate(divide="ignore"):
            return (g * (x - t) / _where(_raw(spread) > _EPS, spread, _EPS) if need[0]
                    else None, g * (_log(1 - x) - _log(x)) if need[1] else None)
    return _node(out, "binary_cross_entropy", rule, x, t)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """-w (t ln(x) + (1 - t) ln(1 - x)) for probabilities x and targets t in [0, 1], each
    log at least -100, reduced."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, t = _pair("binary_cross_entropy", input, target)
    x, t = _operands("binary_cross_entropy", x, t)
    for name, a in (("input", x), ("target", t)):
        if not ((a._data >= 0) & (a._data <= 1)).all():
            raise ValueError(f"binary_cross_entropy: every {name} must lie in [0, 1] (for "
                             "scores, use binary_cross_entropy_with_logits)")
    return _called(_reduce(_weighted(_bce(x, t), weight), reduction), "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """w ((1 - t) x - (1 + (pos_weight - 1) t) logsigmoid(x)), reduced: the binary cross
    entropy of sigmoid(x), computed stably, as PyTorch's fused op (one node; weight and
    pos_weight take no gradient, as there)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    name = "binary_cross_entropy_with_logits"
    x, t = _operands(name, *_pair(name, input, target), floating=True)
    extras = []
    for what, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if isinstance(extra, Tensor) and extra.requires_grad and is_grad_enabled():
            raise RuntimeError(f"{name} is not differentiable with respect to {what!r}, as in "
                               f"PyTorch: pass {what}.detach()")
        extras.append(1 if extra is None else np.asarray(_raw(extra), x._data.dtype))
    return _logits_bce(x, t, *extras, reduction)


def _softplus(v: Any) -> Any:
    """ln(1 + e**v), stably: numpy's logaddexp for an array, the engine's for a Tensor."""
    return -logsigmoid(-v) if isinstance(v, Tensor) else np.logaddexp(0, v)


def _logits_bce(x: Tensor, t: Tensor, w: Any, p: Any, reduction: str) -> Tensor:
    """w ((1 - t) x + lw ln(1 + e**-x)) with lw = 1 + (p - 1) t, reduced (ln(1 + e**-x)
    computed as softplus, which cannot overflow);
    dx = g s w (1 - t - (1 + (p - 1) t) sigmoid(-x)),
    dt = g s w ((p - 1) ln(1 + exp(-x)) - x), s being 1 (1 / n for the mean). (w, the
    weights, and p, pos_weight, are 1 when not given.)"""
    losses = w * ((1 - t._data) * x._data + ((p - 1) * t._data + 1) * _softplus(-x._data))
    n, dtype = losses.size, x._data.dtype.type
    s = dtype(1 if reduction != "mean" else 1 / n if n else np.nan)
    if reduction == "none":
        out = losses
    else:  # the mean of no entries is nan, as in PyTorch
        out = losses.sum() if reduction == "sum" else losses.sum() / dtype(n or np.nan)

    def rule(g: Any, out: Any, need: list, x: Any, t: Any) -> tuple:
        gsw = g * s * w
        lw = (p - 1) * t + 1
        return (gsw * (1 - t - lw * _exp(-_softplus(x))) if need[0] else None,
                gsw * ((p - 1) * _softplus(-x) - x) if need[1] else None)
    return _node(np.asarray(out, x._data.dtype), "binary_cross_entropy_with_logits", rule, x, t)


def l1_loss(input: Tensor, target: Any, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean", weight: Any = None) -> Tensor:
    """|x - t| (times weight), reduced; the weighted mean divides by the weights' sum."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    x, t = _pair("l1_loss", input, target)
    losses = _weighted((x - t).abs(), weight)
    if weight is not None and reduction == "mean":
        return losses.sum() / weight.sum()
    return _reduce(losses, reduction)


def _huber(d: Tensor, delta: float) -> Tensor:
    """d**2 / 2 where |d| < delta, else delta (|d| - delta / 2): Huber's loss of errors d."""
    size = d.abs()
    return where(size < delta, d * d * 0.5, (size - 0.5 * delta) * delta)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Tensor:
    """(x - t)**2 / 2 where |x - t| < delta, else delta (|x - t| - delta / 2), reduced."""
    _check_reduction(reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, t = _pair("huber_loss", input, target)
    return _reduce(_weighted(_huber(x - t, delta), weight), reduction)


def smooth_l1_loss(input: Tensor, target: Any, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """(x - t)**2 / (2 beta) where |x - t| < beta, else |x - t| - beta / 2, reduced
    (l1_loss for beta = 0)."""
    reduction = _legacy(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must not be negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    _check_reduction(reduction)
    x, t = _pair("smooth_l1_loss", input, target)
    return _reduce(_huber(x - t, beta) / beta, reduction)


def kl_div(input: Tensor, target: Any, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean", log_target: bool = False
           ) -> Tensor:
    """t (ln(t) - x) for log-probabilities x and probabilities t (0 where t = 0), or with
    log_target e**t (t - x); reduced, 'batchmean' dividing the sum by the batch size."""
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                      "the support size. 'batchmean' divides only by the batch size, and "
                      "aligns with the KL div math definition. 'mean' will be changed to "
                      "behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    reduction = _legacy(size_average, reduce, reduction)
    if reduction != "batchmean":
        _check_reduction(reduction)
    x, t = _pair("kl_div", input, target)
    if log_target:
        losses = t.exp() * (t - x)
    else:  # t ln(t) taken as 0 at t = 0, as PyTorch's xlogy (whose t gradient is nan there)
        with np.errstate(invalid="ignore"):
            losses = where(t == 0, 0, t * t.log()) - t * x
    if reduction == "batchmean":
        total = losses.sum()
        return total / x.shape[0] if x.ndim else total
    return _reduce(losses, reduction)


# --- the modules ---

class _LegacyLoss(_Loss):
    """A loss module taking PyTorch's deprecated size_average and reduce too."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(_legacy(size_average, reduce, reduction))


class BCELoss(_LegacyLoss):
    """binary_cross_entropy(input, target, weight): input holds probabilities."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(BCELoss):
    """binary_cross_entropy_with_logits(input, target, weight, pos_weight=pos_weight)."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class L1Loss(_LegacyLoss):
    """mean(|input - target|) (or 'sum' or 'none')."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_LegacyLoss):
    """smooth_l1_loss(input, target, beta=beta)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """huber_loss(input, target, delta=delta)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return huber_loss(input, target, self.reduction, self.delta)


class KLDivLoss(_Loss):
    """kl_div(input, target, log_target=log_target): input holds log-probabilities."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False) -> None:
        reduction = _legacy(size_average, reduce, reduction)
        if reduction != "batchmean":
            _check_reduction(reduction)
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
