"""The functional forms of layers and losses, as torch.nn.functional (`import nn.functional
as F`): linear, embedding, one_hot, activations, softmax and log_softmax, and the losses
cross_entropy, nll_loss, mse_loss (and micrograd's hinge_loss).

Each is a composite of engine ops, so its gradient comes from theirs. Inputs are checked
up front: shapes that would silently broadcast into the wrong loss, labels of the wrong
kind or out of range, raise a ValueError or TypeError that says what to pass.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from engine import Tensor, Value
from engine.tensor import _as_tensor

_REDUCTIONS = ("mean", "sum", "none")


# --- layers as functions ---

def linear(input: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, with weight (out_features, in_features) as PyTorch's."""
    out = _as_tensor(input) @ weight.T
    return out if bias is None else out + bias


def embedding(input: Any, weight: Tensor) -> Tensor:
    """The rows of `weight` picked by the integer `input` (any shape): weight[input]."""
    return weight[input]


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class indices as rows of zeros with a 1 at the index: int64, shape (..., num_classes);
    num_classes=-1 takes the largest index + 1, as PyTorch."""
    labels = np.asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot takes integer class indices, got {labels.dtype}")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: class indices must lie in [0, {num_classes}), got values "
                         f"from {labels.min()} to {labels.max()}")
    return Tensor(np.eye(num_classes, dtype=np.int64)[labels])


def relu(input: Tensor) -> Tensor:
    return input.relu()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def _softmax_dim(input: Tensor, dim: int | None, name: str) -> int:
    """dim, or PyTorch's old implicit choice (with its warning) when it is not given."""
    if dim is not None:
        return dim
    warnings.warn(f"implicit dimension choice for {name} is deprecated, as in PyTorch: pass "
                  "dim=", UserWarning, stacklevel=3)
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """e**x / sum(e**x) along dim."""
    return input.softmax(_softmax_dim(input, dim, "softmax"), dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along dim."""
    return input.log_softmax(_softmax_dim(input, dim, "log_softmax"), dtype=dtype)


# --- losses ---

def _reduce(losses: Tensor, reduction: str, count: Any = None) -> Tensor:
    """The losses' mean (over `count` when given), sum, or themselves ('none')."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, got "
                         f"{reduction!r}")
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    n = losses.numel() if count is None else count
    # the mean of no entries is nan, as in PyTorch
    return total / n if n else total * math.nan


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(pred - target)**2 over every element, reduced; pred and target must have one shape.

    Unlike PyTorch, which only warns, a shape mismatch is an error: a (n, 1) prediction
    against (n,) targets would broadcast to (n, n) and give a wrong loss.
    """
    if not isinstance(pred, Tensor):
        raise TypeError(f"mse_loss takes pred as a Tensor, got a {type(pred).__name__}")
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=pred.dtype)
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred has shape {tuple(pred.shape)} but target "
                         f"{tuple(target.shape)}; reshape one (e.g. pred.reshape(-1)) so they "
                         "match")
    return _reduce((pred - target) ** 2, reduction)


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


def _picked(log_probs: Tensor, labels: Any, ignore_index: int, reduction: str,
            what: str) -> Tensor:
    """-log_probs[label] at each position whose label is not ignore_index, reduced; the
    mean is over the counted positions (nan when every one is ignored, as in PyTorch)."""
    if not isinstance(log_probs, Tensor) or log_probs.ndim < 2:
        raise ValueError(f"{what} takes input as a Tensor of shape (n, classes) or "
                         "(n, classes, d1, ...), got " + (f"shape {tuple(log_probs.shape)}"
                         if isinstance(log_probs, Tensor) else f"a {type(log_probs).__name__}"))
    classes = log_probs.shape[1]
    labels = _int_labels(labels, log_probs.shape[:1] + log_probs.shape[2:], classes,
                         ignore_index)
    counted = labels != ignore_index
    if reduction == "none":  # a loss at every position, 0 where ignored
        safe = np.where(counted, labels, 0)
        picks = np.expand_dims(safe, 1)
        return -log_probs.gather(1, picks).squeeze(1) * Tensor(counted, dtype=log_probs.dtype)
    where = np.nonzero(counted)  # the positions of the counted targets, one array per dim
    picks = (where[0], labels[counted], *where[1:])  # ... with the class dim put in
    return _reduce(-log_probs[picks], reduction, where[0].size)


def cross_entropy(input: Tensor, target: Any, ignore_index: int = -100,
                  reduction: str = "mean") -> Tensor:
    """-log softmax(input)[target], reduced over the targets whose label is not
    ignore_index, as PyTorch's F.cross_entropy.

    input (n, classes) with target (n,), or a score per class at each position, input
    (n, classes, d1, ...) with target (n, d1, ...) (e.g. per token, padding labelled
    ignore_index). `target` is an integer numpy array or Tensor. Goes through the stable
    log_softmax, so logits of magnitude 1000 give finite values and gradients.
    """
    if not isinstance(input, Tensor) or input.ndim < 2:
        return _picked(input, target, ignore_index, reduction, "cross_entropy")
    return _picked(input.log_softmax(1), target, ignore_index, reduction, "cross_entropy")


def nll_loss(input: Tensor, target: Any, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """-input[target] for log-probabilities `input`, reduced, as PyTorch's F.nll_loss."""
    return _picked(input, target, ignore_index, reduction, "nll_loss")


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
            raise ValueError(f"hinge_loss: scores have shape {tuple(scores.shape)} but labels "
                             f"{y.shape}; reshape one (e.g. scores.reshape(-1)) so they match")
        return (1 - Tensor(y, dtype=scores.dtype) * scores).relu().mean()
    if y.shape != (len(scores),):
        raise ValueError(f"hinge_loss: {len(scores)} scores need labels of shape "
                         f"({len(scores)},), got {y.shape}")
    if not scores:
        return Value(math.nan)  # the mean of no scores, as PyTorch's losses give it
    return sum((1 - yi * s).relu() for yi, s in zip(y.tolist(), scores)) * (1.0 / len(scores))
