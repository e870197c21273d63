"""More of PyTorch's statistics read off an order (engine/sorting.py holds sort, topk,
median, mode and quantile): msort, aminmax, the running extremes cummax and cummin,
kthvalue, and nanmedian and nanquantile, which leave nan out.

The values are picked with gather (or are amin and amax), whose rules send each value's
gradient back to the entry it came from (split evenly among ties for aminmax, as
PyTorch's): none of these needs derivative code of its own.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from engine import reductions, shapes, sorting  # modules: they may still be loading
from engine.tensor import Tensor, _called, _leaf

aminmax_result = namedtuple("aminmax", ["min", "max"])  # torch.return_types.aminmax
cummax_result = namedtuple("cummax", ["values", "indices"])  # torch.return_types.cummax
cummin_result = namedtuple("cummin", ["values", "indices"])  # torch.return_types.cummin
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])  # torch.return_types.kthvalue
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])  # ...return_types.nanmedian


def msort(input: Tensor) -> Tensor:
    """The entries sorted along dim 0, as torch.msort (sort(input, 0).values)."""
    return sorting.sort(input, 0).values


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> aminmax_result:
    """(min, max) of all entries or along dim, as torch.aminmax: amin's and amax's values
    and gradients (ties share g evenly)."""
    if reductions.empty_along(input._data.shape, None if dim is None or not input._data.ndim
                              else shapes.dim_index(dim, input._data.ndim, "aminmax")):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity")
    if dim is None and keepdim:  # every dim kept, as size 1
        dim = tuple(range(input._data.ndim))
    low, high = reductions.amin(input, dim, keepdim), reductions.amax(input, dim, keepdim)
    return aminmax_result(_called(low, "aminmax"), _called(high, "aminmax"))


def _running(input: Tensor, dim: int, larger: bool, op: str) -> tuple[Tensor, Tensor]:
    """cummax or cummin: (values, indices) of the running extreme along dim; the index is
    the latest entry that ties with the extreme, and once nan appears, the latest nan (as
    PyTorch's); the values are gathered from there."""
    x = input.reshape(1) if not input._data.ndim else input
    d = shapes.dim_index(dim, x._data.ndim, op)
    data = x._data
    running = (np.maximum if larger else np.minimum).accumulate(data, axis=d)
    reached = data == running
    if data.dtype.kind == "f":
        reached |= np.isnan(data)
    places = np.arange(data.shape[d]).reshape([-1 if k == d else 1 for k in range(data.ndim)])
    indices = np.maximum.accumulate(np.where(reached, places, 0), axis=d)
    values = _called(shapes.gather(x, d, indices), op)
    if not input._data.ndim:
        values, indices = values.reshape(()), indices.reshape(())
    return values, _leaf(indices)


def cummax(input: Tensor, dim: int) -> cummax_result:
    """(values, indices): the largest entry so far along dim and where it is, as
    torch.cummax; the gradient goes to that entry."""
    return cummax_result(*_running(input, dim, True, "cummax"))


def cummin(input: Tensor, dim: int) -> cummin_result:
    """(values, indices): the smallest entry so far along dim and where it is, as
    torch.cummin; the gradient goes to that entry."""
    return cummin_result(*_running(input, dim, False, "cummin"))


def _picked(input: Tensor, d: int, order: np.ndarray, rank: Any, keepdim: bool,
            op: str) -> tuple[Tensor, Tensor]:
    """(values, indices) of the entry at `rank` (an int, or one per slice) of each slice's
    order along d; d dropped unless keepdim."""
    rank = np.broadcast_to(rank, order.shape[:d] + (1,) + order.shape[d + 1:])
    indices = np.take_along_axis(order, rank, d)
    values = shapes.gather(input, d, indices)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return _called(values, op), _leaf(indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> kthvalue_result:
    """(values, indices) of the k-th smallest entry (k from 1) of each slice along dim, as
    torch.kthvalue (nan counts as the largest; of equal entries, the one a stable sort puts
    k-th); the gradient goes to that entry."""
    x = input.reshape(1) if not input._data.ndim else input
    d = shapes.dim_index(dim, x._data.ndim, "kthvalue")
    size = x._data.shape[d]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= size:
        raise ValueError(f"kthvalue: k must be an int from 1 to the size of dim {d} ({size}), "
                         f"got {k!r}")
    values, indices = _picked(x, d, sorting._order(x._data, d, False), k - 1,
                              keepdim or not input._data.ndim, "kthvalue")
    if not input._data.ndim:
        values, indices = values.reshape(()), _leaf(indices._data.reshape(()))
    return kthvalue_result(values, indices)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The median of the entries that are not nan (the lower middle one of an even count;
    nan where all are), as torch.nanmedian; with dim, (values, indices) along it. The
    gradient goes to the chosen entry (without dim, shared by the entries equal to it, as
    PyTorch's). (Of a slice that is all nan, the index here is its
    first place; PyTorch's is wherever its partial sort leaves a nan.)"""
    if dim is None:
        if not input._data.size:
            return sorting._of_nothing(input, "nanmedian")
        return sorting._shared_by_ties(
            input, nanmedian(input.reshape(-1), 0).values.reshape(()), "nanmedian")
    x = input.reshape(1) if not input._data.ndim else input
    d = shapes.dim_index(dim, x._data.ndim, "nanmedian")
    if not x._data.shape[d]:
        raise IndexError(f"nanmedian: dim {d} of shape {x._data.shape} has no entries")
    data = x._data
    numbers = (~np.isnan(data) if data.dtype.kind == "f" else np.ones(data.shape, bool)).sum(
        d, keepdims=True)
    values, indices = _picked(x, d, sorting._order(data, d, False),
                              np.maximum(numbers - 1, 0) // 2, keepdim or not input._data.ndim,
                              "nanmedian_dim")
    if not input._data.ndim:
        values, indices = values.reshape(()), _leaf(indices._data.reshape(()))
    return nanmedian_result(values, indices)


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """The q-th quantiles of the entries that are not nan (nan where all are), as
    torch.nanquantile: quantile's ranks and interpolations, counted among each slice's
    numbers only. The gradient goes to the one or two entries each quantile is made of."""
    return sorting._quantiles(input, q, dim, keepdim, interpolation, "nanquantile")


_OPS = (msort, aminmax, cummax, cummin, kthvalue, nanmedian, nanquantile)
for _op in _OPS:
    setattr(Tensor, _op.__name__, _op)
__all__ = [op.__name__ for op in _OPS]
