"""Sums and statistics by PyTorch's names: nansum and nanmean (nan left out), cov and
corrcoef, the trapezoid rule (trapezoid, its old name trapz, cumulative_trapezoid), and
histc (counts, outside the graph).

Each is a composite of engine ops (where, sums, products, slices, cumsum), written as
PyTorch's own implementations are, so the gradients are theirs: nansum's is 0 at nan,
corrcoef's is clipped to [-1, 1] as its values are.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from engine import construct, dtypes, elementwise, products, reductions, shapes  # modules
from engine.tensor import Tensor, _as_tensor, _called, _floating, _leaf


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """sum with nan counted as 0, as torch.nansum; the gradient is 0 at nan."""
    if input._data.dtype.kind != "f":
        return reductions.sum(input, dim, keepdim, dtype=dtype)
    numbers = elementwise.where(np.isnan(input._data), 0.0, input)
    return _called(reductions.sum(numbers, dim, keepdim, dtype=dtype), "nansum")


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """mean of the entries that are not nan (nan where all are), as torch.nanmean: nansum
    divided by the count of numbers."""
    if input._data.dtype.kind != "f":
        raise TypeError(f"nanmean takes a float tensor, got {input._data.dtype} (convert with "
                        ".float())")
    count = reductions.sum(_leaf(~np.isnan(input._data)), dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / count


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in input's rows (a 1-D input: one variable),
    observations in its columns, as torch.cov: fweights (ints) repeat observations,
    aweights weight them; the sum of squares is divided by the weights' sum less
    `correction` (its weighted form with aweights), 0 if that is <= 0 (with PyTorch's
    warning)."""
    x = _as_tensor(input)
    if x._data.dtype == np.bool_:
        raise TypeError("cov does not take bool tensors, as in PyTorch")
    if x._data.ndim > 2:
        raise ValueError(f"cov takes a tensor of at most 2 dims, got shape {x._data.shape}")
    x = _floating(x)
    x = x.reshape(1, -1) if x._data.ndim < 2 else x
    observations = x._data.shape[1]
    weights = None
    fweights, aweights = (None if w is None else _as_tensor(w) for w in (fweights, aweights))
    for name, w, kind in (("fweights", fweights, "iu"), ("aweights", aweights, "f")):
        if w is None:
            continue
        if w._data.ndim > 1 or w._data.size != observations or w._data.dtype.kind not in kind:
            raise ValueError(f"cov(): {name} must be a 1-D {'int' if kind == 'iu' else 'float'} "
                             f"tensor with one entry per observation ({observations}), got "
                             f"{w._data.dtype} of shape {w._data.shape}")
        if observations and (w._data < 0).any():
            raise ValueError(f"cov(): {name} cannot be negative")
        weights = w if weights is None else weights * w
    if weights is None:
        total = observations
        mean = x.sum(1) / total
        factor = total - correction
    else:
        total = weights.sum()
        if not total._data:
            raise ValueError("cov(): weights sum to zero, can't be normalized")
        mean = (x * weights).sum(1) / total
        factor = total - correction * (weights * aweights).sum() / total if (
            correction and aweights is not None) else total - correction
    if float(factor._data if isinstance(factor, Tensor) else factor) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        factor = 0 * factor
    centred = x - mean.unsqueeze(1)
    product = products.mm(centred, (centred if weights is None else centred * weights).t())
    return _called((product / factor).squeeze(), "squeeze")


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in input's rows, as
    torch.corrcoef: cov divided by the standard deviations, clipped to [-1, 1]."""
    c = cov(input)
    if not c._data.ndim:
        return c / c  # one variable: 1, or nan where its variance is 0, inf or nan
    spread = construct.diagonal(c).sqrt()
    c = c / spread.reshape(-1, 1)
    c = c / spread.reshape(1, -1)
    return elementwise.clamp(c, -1, 1)


def trapezoid(y: Tensor, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The trapezoid rule's integral of y along dim, as torch.trapezoid: at the sample
    points x (a 1-D tensor of dim's length, or one that broadcasts with y), else spaced dx
    apart (1 by default); 0 for no samples."""
    y = _as_tensor(y)
    if y._data.dtype == np.bool_:
        raise TypeError("trapezoid does not take a bool tensor y, as in PyTorch")
    d = shapes.dim_index(dim, y._data.ndim, "trapezoid")
    if x is not None and dx is not None:
        raise TypeError("trapezoid: pass the sample points x or their spacing dx, not both")
    if not y._data.shape[d]:
        return _leaf(np.zeros(y._data.shape[:d] + y._data.shape[d + 1:], _float_dtype(y)))
    if x is None:
        ends = shapes.select(y, d, 0) + shapes.select(y, d, -1)
        return (reductions.sum(y, d) - ends * 0.5) * (1.0 if dx is None else dx)
    return (reductions.sum(_spacing(y, x, d, "trapezoid") * _pair_sums(y, d), d)) / 2.0


def trapz(y: Tensor, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """trapezoid, by its older name, as torch.trapz."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: float | None = None,
                         dim: int = -1) -> Tensor:
    """The trapezoid rule's running integral of y along dim (one entry fewer than y), as
    torch.cumulative_trapezoid."""
    y = _as_tensor(y)
    if y._data.dtype == np.bool_:
        raise TypeError("cumulative_trapezoid does not take a bool tensor y, as in PyTorch")
    d = shapes.dim_index(dim, y._data.ndim, "cumulative_trapezoid")
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid: pass the sample points x or their spacing dx, "
                        "not both")
    if x is None:
        return reductions.cumsum(_pair_sums(y, d) * ((1.0 if dx is None else dx) / 2.0), d)
    return reductions.cumsum(_spacing(y, x, d, "cumulative_trapezoid") * _pair_sums(y, d),
                             d) / 2.0


def _float_dtype(y: Tensor) -> Any:
    """y's dtype if it is a float one, else the default float dtype (the integral's)."""
    return y._data.dtype if y._data.dtype.kind == "f" else dtypes.get_default_dtype()


def _pair_sums(y: Tensor, d: int) -> Tensor:
    """y's neighbours along d added: y[1:] + y[:-1] (empty for fewer than 2 samples)."""
    return y[shapes._along(d, slice(1, None))] + y[shapes._along(d, slice(None, -1))]


def _spacing(y: Tensor, x: Any, d: int, op: str) -> Tensor:
    """The differences of the sample points x along d, shaped to broadcast with y's
    pairs (a 1-D x along d; fewer dims than y: leading ones added), as PyTorch's."""
    x = _as_tensor(x)
    if x._data.dtype == np.bool_:
        raise TypeError(f"{op} does not take a bool tensor x, as in PyTorch")
    if x._data.ndim == 1:
        if x._data.size != y._data.shape[d]:
            raise ValueError(f"{op}: x must have one entry per sample point ({y._data.shape[d]} "
                             f"along dim {d}), got {x._data.size}")
        x = x.reshape([-1 if k == d else 1 for k in range(y._data.ndim)])
    elif x._data.ndim < y._data.ndim:
        x = x.reshape((1,) * (y._data.ndim - x._data.ndim) + x._data.shape)
    return x[shapes._along(d, slice(1, None))] - x[shapes._along(d, slice(None, -1))]


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts of input's entries in `bins` equal bins over [min, max] (over the entries'
    own min and max when the two are equal; widened by 1 each side when those are equal
    too), in input's float dtype, as torch.histc: entries outside the range and nan are
    left out, the top edge counts in the last bin, each entry's bin found by PyTorch's
    arithmetic in input's dtype. No gradient."""
    data = input._data
    if data.dtype.kind != "f":
        raise TypeError(f"histc takes a float tensor, got {data.dtype} (convert with .float())")
    if bins <= 0:
        raise ValueError(f"histc: bins must be > 0, got {bins}")
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"histc: the range [{low}, {high}] is not finite")
    if not low < high:
        raise ValueError(f"histc: max must be larger than min, got min={min}, max={max}")
    values = data.reshape(-1)
    left, right = data.dtype.type(low), data.dtype.type(high)
    inside = values[(values >= left) & (values <= right)]
    with np.errstate(over="ignore", invalid="ignore"):
        place = ((inside - left) * data.dtype.type(bins) / (right - left)).astype(np.int64)
    counts = np.bincount(np.minimum(place, bins - 1), minlength=bins)
    return _leaf(counts.astype(data.dtype))


_OPS = (nansum, nanmean, cov, corrcoef, trapezoid, trapz, cumulative_trapezoid, histc)
for _op in (nansum, nanmean, cov, corrcoef, histc):  # (the rest are functions only, as there)
    setattr(Tensor, _op.__name__, _op)
__all__ = [op.__name__ for op in _OPS]
