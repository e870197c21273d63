"""PyTorch's functions that compare or count tensors rather than compute on them: isclose,
allclose, equal, histogram, nonzero, numel.

None of them records a graph (their results are bools, counts and bin edges). Each is also
the Tensor method of the same name, as in PyTorch (`t.allclose(u)`, `t.histogram(10)`).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from engine import dtypes, factories, shapes  # modules: factories imports tensor, tensor this
from engine.tensor import Tensor, _leaf


def _tensor_argument(x: Any, fn: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): {name} must be a Tensor, got {type(x).__name__} (as in "
                        f"PyTorch; wrap numbers with engine.tensor(...))")
    return x


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Where |input - other| <= atol + rtol |other| (the two broadcast), as a bool Tensor, as
    torch.isclose: equal entries (infinities included) are close, nan only with equal_nan;
    the tolerance is computed in the tensors' dtype (a bool one: the default float dtype)."""
    a = _tensor_argument(input, "isclose", "input")._data
    b = _tensor_argument(other, "isclose", "other")._data
    if a.dtype != b.dtype:
        raise TypeError(f"isclose(): input is {a.dtype} but other is {b.dtype}; convert one "
                        "(e.g. other.to(input.dtype)), as PyTorch asks")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not tol >= 0:
            raise ValueError(f"isclose(): {name} must be >= 0, got {tol}")
    try:
        close = a == b
    except ValueError:
        raise ValueError(f"isclose(): shapes {a.shape} and {b.shape} do not broadcast") from None
    if equal_nan and a.dtype.kind == "f":
        close |= np.isnan(a) & np.isnan(b)
    if rtol == 0 and atol == 0:
        return _leaf(close)
    if a.dtype.kind == "b":
        a, b = (x.astype(dtypes.get_default_dtype()) for x in (a, b))
    # PyTorch's order: the difference first (exact for ints), then the tolerance in floats
    float_dtype = a.dtype if a.dtype.kind == "f" else dtypes.get_default_dtype()
    allowed = float_dtype.type(atol) + np.abs(float_dtype.type(rtol) * b.astype(float_dtype))
    with np.errstate(invalid="ignore", over="ignore"):
        actual = np.abs(a - b)
        close |= np.isfinite(actual) & (actual <= allowed)
    return _leaf(close)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every entry of input is close to other's (see isclose), as torch.allclose."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when the two have one shape and equal entries (nan is not equal to itself), as
    torch.equal; different dtypes are compared by value."""
    a = _tensor_argument(input, "equal", "input")._data
    b = _tensor_argument(other, "equal", "other")._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """Where the entries are not 0: an int64 Tensor with one row of indices per such entry,
    or with `as_tuple`, one 1-D Tensor of indices per dim (numpy's nonzero)."""
    if as_tuple:
        return tuple(_leaf(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(input._data)))
    return _leaf(np.argwhere(input._data).astype(np.int64))


def numel(input: Tensor) -> int:
    """How many entries input holds, as torch.numel."""
    return _tensor_argument(input, "numel", "input")._data.size


def histogram(input: Tensor, bins: Any = 100, *, range: tuple[float, float] | None = None,
              weight: Tensor | None = None, density: bool = False) -> tuple[Tensor, Tensor]:
    """(hist, bin_edges) of input's entries, as torch.histogram: `bins` equal bins from
    input's min to max (or over `range`), or the edges given as a 1-D Tensor. Each bin holds
    [left, right), the last also its right edge; entries outside (and nan, with a range) are
    left out. `weight` counts each entry by its weight; `density` divides by the total and
    the bin widths so the histogram integrates to 1. Both results are in input's dtype."""
    x = _tensor_argument(input, "histogram", "input")._data
    if x.dtype.kind != "f":
        raise TypeError(f"histogram(): input must be a float tensor, got {x.dtype} "
                        "(convert with .float())")
    values = x.reshape(-1)
    if isinstance(bins, Tensor):
        if range is not None:
            raise TypeError("histogram(): range goes with a number of bins, not with edges")
        edges = bins._data.astype(x.dtype)
        if edges.ndim != 1 or edges.size < 1 or np.any(np.diff(edges) < 0):
            raise ValueError(f"histogram(): bin edges must be a 1-D increasing tensor, got "
                             f"shape {edges.shape}")
    else:
        edges = _edges(values, bins, range)
    weights = None
    if weight is not None:
        weights = _tensor_argument(weight, "histogram", "weight")._data
        if weights.shape != x.shape:
            raise ValueError(f"histogram(): weight must have input's shape {x.shape}, got "
                             f"{weights.shape}")
        weights = weights.reshape(-1)
    counts = np.zeros(max(edges.size - 1, 0), x.dtype)
    if counts.size:
        inside = (values >= edges[0]) & (values <= edges[-1])  # False for nan
        # the bin whose [left, right) holds the entry; the top edge goes in the last bin
        pos = np.minimum(np.searchsorted(edges, values[inside], side="right") - 1,
                         counts.size - 1)
        if weights is None:
            counts[:] = np.bincount(pos, minlength=counts.size)
        else:  # summed in input's dtype, one entry after another, as PyTorch's kernel does
            np.add.at(counts, pos, weights[inside].astype(x.dtype))
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            counts = counts / counts.sum(dtype=x.dtype) / np.diff(edges)
    return _leaf(counts.astype(x.dtype, copy=False)), _leaf(edges)


def _edges(values: np.ndarray, bins: Any, range: tuple | None) -> np.ndarray:
    """bins + 1 evenly spaced edges over range, else over the values' min and max (an empty
    span widened by 0.5 each side, [0, 1] for no values), as PyTorch picks them."""
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 1:
        raise ValueError(f"histogram(): bins must be a positive int or a 1-D Tensor of edges, "
                         f"got {bins!r}")
    if range is not None:
        low, high = map(float, range)
    elif values.size:
        low, high = float(values.min()), float(values.max())
    else:
        low, high = 0.0, 1.0
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"histogram(): the range [{low}, {high}] is not finite (the input "
                         "holds nan or inf: pass range=(min, max))")
    if low > high:
        raise ValueError(f"histogram(): range's min {low} is larger than its max {high}")
    if low == high:
        low, high = low - 0.5, high + 0.5
    return factories.linspace(low, high, int(bins) + 1, dtype=values.dtype)._data


def is_floating_point(input: Tensor) -> bool:
    """True for a tensor of a float dtype, as torch.is_floating_point."""
    return _tensor_argument(input, "is_floating_point", "input")._data.dtype.kind == "f"


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-entry tensor's entry is not 0, as torch.is_nonzero."""
    x = _tensor_argument(input, "is_nonzero", "input")._data
    if x.size != 1:
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with "
                           f"{'no values' if not x.size else 'more than one value'} is ambiguous "
                           f"(shape {x.shape}; it takes a tensor of one entry)")
    return bool(x.reshape(-1)[0] != 0)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct entries (or, along dim, the distinct slices), sorted, as torch.unique;
    with return_inverse also where each entry went (input's shape, int64), with
    return_counts how often each occurs (int64). Every nan is distinct from the others, as
    in PyTorch. The results are sorted whatever `sorted` says (PyTorch's CPU sorts too)."""
    x = _tensor_argument(input, "unique", "input")._data
    axis = None if dim is None else shapes.dim_index(dim, max(x.ndim, 1), "unique")
    values, inverse, counts = np.unique(x if x.ndim else x.reshape(1), return_inverse=True,
                                        return_counts=True, axis=axis, equal_nan=False)
    out = [_leaf(values)]
    if return_inverse:
        out.append(_leaf(inverse.reshape(x.shape if axis is None else -1).astype(np.int64)))
    if return_counts:
        out.append(_leaf(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each of 0, 1, ..., max(input) occurs in a 1-D tensor of non-negative ints
    (at least `minlength` counts), as torch.bincount: int64 counts, or with `weights` the
    sums of each value's weights (in float64 unless the weights are float32, as PyTorch)."""
    x = _tensor_argument(input, "bincount", "input")._data
    if x.ndim != 1 or x.dtype.kind not in "iub":
        raise ValueError(f"bincount takes a 1-D tensor of ints, got {x.dtype} of shape {x.shape}")
    if x.size and x.min() < 0:
        raise ValueError(f"bincount takes non-negative ints, got {x.min()} (shift the values, "
                         f"or count with unique(return_counts=True))")
    if isinstance(minlength, bool) or not isinstance(minlength, numbers.Integral) or minlength < 0:
        raise ValueError(f"bincount: minlength must be a non-negative int, got {minlength!r}")
    if weights is None:
        return _leaf(np.bincount(x, minlength=minlength).astype(np.int64))
    w = _tensor_argument(weights, "bincount", "weights")._data
    if w.shape != x.shape:
        raise ValueError(f"bincount: weights must have input's shape {x.shape}, got {w.shape}")
    return _leaf(np.bincount(x, w, minlength).astype(w.dtype if w.dtype == np.float32
                                                      else np.float64))


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """Where each value would go in the sorted last dim of sorted_sequence to keep it
    sorted, as torch.searchsorted: before equal entries, or after them with right=True
    (side='right'); a sequence with more dims searches each row for its row of values."""
    seq = _tensor_argument(sorted_sequence, "searchsorted", "sorted_sequence")._data
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    if side is not None:
        if side not in ("left", "right") or (side == "left" and right):
            raise ValueError(f"searchsorted: side must be 'left' or 'right' and agree with "
                             f"right={right}, got side={side!r}")
        right = side == "right"
    if sorter is not None:
        order = sorter._data if isinstance(sorter, Tensor) else np.asarray(sorter)
        seq = np.take_along_axis(seq, order, -1)
    if seq.ndim == 1:
        found = np.searchsorted(seq, values, "right" if right else "left")
    elif seq.shape[:-1] != values.shape[:-1]:
        raise ValueError(f"searchsorted: the sequence {seq.shape} and the values {values.shape} "
                         f"must have the same leading dims (all but the last)")
    else:  # each row on its own: count the entries before each value, all rows at once
        before = np.less_equal if right else np.less
        found = before(seq[..., None, :], values[..., :, None]).sum(-1)
    return _leaf(np.asarray(found, np.int32 if out_int32 else np.int64))


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The index of the bucket of 1-D `boundaries` each entry falls in, as torch.bucketize:
    i with boundaries[i-1] < x <= boundaries[i] (with right=True, boundaries[i-1] <= x <
    boundaries[i])."""
    edges = _tensor_argument(boundaries, "bucketize", "boundaries")
    if edges._data.ndim != 1:
        raise ValueError(f"bucketize takes 1-D boundaries, got shape {edges._data.shape}")
    return searchsorted(edges, input, out_int32=out_int32, right=right)


for _fn in (isclose, allclose, equal, histogram, nonzero, unique, bincount, is_nonzero):
    setattr(Tensor, _fn.__name__, _fn)
__all__ = ["isclose", "allclose", "equal", "numel", "histogram", "nonzero", "is_floating_point",
           "is_nonzero", "unique", "bincount", "searchsorted", "bucketize"]
