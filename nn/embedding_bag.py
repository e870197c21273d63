"""Bags of embeddings, as torch.nn's: embedding_bag (re-exported by nn.functional) and the
EmbeddingBag module: the sum, mean or max of the embedding rows each bag of indices picks,
without materialising the (indices, dim) rows per bag as separate tensors.

Bags are given as a 2-D (B, L) input (B bags of L indices each) or as a 1-D run of indices
with `offsets`, the position where each bag starts (include_last_offset: one more offset,
where the last bag ends). Indices equal to padding_idx are left out (of the count too, for
the mean); an empty bag gives zeros.

A composite of engine ops, named EmbeddingBagBackward0 as PyTorch's: the rows picked
(an embedding lookup), weighted by per_sample_weights, added into their bags (an
accumulating index_put); for the max, each bag's largest entry per dim picked straight
from the weight (the first of equal ones, as PyTorch's kernel). So weight and
per_sample_weights get their gradients from the engine's own rules: g of each bag added
into the rows it picked. sparse=True is accepted, but the gradient stays dense (the
engine has no sparse tensors).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from engine.elementwise import where
from engine.shapes import _index_put
from engine.tensor import Tensor, _called, _leaf, _raw
from nn import init
from nn.functional import _renorm_, embedding
from nn.layers import _size, _table
from nn.module import Module

_MODES = ("sum", "mean", "max")


def _indices(input: Any) -> np.ndarray:
    index = np.asarray(_raw(input))
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag takes integer indices (int64 or int32), got "
                        f"{index.dtype} (convert with .long())")
    return index.astype(np.int64, copy=False)


def _bags(offsets: Any, size: int, include_last_offset: bool) -> tuple[np.ndarray, int]:
    """(the bag of each index; the number of bags) from the offsets where bags start
    (checked as PyTorch checks them)."""
    starts = _indices(offsets)
    if starts.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if starts.size and starts[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {starts[0]}")
    if starts.size and starts[-1] > size:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {size} but got "
                           f"offsets[-1] of {starts[-1]}")
    if np.any(np.diff(starts) < 0):
        raise RuntimeError(f"embedding_bag: offsets must not decrease, got {starts.tolist()[:8]}")
    if include_last_offset and starts.size and starts[-1] != size:
        # (PyTorch's sum then stops at the last offset, its mean and max do not)
        raise ValueError(f"embedding_bag: with include_last_offset=True the last offset ends the "
                         f"last bag and must be the input's length {size}, got {starts[-1]}")
    count = max(starts.size - 1, 0) if include_last_offset else starts.size
    return np.searchsorted(starts[:count], np.arange(size), side="right") - 1, count


def embedding_bag(input: Any, weight: Tensor, offsets: Any = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """The sum, mean or max of the rows of `weight` each bag of indices picks: (B, dim).

    scale_grad_by_freq divides each row's gradient by how often the input picks it, as
    F.embedding does (PyTorch 2.13's embedding_bag kernel divides some rows by another
    row's count); max_norm first rescales, in place, the rows picked whose norm_type-norm
    exceeds it.
    """
    if isinstance(weight, Tensor) and weight.dtype.kind in "iu" and np.asarray(
            _raw(input)).dtype.kind == "f":
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", UserWarning, stacklevel=2)
        weight, input = input, weight
    index = _indices(input)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != index.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}"
                         f") is not None, then it must have the same shape as the input "
                         f"({index.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"embedding_bag: per_sample_weights ({per_sample_weights.dtype}) must "
                           f"have the weight's dtype ({weight.dtype})")
    if index.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        offsets, include_last_offset = np.arange(index.shape[0]) * index.shape[1], False
    elif index.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{index.ndim}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError("embedding_bag: per_sample_weights is only supported for "
                         f"mode='sum' (got mode='{mode}'), as in PyTorch; weight the rows "
                         "before a mean or max yourself")
    index = index.reshape(-1)
    rows = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= rows):
        bad = int(np.flatnonzero((index < 0) | (index >= rows))[0])
        raise IndexError(f"embedding_bag: index {bad} of input takes value {index[bad]}, which "
                         f"is not in the valid range [0, {rows})")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, {-rows} "
                               f"through {rows - 1}, but got {padding_idx}")
        padding_idx %= rows
    bag, bags = _bags(offsets, index.size, include_last_offset)
    if max_norm is not None:
        _renorm_(weight, index, max_norm, norm_type)
    # (no offsets at all: no bags, and the indices belong to none, bag -1)
    kept = (bag >= 0) & (index != (-1 if padding_idx is None else padding_idx))
    index, bag = index[kept], bag[kept]
    width, dtype = weight.shape[1], weight.dtype
    if mode == "max":
        return _called(_bag_max(weight, index, bag, bags), "embedding_bag")
    picked = embedding(index, weight)
    if scale_grad_by_freq:  # the same numbers, with each row's gradient over its count
        _, where_in, counts = np.unique(index, return_inverse=True, return_counts=True)
        share = Tensor((1 / counts[where_in]).astype(dtype)[:, None])
        picked = picked.detach() + (picked - picked.detach()) * share
    if per_sample_weights is not None:
        picked = picked * per_sample_weights.reshape(-1)[np.flatnonzero(kept)].unsqueeze(1)
    out = _index_put(_leaf(np.zeros((bags, width), dtype)), bag, picked, accumulate=True)
    if mode == "mean":
        sizes = np.bincount(bag, minlength=bags).astype(dtype)
        out = out / Tensor(np.maximum(sizes, 1)[:, None])
    return _called(out, "embedding_bag")


def _bag_max(weight: Tensor, index: np.ndarray, bag: np.ndarray, bags: int) -> Tensor:
    """Each bag's largest entry per dim, taken from the weight row that holds it (the first
    such row in the bag); zeros for an empty bag."""
    width = weight.shape[1]
    values = weight._data[index]
    best = np.full((bags, width), -np.inf, values.dtype)
    np.maximum.at(best, bag, values)
    position = np.where(values == best[bag], np.arange(index.size)[:, None], index.size)
    first = np.full((bags, width), index.size)
    np.minimum.at(first, bag, position)
    empty = first == index.size
    rows = np.append(index, 0)[first]  # (an empty bag picks row 0, then drops it)
    return where(empty, 0.0, weight[rows, np.arange(width)])


class EmbeddingBag(Module):
    """A table of num_embeddings vectors of embedding_dim numbers, looked up in bags:
    embedding_bag(input, weight, offsets, ...) with this module's settings. Starts N(0, 1)
    as PyTorch's, the row padding_idx (if given) zero."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        self.num_embeddings = _size("EmbeddingBag", "num_embeddings", num_embeddings)
        self.embedding_dim = _size("EmbeddingBag", "embedding_dim", embedding_dim)
        if mode not in _MODES:
            raise ValueError(f"EmbeddingBag's mode must be one of {list(_MODES)}, got {mode!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag's padding_idx must lie in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        _table(self, _weight, False, dtype, device)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag holding `embeddings` (2-D) as its weight, frozen unless told."""
        if embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        bag = cls(*embeddings.shape, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  _weight=embeddings, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input: Any, offsets: Any = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx!r}"
        return text
