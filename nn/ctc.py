"""The connectionist temporal classification loss (Graves et al. 2006), as torch.nn's:
ctc_loss (re-exported by nn.functional) and the CTCLoss module.

CTC scores a target sequence against per-frame class log-probabilities by summing, in log
space, over every alignment of the target to the frames (blanks between and around its
labels, each label repeated over consecutive frames). This is the standard forward
recursion over the extended target l' = (blank, l1, blank, l2, ..., blank), of length
S = 2 L + 1:

    alpha_t(s) = lp_t(l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2))

the last term only where l'_s is a label that differs from l'_{s-2}; the loss is
-logsumexp(alpha_{T-1}(S-1), alpha_{T-1}(S-2)). It runs for the whole batch and every
position s at once, one step per frame, as a composite of engine ops, so its gradient is
the recursion's own (autograd through it) and a second derivative exists too.

Two differences from PyTorch's kernel, both deliberate:
- States no alignment reaches hold -1e30 rather than -inf: logsumexp's gradient at three
  -inf would be nan, and would poison every gradient. A sample with no alignment at all
  (too few frames for its target) is found at the end and its loss set to inf (or to 0,
  with no gradient, under zero_infinity=True).
- The gradient with respect to log_probs is the true derivative of the loss. PyTorch's
  kernel returns that plus exp(log_probs) on each sample's valid frames, the gradient of
  the logits behind a log_softmax rather than of log_probs themselves (pytorch/pytorch
  issue 52241). Through log_softmax, the documented use, both agree: a frame's log_softmax
  gradient removes any term that is the frame's probabilities times a constant.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.elementwise import where
from engine.shapes import cat, stack
from engine.tensor import Tensor, _as_tensor, _called, _raw
from nn.functional import _check_reduction
from nn.layers import _Loss

_UNREACHABLE = -1e30  # the log-probability of a state no alignment reaches (see above)


def _lengths(lengths: Any, n: int, what: str, most: int | None) -> np.ndarray:
    """One length per sample as an int64 array, each in [0, most], or a clear error."""
    values = np.asarray(_raw(lengths))
    if values.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: {what} must be integers, got {values.dtype}")
    values = values.astype(np.int64).reshape(-1)
    if values.size != n:
        raise RuntimeError(f"ctc_loss: {what} must be of size batch_size ({n}), got "
                           f"{values.size} values")
    if values.size and values.min() < 0:
        raise RuntimeError(f"ctc_loss: expected {what} to have value at least 0, but got value "
                           f"{values.min()}")
    if most is not None and values.size and values.max() > most:
        raise RuntimeError(f"ctc_loss: expected {what} to have value at most {most}, but got "
                           f"value {values.max()}")
    return values


def _padded_targets(targets: Any, lengths: np.ndarray, n: int) -> np.ndarray:
    """The targets as an (N, max length) int array: given so (padded), or as one 1-D run of
    every sample's labels one after another (concatenated)."""
    labels = np.asarray(_raw(targets))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: targets must be integer class indices, got {labels.dtype} "
                        "(convert with .long())")
    longest = int(lengths.max(initial=0))
    if labels.ndim == 2:
        if labels.shape[0] != n or labels.shape[1] < longest:
            raise RuntimeError(f"ctc_loss: padded targets of shape {labels.shape} need {n} rows "
                               f"of at least {longest} labels (the longest target_length)")
        return labels[:, :longest].astype(np.int64)
    if labels.ndim != 1:
        raise RuntimeError(f"ctc_loss: targets must be 1-D (concatenated) or 2-D (padded), got "
                           f"{labels.ndim} dims")
    if labels.size != lengths.sum():
        raise RuntimeError(f"ctc_loss: concatenated targets must hold sum(target_lengths) = "
                           f"{lengths.sum()} labels, got {labels.size}")
    slot = np.arange(longest)
    inside = slot < lengths[:, None]
    starts = np.cumsum(lengths) - lengths
    return np.where(inside, labels[np.minimum(starts[:, None] + slot, max(labels.size - 1, 0))]
                    if labels.size else 0, 0).astype(np.int64)


def _log_likelihoods(lp: Tensor, labels: np.ndarray, frames: np.ndarray, counts: np.ndarray,
                     blank: int) -> Tensor:
    """log p(target | log_probs) for each sample, by the forward recursion (the module's
    docstring), one step per frame; (N,). labels (N, L) padded, counts their lengths."""
    steps, n, _ = lp.shape
    extended = np.full((n, 2 * labels.shape[1] + 1), blank, np.int64)
    extended[:, 1::2] = labels
    size = extended.shape[1]
    position = np.arange(size)
    skip = (position % 2 == 1) & ((position == 1) | (
        extended != np.pad(extended, ((0, 0), (2, 0)))[:, :size]))
    # each frame's log-probability of each extended position's class: (T, N, S)
    picked = lp.gather(2, np.broadcast_to(extended, (steps, n, size)))
    unreachable = Tensor(np.full((n, 2), _UNREACHABLE, lp.dtype))
    # alpha over positions -2, -1, 0, ..., S-1: a virtual start at -1 (log 1) feeds
    # position 0 and, by the skip, position 1 at the first frame
    alpha = Tensor(np.full((n, size + 2), _UNREACHABLE, lp.dtype))
    alpha._data[:, 1] = 0
    for t in range(steps):
        came = stack([alpha[:, 2:], alpha[:, 1:-1], where(skip, alpha[:, :-2], _UNREACHABLE)])
        step = cat([unreachable, came.logsumexp(0) + picked[t]], 1)
        alpha = where((t < frames)[:, None], step, alpha)  # past a sample's frames: it stays
    # the last label or the blank after it: positions 2 L - 1 and 2 L, shifted by 2
    return alpha.gather(1, np.stack([2 * counts + 1, 2 * counts + 2], 1)).logsumexp(1)


def ctc_loss(log_probs: Tensor, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """-log p(target | log_probs), summed over the target's alignments to the frames;
    'mean' divides each sample's loss by its target length (at least 1), then averages.

    log_probs (T, N, C) (or (T, C) for one sample) hold each frame's log-probabilities
    (log_softmax over C); targets are padded (N, S) or concatenated (sum(target_lengths),)
    class indices, never `blank`; input_lengths and target_lengths give each sample's
    frames and labels. A target that no alignment fits gets an infinite loss (0 with
    zero_infinity=True, which also zeroes its gradient).
    """
    _check_reduction(reduction)
    lp = _as_tensor(log_probs)
    if lp.ndim not in (2, 3) or lp.dtype.kind != "f":
        raise RuntimeError(f"ctc_loss: log_probs must be floats of shape (T, N, C) or (T, C), "
                           f"got {lp.dtype} of shape {tuple(lp.shape)}")
    batched = lp.ndim == 3
    if not batched:
        lp = lp.unsqueeze(1)
        targets = np.asarray(_raw(targets))[None]
    steps, n, classes = lp.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {classes}), got {blank}")
    frames = _lengths(input_lengths, n, "input_lengths", steps)
    counts = _lengths(target_lengths, n, "target_lengths", None)
    labels = _padded_targets(targets, counts, n)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"ctc_loss: target labels must lie in [0, {classes}), got values "
                         f"from {labels.min()} to {labels.max()}")
    likelihood = _log_likelihoods(lp, labels, frames, counts, blank)
    impossible = likelihood._data < _UNREACHABLE / 2
    if zero_infinity:
        losses = where(impossible, 0.0, -likelihood)
    else:  # inf where no alignment exists (whose gradient is then not finite, as PyTorch's)
        losses = _called(-likelihood * Tensor(np.where(impossible, np.inf, 1).astype(lp.dtype)),
                         "ctc_loss")
    if not batched:
        losses = losses.squeeze(0)
    if reduction == "mean":
        return (losses / Tensor(np.maximum(counts, 1).reshape(losses.shape), dtype=lp.dtype)
                ).mean()
    return losses.sum() if reduction == "sum" else losses


class CTCLoss(_Loss):
    """ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction,
    zero_infinity)."""

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Any, input_lengths: Any,
                target_lengths: Any) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)
