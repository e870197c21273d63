"""Tensors assembled from other tensors' entries, as PyTorch's: diag_embed, diagflat,
block_diag, cartesian_prod, combinations, vander (engine/construct.py holds diag, kron,
meshgrid and the rest).

Each is made of engine/shapes.py's ops (indexing, cat, reshape, flip) and cumprod, so none
has derivative code of its own: each entry's gradient goes back to the entry it came from.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from engine import construct, dtypes, reductions, shapes  # modules: they may be loading
from engine.tensor import Tensor, _as_tensor, _called, _cast_to, _leaf, _operands


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each last-dim vector of input put on a diagonal (offset > 0: above the main one) of
    the matrices spanned by the new dims dim1 and dim2 of the result, zeros elsewhere, as
    torch.diag_embed."""
    input = _as_tensor(input)
    x = input.reshape(1) if not input._data.ndim else input
    ndim = x._data.ndim + 1
    d1, d2 = (shapes.dim_index(d, ndim, "diag_embed") for d in (dim1, dim2))
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, both are {d1}")
    length = x._data.shape[-1]
    size = length + abs(offset)
    rows = np.arange(length) + max(-offset, 0)
    zeros = _leaf(np.zeros(x._data.shape[:-1] + (size, size), x._data.dtype))
    out = shapes._index_put(zeros, (Ellipsis, rows, rows + offset), x, accumulate=False)
    return _called(shapes.movedim(out, (-2, -1), (d1, d2)), "diag_embed")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The entries of input, flattened, on a diagonal of a square matrix of zeros, as
    torch.diagflat."""
    return diag_embed(_as_tensor(input).reshape(-1), offset)


def block_diag(*tensors: Any) -> Tensor:
    """The tensors (0-d as 1 x 1, 1-D as one row, 2-D as they are) as the blocks down the
    diagonal of a matrix of zeros, in their promoted dtype, as torch.block_diag."""
    if not tensors:
        return _leaf(np.zeros((1, 0), dtypes.get_default_dtype()))
    blocks = _operands("block_diag", *tensors) if len(tensors) > 1 else (_as_tensor(tensors[0]),)
    for k, block in enumerate(blocks):
        if block._data.ndim > 2:
            raise ValueError(f"block_diag takes tensors of at most 2 dims; tensor {k} has shape "
                             f"{block._data.shape}")
    blocks = [b.reshape((1,) * (2 - b._data.ndim) + b._data.shape) for b in blocks]
    dtype = blocks[0]._data.dtype
    widths = [b._data.shape[1] for b in blocks]
    total, rows, left = sum(widths), [], 0
    for block, width in zip(blocks, widths):
        height = block._data.shape[0]
        rows.append(shapes.cat([_leaf(np.zeros((height, left), dtype)), block,
                                _leaf(np.zeros((height, total - left - width), dtype))], 1))
        left += width
    return _called(shapes.cat(rows, 0), "block_diag")


def cartesian_prod(*tensors: Any) -> Tensor:
    """Every combination of one entry from each 1-D tensor, one per row, the last tensor
    varying fastest, as torch.cartesian_prod (one tensor: itself)."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise TypeError("cartesian_prod takes at least one tensor")
    for k, t in enumerate(tensors):
        if t._data.ndim != 1:
            raise ValueError(f"cartesian_prod takes 1-D tensors; tensor {k} has shape "
                             f"{t._data.shape}")
    if len({t._data.dtype for t in tensors}) > 1:
        raise TypeError(f"cartesian_prod takes tensors of one dtype, got "
                        f"{', '.join(str(t._data.dtype) for t in tensors)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = construct.meshgrid(*tensors, indexing="ij")
    return shapes.stack([g.reshape(-1) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Every choice of r entries of a 1-D tensor, one per row, in lexicographic order of
    their places, as torch.combinations (repeats allowed with `with_replacement`)."""
    input = _as_tensor(input)
    if input._data.ndim != 1:
        raise ValueError(f"combinations takes a 1-D tensor, got shape {input._data.shape}")
    if r < 0:
        raise ValueError(f"combinations: r must not be negative, got {r}")
    if r == 0:
        return _leaf(np.zeros(0, input._data.dtype))
    choose = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    picks = np.fromiter(itertools.chain.from_iterable(choose(range(input._data.size), r)),
                        np.int64).reshape(-1, r)
    return _called(input[picks], "stack")


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor: column j holds x ** (N - 1 - j) (x ** j when
    `increasing`), N columns (len(x) by default), as torch.vander: powers made by cumprod,
    ints and bools as int64."""
    x = _as_tensor(x)
    if x._data.ndim != 1:
        raise ValueError(f"vander takes a 1-D tensor, got shape {x._data.shape}")
    n = x._data.size if N is None else N
    if n < 0:
        raise ValueError(f"vander: N must not be negative, got {n}")
    dtype = x._data.dtype if x._data.dtype.kind == "f" else np.dtype(np.int64)
    ones = _leaf(np.ones((x._data.size, min(n, 1)), dtype))
    if n <= 1:
        return ones
    powers = reductions.cumprod(_cast_to(x, dtype).unsqueeze(1).expand(x._data.size, n - 1), 1)
    out = shapes.cat([ones, powers], 1)
    return out if increasing else _called(shapes.flip(out, 1), "flip")


_OPS = (diag_embed, diagflat, block_diag, cartesian_prod, combinations, vander)
for _op in (diag_embed, diagflat):  # (the others are functions only, in PyTorch too)
    setattr(Tensor, _op.__name__, _op)
__all__ = [op.__name__ for op in _OPS]
