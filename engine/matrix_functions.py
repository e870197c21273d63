"""Matrix functions made of matrix products: matrix_exp (torch.matrix_exp and
torch.linalg.matrix_exp) and torch.linalg.householder_product, so autograd differentiates
them through `@` with no rule of their own; and torch.geqrf, LAPACK's compact QR that
householder_product expands (not differentiable, as in PyTorch).

matrix_exp scales A by 2**-s until its 1-norm is at most 1, sums the Taylor series to the
dtype's precision (degree 10 for float32, 18 for float64: the remainder 1/(m+1)! is below
the dtype's epsilon) and squares s times. PyTorch picks among optimised polynomials by the
norm instead; both are accurate to the last few bits, so results agree to rounding. Its
gradient is the derivative of that polynomial, which is exp's to the same precision.
"""
from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np

from engine.tensor import Tensor, _as_tensor, _node

geqrf_result = namedtuple("geqrf", ["a", "tau"])
_TAYLOR_DEGREE = {np.dtype(np.float32): 10, np.dtype(np.float64): 18}


def _float_matrices(op: str, A: Any) -> Tensor:
    """A as a Tensor of float32/float64 matrices (..., m, n), else PyTorch's RuntimeError."""
    A = _as_tensor(A)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions (a matrix or a batch "
                           f"of them); got shape {tuple(A.shape)}")
    if A.dtype not in _TAYLOR_DEGREE:
        raise RuntimeError(f"{op}: expects a float32 or float64 tensor, got {A.dtype}; convert "
                           "it first (.float() or .double())")
    return A


def matrix_exp(A: Tensor) -> Tensor:
    """e^A = sum A^k / k! of each square matrix in A's last two dims, as torch.matrix_exp."""
    A = _float_matrices("linalg.matrix_exp", A)
    n = A.shape[-1]
    if A.shape[-2] != n:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but they "
                           f"are {A.shape[-2]} by {n} matrices")
    norm = float(np.abs(A._data).sum(-2).max(initial=0.0))
    squarings = max(0, math.ceil(math.log2(norm))) if math.isfinite(norm) and norm > 1 else 0
    X = A * (0.5 ** squarings)
    identity = np.eye(n, dtype=A.dtype)
    E = Tensor(identity)
    for k in range(_TAYLOR_DEGREE[A._data.dtype], 0, -1):  # Horner: I + X/1 (I + X/2 (...))
        E = identity + (X @ E) * (1.0 / k)
    for _ in range(squarings):
        E = E @ E
    return E


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T with v_i column i
    of A below the diagonal and 1 on it, as torch.linalg.householder_product (A m by n,
    m >= n >= k, tau's batch dims A's)."""
    op = "torch.linalg.householder_product"
    A = _float_matrices(op, A)
    tau = _as_tensor(tau)
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1]; got {m} by {n} matrices")
    if tau.ndim != A.ndim - 1 or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")
    k = tau.shape[-1]
    if n < k:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to "
                           f"tau.shape[-1]; got {n} and {k}")
    columns = np.eye(m, n, dtype=A.dtype)
    V = A.tril(-1) + columns  # the reflectors' vectors, unit on the diagonal
    Q = Tensor(np.broadcast_to(columns, A.shape).copy())
    for i in reversed(range(k)):  # H_1 (H_2 (... (H_k E))): the last reflector acts first
        v = V[..., :, i:i + 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.mT @ Q)
    return Q


def geqrf(input: Tensor) -> geqrf_result:
    """(a, tau): LAPACK's compact QR of each matrix, as torch.geqrf: R on and above a's
    diagonal, the Householder vectors below it, their scales in tau; householder_product(a,
    tau) is Q. Differentiating it raises NotImplementedError, as in PyTorch."""
    A = _float_matrices("torch.geqrf", input)
    h, tau = np.linalg.qr(A._data, mode="raw")  # h holds a transposed, as LAPACK's Fortran order

    def no_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")
    return geqrf_result(_node(np.ascontiguousarray(h.swapaxes(-1, -2)), "geqrf", no_rule, A),
                        _node(np.ascontiguousarray(tau), "geqrf", no_rule, A))
