"""PyTorch's other spellings of engine.linalg's ops: its top-level functions (torch.det,
torch.logdet, torch.slogdet, torch.inverse, torch.pinverse, torch.matrix_power,
torch.cholesky_solve, and torch.cross with its own default dim) and the Tensor methods
(t.det(), t.inverse(), ...), each made of engine.linalg's ops.

engine.linalg is imported when one is called, not before: so engine/tensor.py can import
this file among its ops without a cycle through the linalg modules.
"""
from __future__ import annotations

import warnings

import numpy as np

from engine.tensor import Tensor, _as_tensor, _called


def det(input: Tensor) -> Tensor:
    """The determinant of each matrix, as torch.det (linalg.det)."""
    from engine import linalg
    return linalg.det(input)


def slogdet(input: Tensor) -> tuple:
    """(sign, logabsdet) of each matrix, as torch.slogdet (linalg.slogdet)."""
    from engine import linalg
    return linalg.slogdet(input)


def logdet(input: Tensor) -> Tensor:
    """ln det of each matrix, as torch.logdet: nan where the determinant is negative, -inf
    where it is 0."""
    from engine import elementwise, linalg
    sign, logabsdet = linalg.slogdet(input)
    return elementwise.where(sign._data == -1, np.nan, logabsdet)


def inverse(input: Tensor) -> Tensor:
    """The inverse of each matrix, as torch.inverse (linalg.inv)."""
    from engine import linalg
    return linalg.inv(input)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, as torch.pinverse: singular values below rcond times the largest
    count as 0."""
    from engine import linalg
    return linalg.pinv(input, rtol=rcond)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """input multiplied by itself n times, as torch.matrix_power (linalg.matrix_power)."""
    from engine import linalg
    return linalg.matrix_power(input, n)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product along dim, as torch.cross, whose default dim (deprecated there, with
    a warning) is the first dim of length 3 rather than linalg.cross's last one."""
    from engine import linalg
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated; pass "
                      "dim or use linalg.cross (whose default is the last dim)",
                      UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(_as_tensor(input).shape, _as_tensor(other).shape)
        dim = next((d for d, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dim of length 3 in the inputs' shape {shape}; pass "
                             "dim")
    return linalg.cross(input, other, dim=dim)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """X with A X = B, given A's Cholesky factor L (A = L L^T from L's lower triangle, or
    U^T U from its upper one when `upper`), as torch.cholesky_solve: two solves."""
    from engine import linalg
    L = linalg.matrices("cholesky_solve", L)
    low = L.triu().mT if upper else L.tril()
    return _called(linalg.solve(low.mT, linalg.solve(low, B)), "cholesky_solve")


Tensor.det, Tensor.logdet, Tensor.slogdet, Tensor.inverse = det, logdet, slogdet, inverse
Tensor.pinverse, Tensor.matrix_power, Tensor.cross = pinverse, matrix_power, cross
Tensor.cholesky_solve = cholesky_solve
__all__ = ["det", "logdet", "slogdet", "inverse", "pinverse", "matrix_power", "cross",
           "cholesky_solve"]
