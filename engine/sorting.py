"""Ordering ops, as PyTorch's: sort, argsort, topk (nanoGPT's sampling keeps the top k logits).

Each finds the order with numpy's stable sort, so equal entries keep their order, and nan
counts as larger than every number, as in PyTorch. The values are then picked with
`gather`, whose rule sends each value's gradient back to the entry it came from: these ops
need no derivative code of their own.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from engine import shapes  # (the module: importing engine/shapes.py first comes here)
from engine.tensor import Tensor, _leaf, add_methods

sort_result = namedtuple("sort", ["values", "indices"])  # torch.return_types.sort
topk_result = namedtuple("topk", ["values", "indices"])  # torch.return_types.topk


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
    return sort_result(shapes.gather(input, dim, indices), _leaf(indices))


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
    return topk_result(shapes.gather(input, dim, indices), _leaf(indices))


class _Sorting:
    """Tensor's methods: t.sort(), t.argsort(), t.topk(k)."""

    sort, argsort, topk = sort, argsort, topk


add_methods(Tensor, _Sorting)
__all__ = ["sort", "argsort", "topk"]
