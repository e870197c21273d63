"""Ordering ops, as PyTorch's: sort, argsort, topk (nanoGPT's sampling keeps the top k
logits), and the statistics read off an order: median, mode, quantile.

Each finds the order with numpy's stable sort, so equal entries keep their order, and nan
counts as larger than every number, as in PyTorch. The values are then picked with
`gather`, whose rule sends each value's gradient back to the entry it came from: these ops
need no derivative code of their own.
"""
from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from engine import shapes  # (the module: importing engine/shapes.py first comes here)
from engine.tensor import Tensor, _called, _leaf, add_methods

sort_result = namedtuple("sort", ["values", "indices"])  # torch.return_types.sort
topk_result = namedtuple("topk", ["values", "indices"])  # torch.return_types.topk
median_result = namedtuple("median", ["values", "indices"])  # torch.return_types.median
mode_result = namedtuple("mode", ["values", "indices"])  # torch.return_types.mode


def _order(x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """The int64 indices that sort x along dim, stably; nan last going up, first going down."""
    if x.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    # a stable descending sort: the stable ascending sort of the reversed entries, reversed
    # (equal entries then keep their order, and nan, which sorts last, comes first)
    reversed_order = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
    return x.shape[dim] - 1 - np.flip(reversed_order, dim)


def argsort(input: Tensor, dim: int = -1, descending: bool = False,
            stable: bool = False) -> Tensor:
    """The indices that sort the entries along dim (ascending unless `descending`)."""
    dim = shapes.dim_index(dim, max(input._data.ndim, 1), "argsort")
    return _leaf(_order(input._data, dim, descending))


def sort(input: Tensor, dim: int = -1, descending: bool = False,
         stable: bool = False) -> sort_result:
    """(values, indices): the entries sorted along dim, and where each came from; the
    values' gradient goes back to those places (gather's rule)."""
    dim = shapes.dim_index(dim, max(input._data.ndim, 1), "sort")
    indices = _order(input._data, dim, descending)
    return sort_result(_called(shapes.gather(input, dim, indices), "sort"), _leaf(indices))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> topk_result:
    """(values, indices) of the k largest entries along dim (the k smallest when `largest`
    is False), largest first; the values' gradient goes back to where they came from."""
    dim = shapes.dim_index(dim, max(input._data.ndim, 1), "topk")
    size = input._data.shape[dim] if input._data.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise ValueError(f"topk: k must be an int from 0 to the size of dim {dim} ({size}), "
                         f"got {k!r}")
    indices = _order(input._data, dim, largest)
    if input._data.ndim:
        indices = np.take(indices, np.arange(k), axis=dim)
    return topk_result(_called(shapes.gather(input, dim, indices), "topk"), _leaf(indices))


def _picked(input: Tensor, dim: int, indices: np.ndarray, keepdim: bool) -> tuple:
    """(values, indices) of one entry per slice along dim, picked by `indices` (the slices'
    shape with dim kept as 1), with dim dropped unless keepdim."""
    values = shapes.gather(input, dim, indices)
    if not keepdim and input._data.ndim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return values, _leaf(indices)


def _of_nothing(input: Tensor, op: str) -> Tensor:
    """The median of no entries: nan, in the graph, as PyTorch's (a gradient of no entries)."""
    return _called(input.sum() * math.nan, op)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The median, as torch.median: the lower of the two middle entries for an even count,
    nan where a slice holds nan; with dim, (values, indices) along it. The gradient goes
    to the chosen entry (gather's rule); without dim, as PyTorch's, it is shared evenly
    among the entries equal to the median."""
    if dim is None:
        if not input._data.size:
            return _of_nothing(input, "median")
        return _shared_by_ties(input, median(input.reshape(-1), 0).values.reshape(()), "median")
    x = input._data
    dim = shapes.dim_index(dim, max(x.ndim, 1), "median")
    if x.ndim and not x.shape[dim]:
        raise IndexError(f"median: dim {dim} of shape {x.shape} has no entries")
    order = _order(x, dim, False)
    if not x.ndim:
        return median_result(*_picked(input, dim, order, keepdim))
    # the lower middle entry, or the first nan (nan sorts last) of a slice that has one
    numbers = (~np.isnan(x) if x.dtype.kind == "f" else np.ones(x.shape, bool)).sum(
        dim, keepdims=True)
    rank = np.where(numbers < x.shape[dim], numbers, (x.shape[dim] - 1) // 2)
    return median_result(*_picked(input, dim, np.take_along_axis(order, rank, dim), keepdim))


def _shared_by_ties(input: Tensor, value: Tensor, op: str) -> Tensor:
    """`value`, one of input's entries, with its gradient shared evenly among the entries equal
    to it (nan ties with nan), as PyTorch's median() and nanmedian() without dim: the ties'
    amax, or the mean of the nans (amax's gradient at nan would be nan)."""
    if value._rule is None:
        return value
    v = value._data
    if np.isnan(v):
        return _called(input[np.isnan(input._data)].mean(), op)
    return _called(input[input._data == v].amax(), op)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> mode_result:
    """(values, indices): the most frequent entry of each slice along dim (the smallest of
    those equally frequent) and where it last occurs, as torch.mode; the gradient goes there.
    (A slice holding nan: here each nan counts on its own, sorted last; PyTorch's answer
    then depends on where its sort leaves the nan.)"""
    x = input._data
    dim = shapes.dim_index(dim, max(x.ndim, 1), "mode")
    if not x.ndim:
        return mode_result(*_picked(input, dim, np.zeros((), np.int64), keepdim))
    order = _order(x, dim, False)
    ordered = np.take_along_axis(x, order, dim)
    # the length of the run of equal entries each sorted place ends, found without a loop:
    # each place's run starts at the last place whose entry differs from the one before
    places = np.arange(x.shape[dim]).reshape([-1 if d == dim else 1 for d in range(x.ndim)])
    starts = np.diff(ordered, axis=dim, prepend=np.nan if x.dtype.kind == "f" else ordered.take(
        [0], dim) - 1) != 0
    run = places - np.maximum.accumulate(np.where(starts, places, 0), axis=dim)
    # the first place of the longest run's end is the smallest most frequent value's last copy
    last = np.argmax(run, axis=dim).reshape(
        [1 if d == dim else n for d, n in enumerate(x.shape)])
    return mode_result(*_picked(input, dim, np.take_along_axis(order, last, dim), keepdim))


_QUANTILE_PICKS = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles (q in [0, 1], a number or a 1-D tensor, whose dim then comes
    first) along dim, or of all entries, as torch.quantile: at rank q (n - 1) of the sorted
    entries, between two entries as `interpolation` says ('linear', 'lower', 'higher',
    'nearest', 'midpoint'); nan where a slice holds nan. The gradient goes to the one or
    two entries each quantile is made of."""
    return _quantiles(input, q, dim, keepdim, interpolation, "quantile")


def _quantiles(input: Tensor, q: Any, dim: int | None, keepdim: bool, interpolation: str,
               op: str) -> Tensor:
    """quantile, or nanquantile (`op`), which ranks each slice's entries that are not nan."""
    x = input._data
    if x.dtype.kind != "f":
        raise TypeError(f"{op} takes a float tensor, got {x.dtype} (convert with .float())")
    if interpolation not in ("linear", "midpoint", *_QUANTILE_PICKS):
        raise ValueError(f"{op}: interpolation must be 'linear', 'lower', 'higher', "
                         f"'nearest' or 'midpoint', got {interpolation!r}")
    qs = np.asarray(q._data if isinstance(q, Tensor) else q, np.float64)
    if qs.ndim > 1 or not ((qs >= 0) & (qs <= 1)).all():
        raise ValueError(f"{op}: q must be a number or a 1-D tensor of numbers in [0, 1], "
                         f"got {q!r:.60}")
    flat = input.reshape(-1) if dim is None or not x.ndim else input
    axis = 0 if dim is None or not x.ndim else shapes.dim_index(dim, x.ndim, op)
    n = flat._data.shape[axis]
    if not n:
        raise IndexError(f"{op}: dim {axis} of shape {x.shape} has no entries")
    rows = sort(shapes.movedim(flat, axis, -1)).values  # (..., n), nan last
    if op == "nanquantile":  # each slice ranks its numbers; one of none reads a nan (at 0)
        numbers = (~np.isnan(rows._data)).sum(-1, keepdims=True)  # (..., 1)
        rank = np.atleast_1d(qs) * np.maximum(numbers - 1, 0)  # (..., q)
        nan_at = np.where(numbers == 0, 0, -1)
    else:  # a slice that holds nan has nan quantiles: they read its last entry
        rank = np.atleast_1d(qs) * (n - 1)
        nan_at = np.where(np.isnan(rows._data).any(-1, keepdims=True), n - 1, -1)
    pick = _QUANTILE_PICKS.get(interpolation)
    low, high = (pick(rank), pick(rank)) if pick else (np.floor(rank), np.ceil(rank))
    where = [np.where(nan_at >= 0, nan_at, r).astype(np.int64) for r in (low, high)]
    below, above = (shapes.gather(rows, -1, w) for w in where)
    weight = 0.5 if interpolation == "midpoint" else (rank - low).astype(x.dtype)
    # (lower, higher and nearest pick an entry: no arithmetic, so an infinite one stays so)
    out = shapes.movedim(below if pick else below + (above - below) * weight, -1, 0)  # (q, ...)
    if keepdim:
        kept = [1] * x.ndim if dim is None else [1 if d == axis else s for d, s in enumerate(
            x.shape)]
        out = out.reshape([np.atleast_1d(qs).size] + kept)
    return out if qs.ndim else out[0]


class _Sorting:
    """Tensor's methods: t.sort(), t.argsort(), t.topk(k), t.median(), t.mode(), t.quantile(q)."""

    sort, argsort, topk, median, mode, quantile = sort, argsort, topk, median, mode, quantile


add_methods(Tensor, _Sorting)
__all__ = ["sort", "argsort", "topk", "median", "mode", "quantile"]
