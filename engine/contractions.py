"""More products and distances by PyTorch's names (engine/products.py holds mm, einsum and
the rest): tensordot, inner, chain_matmul, and cdist, the distances between two sets of
points.

tensordot and inner are a permute, a reshape and one matrix product; chain_matmul is
linalg.multi_dot. cdist is the p-norm of the pairwise differences (norm's rule: 0 at a
zero distance, as PyTorch's), or for p = 2 between many points PyTorch's matrix-product
form, which needs no (P, R, M) array of differences; its one rule of its own is p = inf,
where PyTorch gives every tied coordinate all of the gradient.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from engine import elementwise, reductions, shapes  # modules: they may still be loading
from engine.tensor import Tensor, _as_tensor, _called, _leaf, _node, _operands, _raw, _where

_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")


def _contracted_dims(a: Tensor, b: Tensor, dims: Any) -> tuple[list[int], list[int]]:
    """tensordot's dims as two lists of dims of a and b: an int n (a's last n with b's
    first n), a pair of ints or of lists, or a tensor of either form."""
    if isinstance(dims, Tensor):
        dims = dims._data.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if dims < 0:
            raise ValueError(f"tensordot expects dims >= 0, got {dims}")
        if dims > min(a._data.ndim, b._data.ndim):
            raise ValueError(f"tensordot: dims={dims} is more than the dims of a "
                             f"({a._data.ndim}) or b ({b._data.ndim})")
        return list(range(a._data.ndim - dims, a._data.ndim)), list(range(dims))
    if not isinstance(dims, (list, tuple)) or len(dims) != 2:
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got "
                        f"{dims!r:.60}")
    first, second = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    if len(first) != len(second):
        raise ValueError(f"tensordot: both lists of dims must be of one length, got {first} and "
                         f"{second}")
    return ([shapes.dim_index(d, a._data.ndim, "tensordot") for d in first],
            [shapes.dim_index(d, b._data.ndim, "tensordot") for d in second])


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """The sums of products of a and b over the dims `dims` pairs up, as torch.tensordot:
    the result has a's other dims, then b's."""
    a, b = _operands("tensordot", a, b)
    dims_a, dims_b = _contracted_dims(a, b, dims)
    for da, db in zip(dims_a, dims_b):
        if a._data.shape[da] != b._data.shape[db]:
            raise ValueError(f"tensordot: contracted dims must match, but a has size "
                             f"{a._data.shape[da]} in dim {da} and b has size "
                             f"{b._data.shape[db]} in dim {db}")
    free_a = [d for d in range(a._data.ndim) if d not in dims_a]
    free_b = [d for d in range(b._data.ndim) if d not in dims_b]
    size = math.prod(a._data.shape[d] for d in dims_a)
    left = shapes.permute(a, free_a + dims_a).reshape(-1, size)
    right = shapes.permute(b, dims_b + free_b).reshape(size, -1)
    return (left @ right).reshape([a._data.shape[d] for d in free_a] +
                                  [b._data.shape[d] for d in free_b])


def inner(input: Tensor, other: Tensor) -> Tensor:
    """The sums of products over the last dims of the two, as torch.inner (a 0-d operand
    multiplies)."""
    a, b = _operands("inner", input, other)
    if not a._data.ndim or not b._data.ndim:
        return a * b
    if a._data.shape[-1] != b._data.shape[-1]:
        raise ValueError(f"inner: the last dims must match, got shapes {a._data.shape} and "
                         f"{b._data.shape}")
    return tensordot(a, b, ([-1], [-1]))


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of the matrices, in the cheapest order, as torch.chain_matmul, which
    PyTorch deprecates (with a warning, here too) for linalg.multi_dot."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise ValueError("chain_matmul: expected one or more matrices, got none")
    matrices = tuple(_as_tensor(m) for m in matrices)
    for k, m in enumerate(matrices):
        if m._data.ndim != 2:
            raise ValueError(f"chain_matmul takes 2-D matrices; matrix {k} has shape "
                             f"{m._data.shape}")
    if len(matrices) == 1:
        return matrices[0].clone()
    from engine import linalg  # (loaded on first use, as `engine.linalg` is)
    return linalg.multi_dot(list(matrices))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row vector of x1 (..., P, M) and each of x2
    (..., R, M), shape (..., P, R) with the batch dims broadcast, as torch.cdist. For p = 2
    between more than 25 points (or with compute_mode 'use_mm_for_euclid_dist'), PyTorch's
    matrix-product form sqrt(|a|**2 + |b|**2 - 2 a.b), clamped at 0 before the root.
    The gradient is 0 at a zero distance (and, for p < 1, along coordinates that agree)."""
    a, b = _operands("cdist", x1, x2)
    if a._data.ndim < 2 or b._data.ndim < 2:
        raise ValueError(f"cdist takes tensors of at least 2 dims, got shapes {a._data.shape} "
                         f"and {b._data.shape}")
    if a._data.dtype.kind != "f":
        raise TypeError(f"cdist takes float tensors, got {a._data.dtype}")
    if a._data.shape[-1] != b._data.shape[-1]:
        raise ValueError(f"cdist: x1 and x2 must have the same number of columns, got shapes "
                         f"{a._data.shape} and {b._data.shape}")
    if not p >= 0:
        raise ValueError(f"cdist takes p >= 0, got {p}")
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {', '.join(_COMPUTE_MODES)}, "
                         f"got {compute_mode!r}")
    many = a._data.shape[-2] > 25 or b._data.shape[-2] > 25
    if p == 2 and (compute_mode == _COMPUTE_MODES[1] or (compute_mode == _COMPUTE_MODES[0]
                                                          and many)):
        return _called(_euclidean(a, b), "view")
    differences = a.unsqueeze(-2) - b.unsqueeze(-3)
    if p == math.inf:
        return _largest_magnitude(differences)
    return _called(reductions.norm(differences, p, -1), "cdist")


def _euclidean(a: Tensor, b: Tensor) -> Tensor:
    """PyTorch's _euclidean_dist: the root of the matrix product of [-2a, |a|**2, 1] and
    [b, 1, |b|**2], clamped at 0; the gradient is 0 where that is 0."""
    a_norm = (a * a).sum(-1, keepdim=True)
    b_norm = (b * b).sum(-1, keepdim=True)
    a_pad = _leaf(np.ones(a_norm._data.shape, a._data.dtype))
    b_pad = _leaf(np.ones(b_norm._data.shape, b._data.dtype))
    left = shapes.cat([a * -2, a_norm, a_pad], -1)
    right = shapes.cat([b, b_pad, b_norm], -1)
    squared = (left @ right.mT).clamp_min(0)
    return elementwise.root_or_zero(squared)


def _largest_magnitude(input: Tensor) -> Tensor:
    """max |a| along the last dim (cdist's p = inf); da = g sign(a) where |a| == t (every
    tie gets all of g, as PyTorch's cdist gives)."""
    axis, keepdims = -1, False
    data = np.abs(input._data).max(axis=axis, initial=0)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        top = np.expand_dims(_raw(out), axis) if not keepdims else _raw(out)
        hit = np.abs(_raw(a)) == top
        spread = g.unsqueeze(axis) if isinstance(g, Tensor) else np.expand_dims(g, axis)
        return (_where(hit, spread * np.sign(_raw(a)), 0),)
    return _node(data.astype(input._data.dtype, copy=False), "cdist", rule, input)


_OPS = (tensordot, inner, chain_matmul, cdist)
Tensor.inner = inner  # (the others are functions only, in PyTorch too)
__all__ = [op.__name__ for op in _OPS]
