"""torch.linalg's determinants and linear systems: det, slogdet, inv, solve and cholesky,
and inv_ex and cholesky_ex, which report a failure in `info` rather than raise
(engine.linalg gathers them with the rest), and what every linalg op shares: LinAlgError,
the checks of its input, and the matrix helpers its rules use on arrays and Tensors alike.

numpy.linalg computes the values, over any leading batch dims, and float32 stays float32.
Each op is a primitive with its rule right below it; the rules are written with @,
transposes (swapaxes), triangles and these ops themselves (solve, inv), so that under
create_graph=True the gradient they return is a graph again.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable

import numpy as np

from engine.tensor import Tensor, _as_tensor, _called, _leaf, _node, _raw, _where, _zeros

linalg_slogdet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
linalg_inv_ex = namedtuple("linalg_inv_ex", ["inverse", "info"])
linalg_cholesky_ex = namedtuple("linalg_cholesky_ex", ["L", "info"])


class LinAlgError(RuntimeError):
    """A matrix the operation cannot take: singular for inv and solve, not positive-definite
    for cholesky; a RuntimeError, as torch.linalg.LinAlgError."""


# --- the checks every op makes of its input ---

def matrices(op: str, A: Any, square: bool = True, floating: bool = True) -> Tensor:
    """A as a Tensor of matrices (..., m, n), square if `square`, in float32 or float64
    if `floating`; else a ValueError or TypeError that says what to change."""
    A = _as_tensor(A)
    shape = A._data.shape
    if len(shape) < 2:
        raise ValueError(f"linalg.{op}: A must have at least 2 dims (a matrix, or a batch of "
                         f"them in its leading dims); got shape {shape}")
    if square and shape[-1] != shape[-2]:
        raise ValueError(f"linalg.{op}: A must hold square matrices, but its last two dims "
                         f"make {shape[-2]} by {shape[-1]} matrices (shape {shape})")
    if floating:
        floats(op, A._data.dtype)
    return A


def floats(op: str, dtype: np.dtype) -> None:
    """A TypeError unless dtype is one numpy.linalg computes in: float32 or float64."""
    if dtype.kind != "f":
        raise TypeError(f"linalg.{op}: expects a floating-point tensor, got {dtype}; "
                        "convert it first (.double() or .float())")
    if dtype.itemsize < 4:
        raise TypeError(f"linalg.{op}: {dtype} is not supported (numpy.linalg computes in "
                        "float32 and float64); convert it with .float() first")


def lapack(op: str, fn: Callable, A: np.ndarray, *more: np.ndarray) -> np.ndarray:
    """fn(A, *more), with numpy's LinAlgError turned into ours, which names the matrix of
    the batch that failed and why."""
    try:
        return fn(A, *more)
    except np.linalg.LinAlgError:
        raise LinAlgError(_failure(op, A)) from None


def _failure(op: str, A: np.ndarray) -> str:
    """What was wrong with which matrix of A, in PyTorch's words (searched matrix by matrix:
    only an error gets here)."""
    test = np.linalg.cholesky if op == "cholesky" else np.linalg.inv
    for k, index in enumerate(np.ndindex(A.shape[:-2])):
        try:
            test(A[index])
        except np.linalg.LinAlgError:
            where = f" (batch element {k}):" if A.ndim > 2 else ":"
            break
    else:
        return f"linalg.{op}: numpy.linalg could not compute it"
    if op != "cholesky":
        return (f"linalg.{op}{where} the matrix is singular (a zero pivot in its LU "
                "factorization), so " + ("it has no inverse; linalg.pinv(A) is the nearest "
                "thing" if op == "inv" else "AX = B has no unique solution; linalg.pinv(A) "
                "@ B gives the least-squares one"))
    order = next(k for k in range(1, A.shape[-1] + 1)
                 if not _factors(A[index][:k, :k]))
    return (f"linalg.cholesky{where} the matrix is not positive-definite (its leading minor "
            f"of order {order} is not), so it has no Cholesky factor")


def _factors(a: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return False
    return True


# --- what rules use besides operators: numpy's function for arrays, the engine's op for
# Tensors (a rule under create_graph) ---

def mT(x: Any) -> Any:
    """The last two dims swapped: each matrix of a batch transposed."""
    return x.swapaxes(-1, -2)


def tril(x: Any, k: int = 0) -> Any:
    return x.tril(k) if isinstance(x, Tensor) else np.tril(x, k)


def triu(x: Any, k: int = 0) -> Any:
    return x.triu(k) if isinstance(x, Tensor) else np.triu(x, k)


def eye(n: int, like: Any) -> np.ndarray:
    """The n by n identity in like's dtype (a constant, for arrays and Tensors alike)."""
    return np.eye(n, dtype=_raw(like).dtype)


def inverse_of(a: Any) -> Any:
    """a^-1: numpy's for an array, the op for a Tensor."""
    return inv(a) if isinstance(a, Tensor) else lapack("inv", np.linalg.inv, a)


def solve_for(a: Any, b: Any) -> Any:
    """a^-1 b for matrices b, their batch dims broadcast."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _solved(_as_tensor(a), _as_tensor(b), False)
    return np.linalg.solve(a, b)


# --- the ops ---

def det(A: Tensor) -> Tensor:
    """The determinant of each matrix, as torch.linalg.det; dA = g det(A) A^-T, the matrix
    of cofactors, which a singular matrix has too."""
    A = matrices("det", A)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g[..., None, None] * _cofactors(a, out),)
    return _node(np.asarray(np.linalg.det(A._data)), "det", rule, A)


def _cofactors(a: Any, d: Any) -> Any:
    """det(a) a^-T by a's inverse; where det(a) is 0, from a = U diag(s) Vh: det(U) det(Vh)
    U diag(the product of the other singular values) Vh, which needs no inverse."""
    singular = _raw(d) == 0
    if not singular.any():
        return d[..., None, None] * mT(inverse_of(a))
    if isinstance(a, Tensor):  # a graph of the gradient: the SVD form for every matrix
        return _svd_cofactors(a)
    cofactors = np.empty_like(a)
    fine = ~singular
    if fine.any():
        cofactors[fine] = d[fine][..., None, None] * mT(np.linalg.inv(a[fine]))
    cofactors[singular] = _svd_cofactors(a[singular])
    return cofactors


def _svd_cofactors(a: Any) -> Any:
    """det(a) a^-T from the SVD, at any matrix (see _cofactors)."""
    from engine.linalg_spectral import svd_of  # (spectral imports this module)
    u, s, vh = svd_of(a)
    others = _where(np.eye(s.shape[-1], dtype=bool), 1, s[..., None, :]).prod(-1)
    sign = _det_of(u) * _det_of(vh)
    return sign[..., None, None] * ((u * others[..., None, :]) @ vh)


def _det_of(x: Any) -> Any:
    return det(x) if isinstance(x, Tensor) else np.linalg.det(x)


def slogdet(A: Tensor) -> linalg_slogdet:
    """(sign, logabsdet): the sign of each determinant (0 for a singular matrix) and the
    log of its absolute value, as torch.linalg.slogdet; dA = g A^-T (from logabsdet: the
    sign passes none)."""
    A = matrices("slogdet", A)
    sign, logabsdet = np.linalg.slogdet(A._data)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (g[..., None, None] * mT(_inverse_or_nan(a)),)
    return linalg_slogdet(_flat(np.asarray(sign), "slogdet", A),
                          _node(np.asarray(logabsdet), "slogdet", rule, A))


def _inverse_or_nan(a: Any) -> Any:
    """a^-1, with nan for each matrix that has none, as PyTorch's slogdet gradient gives there
    (one singular matrix must not stop the gradients of the rest of the batch)."""
    if isinstance(a, Tensor):
        return inverse_of(a)
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:  # then matrix by matrix (a loop over matrices, not entries)
        flat = a.reshape(-1, *a.shape[-2:])
        out = np.full_like(flat, np.nan)
        for k, matrix in enumerate(flat):
            try:
                out[k] = np.linalg.inv(matrix)
            except np.linalg.LinAlgError:
                pass
        return out.reshape(a.shape)


def _flat(data: np.ndarray, op: str, A: Tensor) -> Tensor:
    """An output of op that is constant wherever it is defined (slogdet's sign), in the
    graph as PyTorch's is; dA = 0."""
    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (_zeros(g, a),)
    return _node(data, op, rule, A)


def inv(A: Tensor) -> Tensor:
    """The inverse of each matrix, as torch.linalg.inv (a LinAlgError for a singular one);
    dA = -A^-T g A^-T."""
    A = matrices("inv", A)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        t = mT(out)
        return (-(t @ g @ t),)
    return _node(lapack("inv", np.linalg.inv, A._data), "inv", rule, A)


def solve(A: Tensor, B: Any, *, left: bool = True) -> Tensor:
    """X with A X = B, as torch.linalg.solve (X A = B when left=False): B a matrix (..., n,
    k), or a vector, of shape (n,) or A.shape[:-1]; batch dims broadcast. A LinAlgError when
    A is singular."""
    A = matrices("solve", A)
    B = B if isinstance(B, Tensor) else Tensor(B, dtype=A._data.dtype)
    if B._data.dtype != A._data.dtype:
        raise TypeError(f"linalg.solve: A and B must have one dtype, got {A._data.dtype} and "
                        f"{B._data.dtype}; convert one (B.to(A.dtype))")
    a, b = A._data.shape, B._data.shape
    vector = len(b) == 1 or (len(b) == len(a) - 1 and b == a[:-1])
    equation = "AX = B" if left else "XA = B"
    if vector and not left:
        raise ValueError("linalg.solve: with left=False, B must hold matrices (..., k, n), "
                         f"got the vector shape {b}; for x A = b solve A^T x = b")
    if not b or b[-1 if vector or not left else -2] != a[-1]:
        side = "last dim" if vector or not left else "second-to-last dim"
        raise ValueError(f"linalg.solve: A of shape {a} and B of shape {b} do not fit "
                         f"{equation}: A's matrices are {a[-1]} by {a[-1]}, so B's {side} "
                         f"must be {a[-1]}")
    try:
        np.broadcast_shapes(a[:-2], b[:-1 if vector else -2])
    except ValueError:
        raise ValueError(f"linalg.solve: the batch dims of A {a[:-2]} and B "
                         f"{b[:-1 if vector else -2]} do not broadcast") from None
    if left:
        return _solved(A, B, vector)
    return _called(mT(_solved(mT(A), mT(B), False)), "solve")


def _solved(A: Tensor, B: Tensor, vector: bool) -> Tensor:
    """A^-1 B (B a batch of vectors if `vector`); dA = -(A^-T g) X^T (X the result),
    dB = A^-T g."""
    b = B._data[..., None] if vector else B._data
    x = lapack("solve", np.linalg.solve, A._data, b)

    def rule(g: Any, out: Any, need: list, a: Any, b: Any) -> tuple:
        g, out = (g[..., None], out[..., None]) if vector else (g, out)
        db = solve_for(mT(a), g)
        return ((-(db @ mT(out)) if need[0] else None),
                ((db[..., 0] if vector else db) if need[1] else None))
    return _node(x[..., 0] if vector else x, "solve", rule, A, B)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L, lower triangular with a positive diagonal, such that L L^T = A (U = L^T if
    `upper`), as torch.linalg.cholesky, from A's lower triangle (a LinAlgError unless A is
    positive-definite); dA = L^-T S L^-1, S the symmetric matrix whose lower triangle is
    tril(L^T gL) with its diagonal halved (PyTorch's form of Murray 2016)."""
    A = matrices("cholesky", A)
    low = lapack("cholesky", np.linalg.cholesky, A._data)

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        low, g = (mT(out), mT(g)) if upper else (out, g)
        lower = tril(mT(low) @ g)
        s = 0.5 * (lower + mT(tril(lower, -1)))
        return (solve_for(mT(low), mT(solve_for(mT(low), s))),)
    return _node(np.ascontiguousarray(mT(low)) if upper else low, "cholesky", rule, A)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> linalg_inv_ex:
    """(inverse, info) as torch.linalg.inv_ex: info (int32, one per matrix) is 0, or for a
    singular matrix the 1-based place of the first zero pivot of its LU factorization (as
    LAPACK's getrf reports it), its inverse then what those factors give (inf and nan); a
    LinAlgError instead if `check_errors`. Gradients are inv's."""
    A = matrices("inv_ex", A)
    return linalg_inv_ex(*_ex(A, inv, _lu_inverse, "inv_ex", check_errors))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False
                ) -> linalg_cholesky_ex:
    """(L, info) as torch.linalg.cholesky_ex: info (int32, one per matrix) is 0, or for a
    matrix that is not positive-definite the order of its first leading minor that is not,
    L then the factorization as far as it went (LAPACK's potf2); a LinAlgError instead if
    `check_errors`. Gradients are cholesky's."""
    A = matrices("cholesky_ex", A)
    return linalg_cholesky_ex(*_ex(A, lambda a: cholesky(a, upper=upper),
                                   lambda a: _partial_cholesky(a, upper), "cholesky_ex",
                                   check_errors))


def _ex(A: Tensor, op: Callable, fallback: Callable, name: str, check_errors: bool) -> tuple:
    """op(A) and each matrix's info: when op fails for some matrix (or gives nan), `fallback`
    gives every matrix's values and info; op then runs in the graph on A with identities in the failed
    matrices' place, whose values are fallback's (no gradient reaches them)."""
    try:
        out = op(A)
        if not np.isnan(out._data).any():  # (numpy's cholesky passes nan; potrf stops)
            return out, _leaf(np.zeros(A._data.shape[:-2], np.int32))
    except LinAlgError:
        pass
    with np.errstate(all="ignore"):  # (a singular matrix's inf and nan)
        values, info = fallback(A._data)
    if check_errors and info.any():
        k = int(np.flatnonzero(info)[0])
        where = f": (Batch element {k}):" if A._data.ndim > 2 else ":"
        raise LinAlgError(f"linalg.{name}{where} " + (
            f"The diagonal element {info.flat[k]} is zero, the inversion could not be "
            "completed because the input matrix is singular." if name == "inv_ex" else
            "The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {info.flat[k]} is not "
            "positive-definite)."))
    failed = (info > 0)[..., None, None]
    try:
        solved = op(_where(failed, np.eye(A._data.shape[-1], dtype=A._data.dtype), A))
    except LinAlgError:  # numpy's LAPACK met a zero pivot where PyTorch's (MKL) does not
        failed, solved = np.True_, A
    return _called(_where(failed, values, solved), name.removesuffix("_ex")), _leaf(info)


def _lu_inverse(a: np.ndarray) -> tuple:
    """The inverse of each matrix by LU with partial pivoting (a column at a time, as LAPACK's
    getf2, leaving a zero pivot's column unscaled) and triangular solves, and getrf's info."""
    n = a.shape[-1]
    lu = a.reshape(-1, n, n).copy()
    batch = np.arange(lu.shape[0])
    order = np.tile(np.arange(n), (lu.shape[0], 1))
    info = np.zeros(lu.shape[0], np.int32)
    for j in range(n):  # a loop over columns
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=-1)  # the first largest, as idamax
        lu[batch, j], lu[batch, p] = lu[batch, p], lu[batch, j].copy()
        order[batch, j], order[batch, p] = order[batch, p], order[batch, j].copy()
        pivot = lu[:, j, j]
        info[(pivot == 0) & (info == 0)] = j + 1
        lu[:, j + 1:, j] *= 1 / np.where(pivot == 0, 1, pivot)[:, None]  # as dscal by 1/pivot
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, None, j, j + 1:]
    x = np.eye(n, dtype=a.dtype)[order]  # P I, P the row swaps: P A = L U
    for i in range(n):  # L y = P b, then U x = y
        x[:, i] -= (lu[:, i, None, :i] @ x[:, :i])[:, 0]
    for i in reversed(range(n)):
        x[:, i] = (x[:, i] - (lu[:, i, None, i + 1:] @ x[:, i + 1:])[:, 0]) / lu[:, i, i, None]
    return x.reshape(a.shape), info.reshape(a.shape[:-2])


def _partial_cholesky(a: np.ndarray, upper: bool) -> tuple:
    """Each matrix's lower Cholesky factor (its transpose if `upper`) a column at a time, as
    LAPACK's potf2: at the first diagonal that is not positive it stops, leaving that
    diagonal and the columns after as they were (the order of that minor is the info)."""
    n = a.shape[-1]
    low = np.tril(a)
    info = np.zeros(a.shape[:-2], np.int32)
    for j in range(n):  # a loop over columns
        row = low[..., j, :j]
        diagonal = low[..., j, j] - (row[..., None, :] @ row[..., :, None])[..., 0, 0]
        going = info == 0
        info[going & ~(diagonal > 0)] = j + 1
        low[..., j, j] = np.where(going, np.where(info == 0, np.sqrt(diagonal), diagonal),
                                  low[..., j, j])
        below = (low[..., j + 1:, j] - (low[..., j + 1:, :j] @ row[..., :, None])[..., 0]
                 ) / low[..., j, j, None]
        low[..., j + 1:, j] = np.where((info == 0)[..., None], below, low[..., j + 1:, j])
    return (mT(low) if upper else low), info


__all__ = ["LinAlgError", "det", "slogdet", "inv", "solve", "cholesky", "inv_ex",
           "cholesky_ex"]
