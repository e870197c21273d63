"""Tensor ops that build a tensor out of others' entries, as PyTorch's: diag, diagonal and
trace, meshgrid and broadcast_tensors, atleast_1d/2d/3d, hstack, vstack, column_stack and
dstack, repeat_interleave, kron; and the index pairs tril_indices and triu_indices.

Each is made of engine/shapes.py's ops (indexing, reshape, expand, cat), so none needs
derivative code of its own: the gradient flows back through those ops' rules, and is a
graph again under create_graph=True.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from engine import shapes
from engine.tensor import Tensor, _as_tensor, _leaf, _node


def _dims(input: Tensor, allowed: tuple[int, ...], op: str) -> int:
    ndim = input._data.ndim
    if ndim not in allowed:
        raise ValueError(f"{op} takes a tensor of {' or '.join(map(str, allowed))} dims, got "
                         f"shape {input._data.shape}")
    return ndim


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The entries input[..., i, i + offset, ...] of dims dim1 and dim2, as a last dim, as
    torch.diagonal (offset > 0: above the main diagonal), a view of input's numbers;
    da = g put back on the diagonal, 0 elsewhere."""
    ndim = input._data.ndim
    if ndim < 2:
        raise ValueError(f"diagonal needs a tensor of at least 2 dims, got shape "
                         f"{input._data.shape}")
    dim1, dim2 = shapes.dim_index(dim1, ndim, "diagonal"), shapes.dim_index(dim2, ndim, "diagonal")
    if dim1 == dim2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {dim1}")
    moved = shapes.movedim(input, (dim1, dim2), (-2, -1))
    rows, cols = moved._data.shape[-2:]
    start = max(-offset, 0)
    length = max(min(rows - start, cols - start - offset), 0)
    index = (Ellipsis, np.arange(start, start + length), np.arange(start + offset,
                                                                  start + offset + length))

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (shapes._put(g, a, index, False),)
    # a view of input's numbers, so that writes go through, as PyTorch's diagonal
    square = moved._data[..., start:start + length, start + offset:start + offset + length]
    return _node(np.einsum("...ii->...i", square), "diagonal", rule, moved)


_diagonal = diagonal  # (diag's argument `diagonal` hides the function inside diag)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor as the given diagonal of a square matrix of zeros; of a matrix, that
    diagonal as a 1-D tensor, as torch.diag."""
    input = _as_tensor(input)
    if _dims(input, (1, 2), "diag") == 2:
        return _diagonal(input, diagonal)
    n = input._data.shape[0]
    size = n + abs(diagonal)
    # each place of the matrix picks its entry from the vector, or the 0 appended after it
    rows, cols = np.indices((size, size))
    on = cols - rows == diagonal
    picks = np.where(on, np.minimum(rows, cols), n)
    padded = shapes.cat([input, _leaf(np.zeros(1, input._data.dtype))])
    return padded[picks]


def trace(input: Tensor) -> Tensor:
    """The sum of a matrix's main diagonal, as torch.trace."""
    _dims(input, (2,), "trace")
    return diagonal(input).sum()


def _index_pairs(part: Any, row: int, col: int, offset: int, dtype: Any) -> Tensor:
    rows, cols = part(row, offset, col)
    return _leaf(np.stack([rows, cols]).astype(dtype or np.int64))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    """The (2, N) row and column indices of a row x col matrix's entries on and below a
    diagonal, row by row, as torch.tril_indices."""
    return _index_pairs(np.tril_indices, row, col, offset, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    """The (2, N) indices of the entries on and above a diagonal, as torch.triu_indices."""
    return _index_pairs(np.triu_indices, row, col, offset, dtype)


def _tensors(tensors: tuple) -> tuple[Tensor, ...]:
    """f(a, b) and f([a, b]) as (a, b), each a Tensor."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return tuple(_as_tensor(t) for t in tensors)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Grids of coordinates from 1-D tensors, as torch.meshgrid: with indexing='ij' the
    k-th result varies along dim k; with 'xy' the first two dims trade places (as numpy's
    default). Without `indexing`, 'ij', with PyTorch's warning."""
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = _tensors(tensors)
    for k, t in enumerate(tensors):
        if t._data.ndim > 1:
            raise ValueError(f"meshgrid takes 0-d or 1-d tensors, got shape {t._data.shape} "
                             f"for tensor {k}")
    place = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        place[0], place[1] = 1, 0
    sizes = [0] * len(tensors)
    for k, t in zip(place, tensors):
        sizes[k] = t._data.size
    out = []
    for k, t in zip(place, tensors):
        view = [1] * len(tensors)
        view[k] = -1
        out.append(t.reshape(view).expand(sizes))
    return tuple(out)


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape, as torch.broadcast_tensors."""
    tensors = _tensors(tensors)
    try:
        shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        listed = ", ".join(str(t._data.shape) for t in tensors)
        raise ValueError(f"broadcast_tensors: shapes {listed} do not broadcast together") from None
    return tuple(t.expand(shape) for t in tensors)


def _at_least(tensors: tuple, view: Any) -> Tensor | tuple[Tensor, ...]:
    """Each tensor reshaped by `view`; one tensor in, one out, as PyTorch's atleast_nd."""
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    out = tuple(t.reshape(view(t._data.shape)) for t in _tensors(tensors))
    return out[0] if single else out


def atleast_1d(*tensors: Any) -> Tensor | tuple[Tensor, ...]:
    """A 0-d tensor as shape (1,), others as they are."""
    return _at_least(tensors, lambda s: s or (1,))


def atleast_2d(*tensors: Any) -> Tensor | tuple[Tensor, ...]:
    """0-d as (1, 1), (n,) as (1, n), others as they are."""
    return _at_least(tensors, lambda s: (1,) * (2 - len(s)) + s if len(s) < 2 else s)


def atleast_3d(*tensors: Any) -> Tensor | tuple[Tensor, ...]:
    """0-d as (1, 1, 1), (n,) as (1, n, 1), (m, n) as (m, n, 1), others as they are."""
    views = {0: lambda s: (1, 1, 1), 1: lambda s: (1, *s, 1), 2: lambda s: (*s, 1)}
    return _at_least(tensors, lambda s: views.get(len(s), lambda s: s)(s))


def _stacked(tensors: Sequence[Any], op: str) -> tuple[Tensor, ...]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{op} takes a non-empty list or tuple of Tensors, got {tensors!r:.60}")
    return tuple(_as_tensor(t) for t in tensors)


def hstack(tensors: Sequence[Any]) -> Tensor:
    """Tensors joined along dim 1 (dim 0 for 1-D ones), as torch.hstack."""
    parts = atleast_1d(_stacked(tensors, "hstack"))
    return shapes.cat(parts, 0 if parts[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """Tensors joined along dim 0, 1-D ones as rows, as torch.vstack."""
    return shapes.cat(atleast_2d(_stacked(tensors, "vstack")), 0)


def dstack(tensors: Sequence[Any]) -> Tensor:
    """Tensors joined along dim 2, after atleast_3d, as torch.dstack."""
    return shapes.cat(atleast_3d(_stacked(tensors, "dstack")), 2)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """0-d and 1-D tensors as columns, others as they are, joined along dim 1."""
    parts = _stacked(tensors, "column_stack")
    return shapes.cat([t.reshape(-1, 1) if t._data.ndim < 2 else t for t in parts], 1)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each entry repeated `repeats` times (an int, or one count per entry) along dim (of
    the flattened tensor when dim is None), as torch.repeat_interleave; a gradient entry
    sums the gradients of its copies. `repeat_interleave(counts)` repeats 0, 1, ... ."""
    input = _as_tensor(input)
    if repeats is None:  # torch.repeat_interleave(repeats): the indices, each repeated
        repeats, input = input, _leaf(np.arange(input._data.size))
    if dim is None or not input._data.ndim:
        input, dim = input.reshape(-1), 0 if dim is None else dim
    dim = shapes.dim_index(dim, input._data.ndim, "repeat_interleave")
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    n = input._data.shape[dim]
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or counts.size not in (1, n):
        raise ValueError(f"repeat_interleave: repeats must be an int or ints, one per entry of "
                         f"dim {dim} ({n}), got {counts!r:.60}")
    if (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must not be negative, got {counts!r:.60}")
    index = np.repeat(np.arange(n), counts.reshape(-1) if counts.size == n else int(counts))
    if output_size is not None and output_size != index.size:
        raise ValueError(f"repeat_interleave: output_size {output_size} does not match the "
                         f"{index.size} entries the repeats give")
    return shapes.index_select(input, dim, index)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product, as torch.kron: each entry of input times all of other, in
    blocks (both are read with as many dims as the larger has, ones in front)."""
    a, b = _as_tensor(input), _as_tensor(other)
    ndim = max(a._data.ndim, b._data.ndim)
    sa = (1,) * (ndim - a._data.ndim) + a._data.shape
    sb = (1,) * (ndim - b._data.ndim) + b._data.shape
    # a as (a0, 1, a1, 1, ...) times b as (1, b0, 1, b1, ...): the blocks, then merged pairwise
    blocks = a.reshape([d for n in sa for d in (n, 1)]) * b.reshape([d for n in sb for d in (1, n)])
    return blocks.reshape([x * y for x, y in zip(sa, sb)])


for _op in (diag, diagonal, trace, repeat_interleave, kron):
    setattr(Tensor, _op.__name__, _op)
__all__ = ["diag", "diagonal", "trace", "tril_indices", "triu_indices", "meshgrid",
           "broadcast_tensors", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack",
           "dstack", "column_stack", "repeat_interleave", "kron"]
