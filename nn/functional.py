"""The functional forms of layers and losses, as torch.nn.functional (`import nn.functional
as F`): linear, embedding, one_hot, the activations (relu, gelu, ...), softmax and
log_softmax, layer_norm and batch_norm, dropout, and the losses cross_entropy, nll_loss,
mse_loss (and micrograd's hinge_loss); convolution and pooling (conv1d, conv2d, conv3d,
max_pool2d/3d, avg_pool2d/3d, adaptive_avg_pool2d/3d, pad) come from nn/convolution.py. The
other activations, losses and normalisations live beside their modules (nn/activation.py,
nn/loss.py, nn/normalization.py; nn/activation_more.py, dropout.py, distance.py,
loss_more.py, ctc.py, bilinear.py, embedding_bag.py, local_response_norm.py) and are
re-exported at the end, as are the image and sequence layers' (conv_transpose*,
fold/unfold, instance_norm, the 1-D and adaptive pools, interpolate and pixel_shuffle:
nn/conv_transpose.py, fold.py, instancenorm.py, pooling.py, upsampling.py).

The ones every training step runs are primitive ops with a rule of their own, written
beside them in the engine's protocol (engine/tensor.py): linear (one node for x @ W.T + b,
no transpose node), embedding, gelu, layer_norm and cross_entropy (log_softmax and the pick
of the target, one backward). Their rules are written with operations that numpy arrays and
Tensors both understand, so they also run under `create_graph=True`. Where a rule reuses a
number its forward pass computed (layer_norm's normalised input, cross_entropy's
logsumexp), it recomputes it from the input when the input is a Tensor, so that second
derivatives see how it depends on the input. The rest are composites of engine ops.

Inputs are checked up front: shapes that would silently broadcast into the wrong loss,
labels of the wrong kind or out of range, raise a ValueError or TypeError that says what
to pass.
"""
from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Sequence

import numpy as np

from engine import Value
from engine.reductions import _dual_sum, _exps, _logsumexp
from engine.shapes import _put, _zero_at
from engine.tensor import (Tensor, _as_tensor, _called, _exp, _node, _operands, _private, _raw,
                           _saves_nothing)
from nn.convolution import (adaptive_avg_pool2d, adaptive_avg_pool3d,  # noqa: F401
                            avg_pool2d, avg_pool3d, conv1d, conv2d, conv3d, max_pool2d,
                            max_pool3d, pad)
from engine.error_function import normal_cdf

_REDUCTIONS = ("mean", "sum", "none")


def _same_dtype(op: str, *xs: Any) -> tuple[Tensor, ...]:
    """The operands as Tensors of one dtype (PyTorch's promotion when they differ)."""
    dtype = xs[0]._data.dtype if isinstance(xs[0], Tensor) else None
    for x in xs:  # a loop, not all(genexpr): this runs for every layer call
        if not isinstance(x, Tensor) or x._data.dtype != dtype:
            return _operands(op, *xs)
    return xs


# --- layers as functions ---

def linear(input: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight^T + bias, weight of shape (out_features, in_features); dinput = g @ weight,
    dweight = g^T @ input, dbias = g (the last two summed over the batch dims)."""
    x, w, *b = _same_dtype("linear", input, weight, *(() if bias is None else (bias,)))
    x_shape, w_shape = x._data.shape, w._data.shape  # (the arrays': no torch.Size to build)
    if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
        raise ValueError(f"linear takes inputs of shape (..., {w_shape[-1]}) for a weight of "
                         f"shape {w_shape} (out_features, in_features), got {x_shape}")
    if b and b[0]._data.shape != w_shape[:1]:
        raise ValueError(f"linear: a bias of shape {b[0]._data.shape} does not fit a weight of "
                         f"shape {w_shape}; it needs shape ({w_shape[0]},)")
    rows = x._data.reshape(-1, w_shape[1])  # one matrix product for every batch dim at once
    out = rows @ w._data.T
    if b:
        out += b[0]._data

    def rule(g: Any, out: Any, need: list, x: Any, w: Any, b: Any = None) -> tuple:
        g2 = g.reshape(-1, g.shape[-1])
        return ((g2 @ w).reshape(x.shape) if need[0] else None,
                g2.T @ x.reshape(-1, x.shape[-1]) if need[1] else None,
                _dual_sum(g2, 0).reshape(b.shape) if b is not None and need[2] else None)
    out = _node(out.reshape(*x_shape[:-1], w_shape[0]), "linear", rule, x, w, *b)
    # PyTorch's grad_fn: an addmm or mm of rows, in a view back to other dims (gradients.py)
    return _called(out, ("addmm" if b else "mm") if len(x_shape) == 2 else "view" if b else
                   "vm" if len(x_shape) == 1 else "matmul")


def _renorm_(weight: Tensor, index: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rows picked whose norm exceeds max_norm scaled down to it, in place, outside the
    graph: PyTorch's embedding_renorm_ (max_norm / (norm + 1e-7))."""
    rows = np.unique(index)
    norms = np.linalg.norm(weight._data[rows], ord=norm_type, axis=1)  # in the weight's dtype
    big = norms > max_norm
    scale = max_norm / (norms[big].astype(np.float64) + 1e-7)
    weight._data[rows[big]] *= scale[:, None].astype(weight.dtype)
    weight._changed()


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of `weight` picked by the integer `input` (any shape): weight[input];
    d weight = g added into the rows picked (none into padding_idx's).

    As PyTorch's: max_norm first rescales, in place, the picked rows whose norm_type-norm
    exceeds it; scale_grad_by_freq divides each row's gradient by how often the input
    picks it (under create_graph the division is part of the graph, so a second derivative
    divides again, where PyTorch's double backward leaves it out). sparse=True is
    accepted, but the gradient stays dense (the engine has no sparse tensors)."""
    index = np.asarray(_raw(input))
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding takes integer indices, got {index.dtype} (convert with "
                        ".long())")
    rows = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= rows):
        raise IndexError(f"embedding: indices must lie in [0, {rows}) for a table of {rows} "
                         f"rows, got values from {index.min()} to {index.max()}")
    if padding_idx is not None:
        padding_idx %= rows
    if max_norm is not None:
        _renorm_(weight, index, max_norm, norm_type)
    share = None
    if scale_grad_by_freq and weight.requires_grad:  # 1 / count of each position's row
        counts = np.bincount(index.reshape(-1), minlength=rows)
        share = (1 / counts[index]).astype(weight._data.dtype)[..., None]

    def rule(g: Any, out: Any, need: list, w: Any) -> tuple:
        dw = _put(g if share is None else g * share, w, index, basic=False)
        return (dw if padding_idx is None else _zero_at(dw, padding_idx),)
    out = _saves_nothing(_node(weight._data[index], "embedding", rule, weight))
    if out._rule is not None:
        index = _private(index)
    return out


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


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Each entry zeroed with probability p, the rest scaled by 1 / (1 - p), in training;
    the input itself otherwise. The mask is drawn from the engine's generator as PyTorch
    draws it on the CPU (bernoulli_(1 - p), in the input's memory order), so a seeded run
    zeroes the same entries."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    return _dropped(_as_tensor(input), p, inplace, None)


# --- activations ---

def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else input.relu()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


_GELU_TANH = math.sqrt(2 / math.pi)  # tanh's approximation: tanh(k (x + 0.044715 x**3))


def _tanh(x: Any) -> Any:
    return x.tanh() if isinstance(x, Tensor) else np.tanh(x)


def _cdf(x: Any) -> Any:
    """The standard normal CDF of an array, or of a Tensor as a node (d = g pdf(x))."""
    if not isinstance(x, Tensor):
        return normal_cdf(x)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g * _pdf(a),)
    return _node(normal_cdf(x._data).astype(x.dtype), "normal_cdf", rule, x)


def _pdf(x: Any) -> Any:
    return _exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF, or with approximate='tanh'
    x (1 + tanh(k (x + 0.044715 x**3))) / 2, k = sqrt(2/pi); dx = g Phi(x) + g x pdf(x),
    pdf the normal density (or the tanh form's derivative)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = input._data
    if approximate == "none":
        out = (x * normal_cdf(x)).astype(x.dtype, copy=False)

        def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            return (g * (_cdf(a) + a * _pdf(a)),)
    else:
        out = 0.5 * x * (1 + np.tanh(_GELU_TANH * (x + 0.044715 * x ** 3)))

        def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            t = _tanh((a + a * a * a * 0.044715) * _GELU_TANH)
            slope = (a * a * (3 * 0.044715) + 1) * _GELU_TANH
            return (g * ((t + 1) * 0.5 + a * (t * t * -1 + 1) * slope * 0.5),)
    return _node(out, "gelu", rule, input)


def _softmax_dim(input: Tensor, dim: int | None, name: str, stacklevel: int = 3) -> int:
    """dim, or PyTorch's old implicit choice (with its warning) when it is not given."""
    if dim is not None:
        return dim
    warnings.warn(f"implicit dimension choice for {name} is deprecated, as in PyTorch: pass "
                  "dim=", UserWarning, stacklevel=stacklevel)
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """e**x / sum(e**x) along dim."""
    return input.softmax(_softmax_dim(input, dim, "softmax", _stacklevel), dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along dim."""
    return input.log_softmax(_softmax_dim(input, dim, "log_softmax", _stacklevel), dtype=dtype)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over the last two dims, as PyTorch's
    (its reference computation, a composite of engine ops): scale is 1 / sqrt(head size)
    unless given; `is_causal` lets position i see positions up to i only; a bool attn_mask
    keeps where True, a float one is added to the scores (a row masked throughout gives
    zeros, as PyTorch's); with `enable_gqa`, each key and value head serves a group of query
    heads."""
    length, keys = query.shape[-2], key.shape[-2]
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass is_causal=True or an attn_mask, "
                         "not both (make the causal mask part of attn_mask)")
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        group = query.shape[-3] // key.shape[-3]
        heads = (Ellipsis, np.repeat(np.arange(key.shape[-3]), group), slice(None), slice(None))
        key, value = key[heads], value[heads]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query @ key.transpose(-2, -1) * scale
    if is_causal:
        attn_mask = np.tril(np.ones((length, keys), bool))
    if attn_mask is not None:
        mask = _raw(attn_mask)
        if getattr(mask, "dtype", None) == np.bool_:
            scores = scores.masked_fill(~mask, -math.inf)
        else:  # added in the scores' dtype, as PyTorch requires of a float mask
            scores = scores + _as_tensor(attn_mask)._cast(scores._data.dtype)
    # PyTorch's safe softmax: a row with every key masked attends to nothing (zeros), not NaN
    blocked = np.isneginf(scores._data).all(-1, keepdims=True)
    if blocked.any():
        weights = softmax(scores.masked_fill(blocked, 0.0), -1).masked_fill(blocked, 0.0)
    else:
        weights = softmax(scores, -1)
    if dropout_p:
        weights = dropout(weights, dropout_p)
    return weights @ value


# --- normalisation ---

def _mean(x: Any) -> Any:
    """The mean along the last axis, kept as size 1 (arrays or Tensors)."""
    return _dual_sum(x, -1) * (1 / x.shape[-1])


def _normalized(rows: Any, eps: float) -> tuple[Any, Any]:
    """(x - mean) / sqrt(var + eps) along the last axis, and 1 / sqrt(var + eps)."""
    centred = rows - _mean(rows)
    rstd = (_mean(centred * centred) + eps) ** -0.5
    return centred * rstd, rstd


def layer_norm(input: Tensor, normalized_shape: Sequence[int] | int,
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the last dims (normalized_shape);
    dx = rstd (h - mean(h) - xh mean(h xh)) with h = g weight and xh the normalised x,
    rstd = 1 / sqrt(var + eps); dweight = g xh summed over the leading dims; dbias = g
    summed likewise."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    x, *affine = _same_dtype("layer_norm", input, *(t for t in (weight, bias) if t is not None))
    if x.shape[x.ndim - len(shape):] != shape or any(t.shape != shape for t in affine):
        raise ValueError(f"layer_norm over normalized_shape {shape} needs an input of shape "
                         f"(..., {', '.join(map(str, shape))}) and weight and bias of shape "
                         f"{shape}; got input {tuple(x.shape)}"
                         + "".join(f", {n} {tuple(t.shape)}"
                                   for n, t in zip(("weight", "bias"), affine)))
    n = math.prod(shape)  # the normalised dims, flattened into one last axis
    with np.errstate(divide="ignore", invalid="ignore"):
        saved = _normalized(x._data.reshape(-1, n), eps)  # xh, rstd: the rule needs them again
    out = saved[0] * weight._data.reshape(n) if weight is not None else saved[0].copy()
    if bias is not None:
        out += bias._data.reshape(n)
    has = (weight is not None, bias is not None)

    def rule(g: Any, out: Any, need: list, x: Any, *wb: Any) -> tuple:
        g = g.reshape(-1, n)
        xh, rstd = _normalized(x.reshape(-1, n), eps) if isinstance(x, Tensor) else saved
        gx = g * xh
        grads = [None]
        if need[0]:  # the row means of h = g w and of h xh, as matrix-vector products
            w = wb[0].reshape(n, 1) if has[0] else None
            h = g * w.reshape(n) if has[0] else g
            mean_h = (g @ w) * (1 / n) if has[0] else _mean(g)
            mean_hx = (gx @ w) * (1 / n) if has[0] else _mean(gx)
            grads[0] = ((h - mean_h - xh * mean_hx) * rstd).reshape(x.shape)
        if has[0]:
            grads.append(_dual_sum(gx, 0).reshape(shape) if need[1] else None)
        if has[1]:
            grads.append(_dual_sum(g, 0).reshape(shape) if need[-1] else None)
        return tuple(grads)
    return _node(out.reshape(x.shape), "layer_norm", rule, x, *affine)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1): over the batch (and
    any dims after the channel) in training, updating the running statistics in place
    (the variance's unbiased form, as PyTorch), else from the running statistics."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm takes input of shape (n, channels) or (n, channels, "
                         f"length), got {tuple(input.shape)}")
    channels = input.shape[1]
    axes = (0, *range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)  # a channel's numbers broadcast
    if training:
        n = input.numel() // channels
        if n <= 1:
            raise ValueError(f"batch_norm in training needs more than 1 value per channel, got "
                             f"input of shape {tuple(input.shape)}")
        mean = input.mean(axis=axes, keepdims=True)
        centred = input - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        if running_mean is not None:
            new = np.array(var._data.reshape(-1)) * (n / (n - 1))
            for stat, batch in ((running_mean, mean._data.reshape(-1)), (running_var, new)):
                stat._data[...] = momentum * batch + (1 - momentum) * stat._data
                stat._changed()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm outside training needs running_mean and running_var")
        centred = input - running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = centred * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    return _called(out if bias is None else out + bias.reshape(shape), "batch_norm")


# --- losses ---

def _reduce(losses: Tensor, reduction: str, count: Any = None) -> Tensor:
    """The losses' mean (over `count` when given), sum, or themselves ('none')."""
    _check_reduction(reduction)
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    n = losses.numel() if count is None else count
    # the mean of no entries is nan, as in PyTorch
    return total / n if n else total * math.nan


def _legacy(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """The reduction the deprecated size_average and reduce ask for (PyTorch's reading and
    warning), or `reduction` when neither is given."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction="
                  "'mean', 'sum' or 'none' instead.", UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, got "
                         f"{reduction!r}")


def mse_loss(input: Tensor, target: Any, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """(input - target)**2 over every element, reduced, as PyTorch's fused mse_loss (one
    node); dinput = scale g (input - target), dtarget = -scale g (input - target) (scale
    is 2, over n for the mean). With a `weight` of input's shape, each square is weighted
    and the mean is over the weights' sum, composed of the graph's ops as PyTorch's is.

    Unlike PyTorch, which only warns, a shape mismatch is an error: a (n, 1) prediction
    against (n,) targets would broadcast to (n, n) and give a wrong loss.
    """
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if weight is not None:
        input, target = _pair("mse_loss", input, target)
        weight = _as_tensor(weight)
        if weight.shape != input.shape:
            raise ValueError(f"mse_loss: weight has shape {tuple(weight.shape)}; it must have "
                             f"the input's shape {tuple(input.shape)}")
        weighted = (input - target) ** 2 * weight
        if reduction == "none":
            return weighted
        return weighted.sum() if reduction == "sum" else weighted.sum() / weight.sum()
    a, b = _operands("mse_loss", *_pair("mse_loss", input, target), floating=True)
    squares = np.square(a._data - b._data)
    n, dtype = squares.size, squares.dtype.type
    if reduction == "none":
        out = squares
    else:  # the mean of no entries is nan, as in PyTorch
        out = squares.sum() if reduction == "sum" else squares.sum() / dtype(n or math.nan)
    scale = dtype(2 if reduction != "mean" else 2 / n if n else math.nan)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        d = (a - b) * (g * scale)
        return (d if need[0] else None), (-d if need[1] else None)
    return _node(np.asarray(out, squares.dtype), "mse_loss", rule, a, b)


def _pair(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:
    """input and target as Tensors of one dtype and one shape, or an error naming both (a
    (n, 1) prediction against (n,) targets would broadcast to (n, n): a wrong loss)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op} takes input as a Tensor, got a {type(input).__name__}")
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=input.dtype)
    if input.shape != target.shape:
        raise ValueError(f"{op}: input has shape {tuple(input.shape)} but target "
                         f"{tuple(target.shape)}; they must match (reshape one, e.g. "
                         "input.reshape(-1))")
    return input, target


def _class_scores(input: Any, what: str) -> Tensor:
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"{what} takes input as a Tensor of shape (n, classes) or "
                         "(n, classes, d1, ...), got " + (f"shape {tuple(input.shape)}"
                         if isinstance(input, Tensor) else f"a {type(input).__name__}"))
    return input


_AS_UNSIGNED = {np.dtype(c): np.dtype(c.upper()) for c in "bhilq"}  # int dtypes' unsigned twins


def _int_labels(labels: Any, shape: tuple, classes: int,
                ignore_index: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Class indices as an int array of `shape`, each in [0, classes) or ignore_index, or a
    clear error; and where they are counted: None when none is ignore_index (the usual
    case), else a bool array."""
    labels = np.asarray(_raw(labels))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy labels must be integer class indices, got {labels.dtype} "
                        "(convert with labels.astype(np.int64))")
    if labels.shape != shape:
        raise ValueError(f"cross_entropy: logits of shape {shape[:1] + (classes,) + shape[1:]} "
                         f"need labels of shape {shape}, got {labels.shape}")
    if not labels.size:
        return labels, None
    unsigned = _AS_UNSIGNED.get(labels.dtype)
    if unsigned is not None and not 0 <= ignore_index < classes and (
            labels.view(unsigned).max() < classes):
        return labels, None  # the usual case in one pass: as unsigned, a negative label is huge
    low, high = labels.min(), labels.max()
    if low < 0 or high >= classes:
        bad = labels[((labels < 0) | (labels >= classes)) & (labels != ignore_index)]
        if bad.size:
            raise ValueError(f"cross_entropy labels must lie in [0, {classes}) for {classes} "
                             f"classes (or be ignore_index={ignore_index}); got "
                             f"{bad[:5].tolist()}{' ...' if bad.size > 5 else ''}")
    return labels, (labels != ignore_index if low <= ignore_index <= high else None)


def _class_dim(a: Any) -> Any:
    """a (n, d1, ...) with a size-1 class dim inserted: (n, 1, d1, ...)."""
    return a.reshape(a.shape[:1] + (1,) + a.shape[1:])


@functools.lru_cache(maxsize=16)
def _classes(classes: int, ndim: int) -> np.ndarray:
    """0, 1, ..., classes - 1 along dim 1 of `ndim` dims, to compare labels with."""
    index = np.arange(classes).reshape((classes,) + (1,) * (ndim - 2))
    index.flags.writeable = False  # shared by every call
    return index


def cross_entropy(input: Tensor, target: Any, weight: Any = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """-log softmax(input)[target] along the class dim (1), reduced over the targets that
    are not ignore_index, as PyTorch's F.cross_entropy (its arguments, in its order);
    d input = (softmax(input) - one_hot(target)) g, 0 at ignored positions (divided by
    their count for the mean).

    input (n, classes) with target (n,), or a score per class at each position, input
    (n, classes, d1, ...) with target (n, d1, ...) (e.g. per token, padding labelled
    ignore_index). `target` is an integer numpy array or Tensor, or a float one of input's
    shape holding each class's probability. `weight` (one per class) scales each class's
    terms, the mean then dividing by the weights of the targets counted; `label_smoothing`
    e takes (1 - e) of this loss and e of the cross-entropy against all classes alike.
    Without those, one node computed from the logsumexp, so logits of magnitude 1000 give
    finite values and gradients; with them, a composite of log_softmax, as PyTorch's.
    """
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if weight is not None or label_smoothing or _probabilities(target, input):
        return _composite_cross_entropy(input, target, weight, ignore_index, reduction,
                                        label_smoothing)
    scores = _class_scores(input, "cross_entropy")
    shape = scores._data.shape
    classes = shape[1]
    labels, counted = _int_labels(target, shape[:1] + shape[2:], classes, ignore_index)
    if counted is not None:
        labels = np.where(counted, labels, 0)  # any class will do where nothing is counted
    x = scores._data if scores.dtype.kind == "f" else scores._data.astype(np.float32)
    exps = _exps(x, 1)  # exp(x - shift) and its sums, which softmax is made of
    lse = _logsumexp(x, 1, exps)  # (n, 1, d1, ...)
    # each position's score for its target class (n, 1, d1, ...)
    picked = x[np.arange(len(x)), labels][:, None] if x.ndim == 2 else np.take_along_axis(
        x, _class_dim(labels), 1)
    losses = lse - picked
    if counted is None:
        count = labels.size
    else:
        counted = _class_dim(counted)
        losses = losses * counted
        count = int(counted.sum())
    if reduction == "none":
        out = np.squeeze(losses, 1)
    elif reduction == "sum":
        out = losses.sum()
    else:  # the mean over the counted targets: nan if there are none, as in PyTorch
        out = losses.sum() / count if count else losses.sum() * np.nan
    # d loss / d each position's loss: 1 where counted (over the count for the mean), else 0
    scale = 1 if counted is None else counted.astype(x.dtype)
    if reduction == "mean" and count:
        scale = scale / x.dtype.type(count)

    def rule(g: Any, out: Any, need: list, x: Any) -> tuple:
        # softmax(x): as a graph under create_graph, else from the forward pass's exps
        probs = _exp(x - x.logsumexp(1, keepdim=True)) if isinstance(x, Tensor) else (
            exps[0] / exps[1])
        one_hot = _class_dim(labels) == _classes(classes, x.ndim)
        per_position = _class_dim(g) if reduction == "none" else g
        return ((probs - one_hot) * (per_position * scale),)
    out = _node(np.asarray(out, x.dtype), "cross_entropy", rule, scores)
    if out._rule is not None:
        labels = _private(labels)
    return out


def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None,
             reduction: str = "mean") -> Tensor:
    """-weight[target] input[target] for log-probabilities `input` (weight 1 by default),
    reduced over the targets that are not ignore_index (the mean dividing by their
    weights), as PyTorch's F.nll_loss."""
    reduction = _legacy(size_average, reduce, reduction)
    log_probs = _class_scores(input, "nll_loss")
    labels, _ = _int_labels(target, log_probs.shape[:1] + log_probs.shape[2:],
                            log_probs.shape[1], ignore_index)
    counted = labels != ignore_index
    picked = np.where(counted, labels, 0)
    scale = counted.astype(log_probs._data.dtype)
    if weight is not None:
        scale *= _class_weights(weight, log_probs)[picked]
    losses = -log_probs.gather(1, np.expand_dims(picked, 1)).squeeze(1) * Tensor(scale)
    return _called(_reduce(losses, reduction, scale.sum()), "nll_loss")


def _probabilities(target: Any, input: Any) -> bool:
    """Whether cross_entropy's target holds each class's probability (floats of the input's
    shape), as PyTorch tells them from class indices."""
    target = np.asarray(_raw(target))
    return target.dtype.kind == "f" and target.shape == getattr(input, "shape", None)


def _class_weights(weight: Any, scores: Tensor) -> np.ndarray:
    """A loss's weight per class as an array in the scores' dtype, or a clear error."""
    weights = np.asarray(_raw(weight), dtype=scores._data.dtype)
    if weights.shape != (scores.shape[1],):
        raise ValueError(f"weight should have one entry per class, {scores.shape[1]}, got "
                         f"shape {weights.shape}")
    return weights


def _composite_cross_entropy(input: Tensor, target: Any, weight: Any, ignore_index: int,
                             reduction: str, smoothing: float) -> Tensor:
    """cross_entropy with class weights, label smoothing or probability targets, from
    log_softmax as PyTorch computes it (aten's cross_entropy_loss_label_smoothing and
    cross_entropy_loss_prob_target)."""
    log_probs = log_softmax(_class_scores(input, "cross_entropy"), 1)
    classes = log_probs.shape[1]
    weights = (np.ones(classes, log_probs._data.dtype) if weight is None else
               _class_weights(weight, log_probs))
    per_class = Tensor(weights.reshape((1, classes) + (1,) * (log_probs.ndim - 2)))
    if _probabilities(target, log_probs):  # a probability per class: -sum p log q
        probs = _as_tensor(target)._cast(log_probs._data.dtype) * (1 - smoothing) + (
            smoothing / classes)
        losses = -(log_probs * probs * per_class).sum(1)
        positions = log_probs.numel() // classes
        return _called(_reduce(losses, reduction, positions), "cross_entropy")
    nll = nll_loss(log_probs, target, None if weight is None else weights,
                   ignore_index=ignore_index, reduction=reduction)
    if not smoothing:
        return _called(nll, "cross_entropy")
    labels = np.asarray(_raw(target))
    counted = labels != ignore_index
    # against every class alike: -sum over classes of weight * log q, where counted
    spread = -(log_probs * per_class).sum(1) * Tensor(counted.astype(log_probs._data.dtype))
    if reduction == "mean":  # over the weights of the targets counted, as nll_loss's mean
        spread = _reduce(spread, "mean", weights[labels[counted]].sum())
    elif reduction == "sum":
        spread = spread.sum()
    return _called(nll * (1 - smoothing) + spread * (smoothing / classes), "cross_entropy")


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


# The activations, losses and normalisations that live beside their modules, under
# torch.nn.functional's names; imported last, since those files use what is defined above.
from nn.activation import (elu, glu, hardsigmoid, hardswish, hardtanh, leaky_relu,  # noqa: E402
                           log_sigmoid, logsigmoid, mish, prelu, relu6, silu, softplus,
                           softsign)
from nn.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: E402
                     huber_loss, kl_div, l1_loss, smooth_l1_loss)
from nn.normalization import (cosine_similarity, group_norm, normalize,  # noqa: E402
                              rms_norm)
from nn.activation_more import (celu, celu_, gumbel_softmax, hardshrink, rrelu,  # noqa: E402
                                rrelu_, selu, selu_, softmin, softshrink, tanhshrink,
                                threshold, threshold_)
from nn.dropout import (_dropped, alpha_dropout, dropout1d, dropout2d,  # noqa: E402
                        dropout3d, feature_alpha_dropout)
from nn.distance import pairwise_distance  # noqa: E402
from nn.loss_more import (cosine_embedding_loss, gaussian_nll_loss,  # noqa: E402
                          hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
                          multilabel_margin_loss, multilabel_soft_margin_loss,
                          poisson_nll_loss, soft_margin_loss, triplet_margin_loss)
from nn.ctc import ctc_loss  # noqa: E402
from nn.bilinear import bilinear  # noqa: E402
from nn.embedding_bag import embedding_bag  # noqa: E402
from nn.local_response_norm import local_response_norm  # noqa: E402
from nn.conv_transpose import (conv_transpose1d, conv_transpose2d,  # noqa: E402
                               conv_transpose3d)
from nn.fold import fold, unfold  # noqa: E402
from nn.instancenorm import instance_norm  # noqa: E402
from nn.pooling import (adaptive_avg_pool1d, adaptive_max_pool1d,  # noqa: E402
                        adaptive_max_pool2d, adaptive_max_pool3d, avg_pool1d, max_pool1d)
from nn.upsampling import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: E402
from nn.grid_sample import affine_grid, grid_sample  # noqa: E402
from nn.pooling_more import (adaptive_max_pool1d_with_indices,  # noqa: E402,F401
                             adaptive_max_pool2d_with_indices,
                             adaptive_max_pool3d_with_indices, lp_pool1d, lp_pool2d,
                             lp_pool3d,
                             max_pool1d_with_indices, max_pool2d_with_indices,
                             max_pool3d_with_indices, max_unpool1d, max_unpool2d, max_unpool3d)
from nn.extras import channel_shuffle, elu_, hardtanh_, leaky_relu_, pdist, relu_  # noqa: E402,F401
