"""torch.linalg as engine.linalg (`import engine as torch` finds it as torch.linalg): norms,
determinants, inverses and linear systems, decompositions and products, each over any
leading batch dims and differentiable, with PyTorch's signatures, results and gradients.

This file holds the namespace and the ops made of others, so they need no derivative code
of their own: the norms (vector_norm is torch.norm's code in engine/reductions.py;
matrix_norm is sums, maxima and singular values), matrix_power, multi_dot, cross and
vecdot. The primitives, each with its rule, are in engine/linalg_solvers.py (det, slogdet,
inv, solve, cholesky, and inv_ex and cholesky_ex made of them) and engine/linalg_spectral.py (qr, eigh, svd and what is made of
them, pinv, matrix_rank); matrix_exp and householder_product, made of products, are in
engine/matrix_functions.py; PyTorch's top-level spellings of them (torch.det, torch.cross,
...) and the Tensor methods are in engine/linalg_functions.py.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

from engine import arithmetic, construct, elementwise, reductions, shapes
from engine.linalg_solvers import (LinAlgError, cholesky, cholesky_ex, det, floats, inv, inv_ex,
                                   matrices, slogdet, solve)
from engine.linalg_spectral import eigh, eigvalsh, matrix_rank, pinv, qr, svd, svdvals
from engine.matrix_functions import householder_product, matrix_exp
from engine.tensor import Tensor, _as_tensor, _called


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product, as torch.linalg.matmul (torch.matmul by another name)."""
    return arithmetic.matmul(input, other)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of a batch of matrices, as torch.linalg.diagonal (torch.diagonal with
    the last two dims as its defaults)."""
    return construct.diagonal(_as_tensor(A), offset, dim1, dim2)


# --- norms ---

def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The ord-norm of x's entries along dim (all of them by default), as
    torch.linalg.vector_norm: inf and -inf the largest and smallest |x|, 0 the count of
    nonzeros, any other p (sum |x|**p)**(1/p). torch.norm computes it (engine/reductions.py),
    with PyTorch's gradients where they are a convention: 0 where the norm is 0, and the
    largest |x| sharing g when it is tied."""
    x = _as_tensor(x)
    if isinstance(ord, (str, bool)) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}; for the "
                        "Frobenius and nuclear norms use linalg.matrix_norm")
    floats("vector_norm", x._data.dtype if dtype is None else np.dtype(dtype))
    axis, _ = reductions._dims("linalg.vector_norm", x.ndim, dim, keepdim, None, None)
    if (ord < 0 or math.isinf(ord)) and reductions.empty_along(x._data.shape, axis):
        raise ValueError(f"linalg.vector_norm: the {ord} norm over a dim with no entries is "
                         f"not defined (its maximum or minimum has no identity; shape "
                         f"{x._data.shape})")
    with np.errstate(divide="ignore"):  # (a negative ord of a 0: inf, and a norm of 0)
        return _called(reductions.norm(x, ord, dim, keepdim, dtype=dtype), "norm")


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Sequence[int] = (-2, -1),
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The ord-norm of each matrix in the dims `dim`, as torch.linalg.matrix_norm: 'fro' the
    root of the sum of squares, 'nuc' the sum of the singular values, 2 and -2 the largest
    and smallest, 1 and -1 the largest and smallest column sum of |A|, inf and -inf the
    largest and smallest row sum."""
    A = _as_tensor(A)
    if A.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: A must have at least 2 dims, got shape "
                         f"{tuple(A.shape)}")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must be a pair of dims, got {dim!r}")
    rows, cols = (shapes.dim_index(d, A.ndim, "linalg.matrix_norm") for d in dim)
    if rows == cols:
        raise ValueError(f"linalg.matrix_norm: the two dims must differ, got {tuple(dim)}")
    floats("matrix_norm", A._data.dtype if dtype is None else np.dtype(dtype))
    A = A if dtype is None else A._cast(dtype)
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        values = svdvals(shapes.movedim(A, (rows, cols), (-2, -1)))
        out = (values.sum(-1) if ord == "nuc" else
               reductions.amax(values, -1) if ord == 2 else reductions.amin(values, -1))
        if keepdim:  # (PyTorch's last op there is a permute)
            out = _called(out.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols)), "permute")
        return out
    if ord in (1, -1, math.inf, -math.inf):
        first, then = (cols, rows) if math.isinf(ord) else (rows, cols)
        if not keepdim and first < then:  # (the first sum took a dim before it)
            then -= 1
        sums = vector_norm(A, 1, first, keepdim)
        return (reductions.amax if ord > 0 else reductions.amin)(sums, then, keepdim)
    raise ValueError(f"linalg.matrix_norm: ord={ord!r} is not one of 'fro', 'nuc', inf, "
                     "-inf, 1, -1, 2, -2")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """A vector or matrix norm, as torch.linalg.norm: a matrix norm when ord is given and
    dim names two dims (or A is 2-D and dim is None), or ord is a string; else the vector
    norm of ord (2 by default) along dim, of all entries when dim is None."""
    A = _as_tensor(A)
    dims = (dim,) if isinstance(dim, (int, np.integer)) else dim
    if dims is not None and len(dims) not in (1, 2):
        raise ValueError(f"linalg.norm: dim must name 1 or 2 dims, got {dim!r}")
    if dims is None and ord is not None and A.ndim not in (1, 2):
        raise ValueError(f"linalg.norm: with ord given and dim None, A must be 1-D or 2-D; "
                         f"got {A.ndim} dims (pass dim)")
    if isinstance(ord, str) or ord is not None and (
            len(dims) == 2 if dims is not None else A.ndim == 2):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


# --- products ---

def matrix_power(A: Tensor, n: int) -> Tensor:
    """A multiplied by itself n times (the identity for n = 0, powers of inv(A) for n < 0),
    as torch.linalg.matrix_power, with PyTorch's order of products."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__} {n!r}")
    A = matrices("matrix_power", A, floating=n < 0)
    if n == 0:  # the identity, still in A's graph (its gradient 0), as PyTorch's
        identity = np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape)
        return elementwise.where(np.zeros(A.shape, bool), A, identity)
    if n < 0:
        A, n = inv(A), -n
        if n == 1:
            return A
    if n == 1:
        return A.clone()
    if n in (2, 3):
        return A @ A if n == 2 else (A @ A) @ A
    result = power = None
    while n:  # by the bits of n from the lowest: a square for each, a product for each 1
        n, bit = divmod(n, 2)
        power = A if power is None else power @ power
        if bit:
            result = power if result is None else result @ power
    return result


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices in the order that multiplies fewest numbers, as
    torch.linalg.multi_dot; the first may be a 1-D row and the last a 1-D column."""
    tensors = [_as_tensor(t) for t in tensors]
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    for k, t in enumerate(tensors):
        end = k in (0, len(tensors) - 1)
        if t.ndim != 2 and not (end and t.ndim == 1):
            which = "the first" if k == 0 else "the last" if end else f"tensor {k}"
            raise ValueError(f"linalg.multi_dot: {which} must be "
                             f"{'1-D or 2-D' if end else '2-D'}, got {t.ndim}-D")
    first, last = tensors[0].ndim == 1, tensors[-1].ndim == 1
    chain = [t.unsqueeze(0) if k == 0 and first else t.unsqueeze(1) if t.ndim == 1 else t
             for k, t in enumerate(tensors)]
    for k in range(len(chain) - 1):
        if chain[k].shape[1] != chain[k + 1].shape[0]:
            raise ValueError(f"linalg.multi_dot: tensors {k} and {k + 1} of shapes "
                             f"{tuple(tensors[k].shape)} and {tuple(tensors[k + 1].shape)} "
                             "cannot be multiplied")
    out = _chain_product(chain)
    kept = [size for size, drop in ((out.shape[0], first), (out.shape[1], last)) if not drop]
    return _called(out.reshape(tuple(kept)), "view")


def _chain_product(chain: list) -> Tensor:
    """The product of the matrices, parenthesised by the classic dynamic programme over the
    chain (a loop over matrices, not entries)."""
    sizes = [chain[0].shape[0]] + [t.shape[1] for t in chain]
    count = len(chain)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                for k in range(i, j))

    def product(i: int, j: int) -> Tensor:
        return chain[i] if i == j else product(i, split[i][j]) @ product(split[i][j] + 1, j)
    return product(0, count - 1)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along dim, as torch.linalg.cross (the two broadcast):
    a x b = roll(a, -1) roll(b, -2) - roll(a, -2) roll(b, -1) along dim."""
    a, b = _as_tensor(input), _as_tensor(other)
    if a.ndim != b.ndim:
        raise ValueError(f"linalg.cross: the inputs must have the same number of dims, got "
                         f"shapes {tuple(a.shape)} and {tuple(b.shape)} (unsqueeze one)")
    d = shapes.dim_index(dim, max(a.ndim, 1), "linalg.cross")
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise ValueError(f"linalg.cross: dim {dim} must have length 3 in both inputs, got "
                         f"shapes {tuple(a.shape)} and {tuple(b.shape)}")
    out = a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)
    return _called(out, "linalg_cross")


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot products of the vectors along dim, as torch.linalg.vecdot (the two
    broadcast): (x * y).sum(dim)."""
    x, y = _as_tensor(x), _as_tensor(y)
    out = (x * y).sum(dim)
    return _called(out, "vdot") if x.ndim == y.ndim == 1 else out


__all__ = ["LinAlgError", "vector_norm", "matrix_norm", "norm", "det", "slogdet", "inv",
           "inv_ex", "solve", "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv",
           "matrix_rank", "matrix_power", "multi_dot", "cross", "vecdot", "matmul",
           "diagonal", "matrix_exp", "householder_product"]
