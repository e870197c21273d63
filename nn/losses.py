"""Losses built from Tensor ops: mean squared error, softmax cross-entropy, max-margin hinge.

Each is a composite of engine primitives, so its gradient comes from theirs. Inputs are
checked up front: shapes that would silently broadcast into the wrong loss, labels of the
wrong kind or out of range, raise a ValueError or TypeError that says what to pass.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from engine import Tensor, Value


def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """mean((pred - target)**2), over every element; pred and target must have one shape.

    Unlike PyTorch, which only warns, a shape mismatch is an error: a (n, 1) prediction
    against (n,) targets would broadcast to (n, n) and give a wrong loss.
    """
    if not isinstance(pred, Tensor):
        raise TypeError(f"mse_loss takes pred as a Tensor, got a {type(pred).__name__}")
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=pred.dtype)
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target {target.shape}; "
                         "reshape one (e.g. pred.reshape(-1)) so they match")
    return ((pred - target) ** 2).mean()


def _int_labels(labels: Any, shape: tuple, classes: int, ignore_index: int) -> np.ndarray:
    """Class indices as an int array of `shape`, each in [0, classes) or ignore_index, or a
    clear error."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy labels must be integer class indices, got {labels.dtype} "
                        "(convert with labels.astype(np.int64))")
    if labels.shape != shape:
        raise ValueError(f"cross_entropy: logits of shape {shape[:1] + (classes,) + shape[1:]} "
                         f"need labels of shape {shape}, got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[((labels < 0) | (labels >= classes)) & (labels != ignore_index)]
    else:  # the usual case, decided in two quick passes
        bad = labels[:0]
    if bad.size:
        raise ValueError(f"cross_entropy labels must lie in [0, {classes}) for {classes} "
                         f"classes (or be ignore_index={ignore_index}); got "
                         f"{bad[:5].tolist()}{' ...' if bad.size > 5 else ''}")
    return labels


def cross_entropy(logits: Tensor, labels: Any, ignore_index: int = -100) -> Tensor:
    """Mean of -log softmax(logits)[label] over the targets whose label is not ignore_index,
    as PyTorch's F.cross_entropy (nan when every one is ignored).

    logits (n, classes) with labels (n,), or a score per class at each position, logits
    (n, classes, d1, ...) with labels (n, d1, ...) (e.g. per token, padding labelled
    ignore_index). `labels` is an integer numpy array or Tensor. Goes through the stable
    log_softmax, so logits of magnitude 1000 give finite values and gradients.
    """
    if not isinstance(logits, Tensor) or logits.ndim < 2:
        raise ValueError("cross_entropy takes logits as a Tensor of shape (n, classes) or "
                         "(n, classes, d1, ...), got " + (f"shape {logits.shape}"
                         if isinstance(logits, Tensor) else f"a {type(logits).__name__}"))
    classes = logits.shape[1]
    labels = _int_labels(labels, logits.shape[:1] + logits.shape[2:], classes, ignore_index)
    counted = labels != ignore_index
    where = np.nonzero(counted)  # the positions of the counted targets, one array per dim
    picks = (where[0], labels[counted], *where[1:])  # ... with the class dim put in
    n = where[0].size
    # sum * (-1/n) rather than -mean(): one node fewer on every classifier's hot path;
    # the mean of no targets is nan, as in PyTorch
    return logits.log_softmax(axis=1)[picks].sum() * (-1.0 / n if n else math.nan)


def hinge_loss(scores: Tensor | Sequence[Value], y: Any) -> Tensor | Value:
    """micrograd's max-margin loss: mean(relu(1 - y * score)) with labels y in {-1, +1}.

    `scores` is a Tensor, or a list of Values (a scalar MLP's outputs), giving a Value.
    """
    y = np.asarray(y)
    if not np.isin(y, (-1, 1)).all():
        raise ValueError("hinge_loss labels must be -1 or +1 (for 0/1 labels use 2 * y - 1), "
                         f"got values {np.unique(y)[:5].tolist()}")
    if isinstance(scores, Tensor):
        if y.shape != scores.shape:
            raise ValueError(f"hinge_loss: scores have shape {scores.shape} but labels {y.shape}; "
                             "reshape one (e.g. scores.reshape(-1)) so they match")
        return (1 - Tensor(y, dtype=scores.dtype) * scores).relu().mean()
    if y.shape != (len(scores),):
        raise ValueError(f"hinge_loss: {len(scores)} scores need labels of shape "
                         f"({len(scores)},), got {y.shape}")
    if not scores:
        return Value(math.nan)  # the mean of no scores, as PyTorch's losses give it
    return sum((1 - yi * s).relu() for yi, s in zip(y.tolist(), scores)) * (1.0 / len(scores))
