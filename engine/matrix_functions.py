"""Matrix functions made of matrix products: matrix_exp (torch.matrix_exp and
torch.linalg.matrix_exp) and torch.linalg.householder_product, so autograd differentiates
them through `@` with no rule of their own; and torch.geqrf, LAPACK's compact QR that
householder_product expands (differentiable here through its Householder steps, where
PyTorch's is not).

matrix_exp scales A by 2**-s until its 1-norm is at most 1, sums the Taylor series to the
dtype's precision (degree 10 for float32, 18 for float64: the remainder 1/(m+1)! is below
the dtype's epsilon) and squares s times. PyTorch picks among optimised polynomials by the
norm instead; both are accurate to the last few bits, so results agree to rounding. Its
gradient is the derivative of that polynomial, which is exp's to the same precision.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from engine.elementwise import where
from engine.shapes import cat, stack
from engine.tensor import Tensor, _as_tensor, _recording

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
    # scaled by 2**-s to a norm of at most 1, each matrix by its own s (a large or non-finite
    # neighbour in the batch must not cost the others accuracy), then squared s times
    norms = np.abs(A._data).sum(-2).max(-1, initial=0.0)
    large = np.isfinite(norms) & (norms > 1)
    squarings = np.where(large, np.ceil(np.log2(np.where(large, norms, 1.0))), 0).astype(int)
    X = A * Tensor((0.5 ** squarings)[..., None, None].astype(A._data.dtype))
    identity = np.eye(n, dtype=A.dtype)
    E = Tensor(identity)
    for k in range(_TAYLOR_DEGREE[A._data.dtype], 0, -1):  # Horner: I + X/1 (I + X/2 (...))
        E = identity + (X @ E) * (1.0 / k)
    for i in range(int(squarings.max(initial=0))):
        E = where((squarings > i)[..., None, None], E @ E, E)
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
    tau) is Q. Differentiable, unlike PyTorch's: in the graph it is LAPACK's Householder
    steps in differentiable ops (_householder_steps), so autograd needs no rule of its own."""
    A = _float_matrices("torch.geqrf", input)
    if A.requires_grad and _recording():
        return geqrf_result(*_householder_steps(A))
    h, tau = np.linalg.qr(A._data, mode="raw")  # h holds a transposed, as LAPACK's Fortran order
    return geqrf_result(Tensor(np.ascontiguousarray(h.swapaxes(-1, -2))),
                        Tensor(np.ascontiguousarray(tau)))


def _householder_steps(A: Tensor) -> tuple[Tensor, Tensor]:
    """geqrf as LAPACK's unblocked dgeqr2: column i's entries from the diagonal down, alpha
    and x below, become beta = -sign(alpha) |(alpha, x)| and v = x / (alpha - beta) with
    tau = (beta - alpha) / beta (dlarfg; tau = 0 and nothing changes where x is 0), and
    H = I - tau (1, v)(1, v)^T is applied to the columns right of it. Each step's matrix is
    assembled anew (cat), not written in place; the work is LAPACK's, O(m n^2)."""
    m, n = A.shape[-2:]
    a, taus = A, []
    for i in range(min(m, n)):
        alpha, x = a[..., i, i], a[..., i + 1:, i]
        squares = (x * x).sum(-1)
        still = Tensor(squares._data == 0)  # x = 0: H is I (and safe numbers keep nan out)
        sign = Tensor(np.where(alpha._data >= 0, 1.0, -1.0).astype(A._data.dtype))
        beta = where(still, alpha, -sign * (alpha * alpha + squares + still.to(A.dtype)).sqrt())
        taus.append(where(still, 0.0, (beta - alpha) / where(still, 1.0, beta)))
        v = x / where(still, 1.0, alpha - beta).unsqueeze(-1)
        column = cat([beta.unsqueeze(-1), v], -1)  # rows i.. of column i: beta, then v
        unit = cat([Tensor(np.ones(alpha.shape + (1,), A._data.dtype)), v], -1)
        rest = a[..., i:, i + 1:]
        rest = rest - (taus[-1].unsqueeze(-1) * unit).unsqueeze(-1) * (
            unit.unsqueeze(-2) @ rest)
        a = cat([a[..., :i, :], cat([a[..., i:, :i], column.unsqueeze(-1), rest], -1)], -2)
    return a, stack(taus, -1) if taus else Tensor(np.zeros(A.shape[:-2] + (0,), A._data.dtype))
