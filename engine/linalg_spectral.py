"""torch.linalg's orthogonal decompositions: qr, eigh and eigvalsh, svd and svdvals, and
pinv, which is made from them (engine.linalg gathers them with the rest).

A decomposition has several outputs, and each is a node of its own on the input A, whose
rule sends back what that output's gradient alone gives: the rules are linear in the
gradients, so A gets what PyTorch's one backward of them all gives. A rule reads the
decomposition's other outputs from the forward pass; under create_graph=True it runs the
decomposition again on the Tensor A, so that the gradient is a graph through it.

Eigenvectors and singular vectors are fixed only up to sign, so only losses that do not
depend on the signs (a reconstruction U diag(S) Vh, squares of the vectors' entries, the
values themselves) have a gradient; the rules are PyTorch's, which give it.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from engine import shapes
from engine.linalg_solvers import eye, matrices, mT, solve_for, tril, triu
from engine.tensor import _IEEE, Tensor, _leaf, _node, _raw, _recording

linalg_qr = namedtuple("linalg_qr", ["Q", "R"])
linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])


def _graphed(A: Tensor) -> bool:
    """Whether an op on A records a node (else only the values are computed)."""
    return A.requires_grad and _recording()


def qr(A: Tensor, mode: str = "reduced") -> linalg_qr:
    """(Q, R) with Q R = A, Q's columns orthonormal and R upper triangular, as
    torch.linalg.qr: 'reduced' (Q m by k, R k by n, k = min(m, n)), 'complete' (Q m by m)
    or 'r' (R alone, Q empty); dA is PyTorch's, with M = gR R^T - Q^T gQ: (gQ + Q S) R^-T
    for m >= n, S the symmetric matrix with M's upper triangle; for m < n, R = [R1 R2],
    [Q tril(M^T - M) R1^-T, 0] + Q gR."""
    A = matrices("qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode {mode!r} is not one of 'reduced' (the default), "
                         "'complete' or 'r'")
    m, n = A._data.shape[-2:]
    if mode == "r":
        def no_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
            raise RuntimeError("linalg.qr: the derivative of R depends on Q, which mode='r' "
                               "does not compute; use mode='reduced' to differentiate")
        r = np.linalg.qr(A._data, mode="r")
        return linalg_qr(_leaf(np.zeros(0, r.dtype)), _node(r, "qr", no_rule, A))
    q, r = np.linalg.qr(A._data, mode=mode)

    def gradient(a: Any, gq: Any, gr: Any) -> Any:
        if mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: the QR decomposition is not differentiable when "
                               "mode='complete' and A has more rows than columns (its last "
                               "m - n columns of Q are not unique); use mode='reduced'")
        Q, R = qr(a) if isinstance(a, Tensor) else (q, r)
        M = -(mT(Q) @ gq) if gr is None else gr @ mT(R)
        if m >= n:
            b = Q @ (triu(M) + mT(triu(M, 1)))
            b = b if gq is None else b + gq
            return mT(solve_for(R, mT(b)))
        x = _pad_columns(mT(solve_for(R[..., :m], mT(Q @ tril(mT(M) - M)))), n)
        return x if gr is None else x + Q @ gr

    def q_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (gradient(a, g, None),)

    def r_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        return (gradient(a, None, g),)
    return linalg_qr(_node(q, "qr", q_rule, A), _node(r, "qr", r_rule, A))


def _pad_columns(x: Any, n: int) -> Any:
    """x with columns of zeros appended, up to n columns."""
    zeros = np.zeros(x.shape[:-1] + (n - x.shape[-1],), _raw(x).dtype)
    if isinstance(x, Tensor):
        return shapes.cat([x, _leaf(zeros)], -1)
    return np.concatenate([x, zeros], -1)


def eigh(A: Tensor, UPLO: str = "L") -> linalg_eigh:
    """(eigenvalues, eigenvectors) of each symmetric matrix, read from its lower triangle
    (UPLO='U': the upper), values ascending, as torch.linalg.eigh; dA = V (diag(gL) +
    skew(V^T gV) / E) V^T, skew(X) = (X - X^T) / 2, E_ij = L_j - L_i (PyTorch's)."""
    A = matrices("eigh", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    w, v = np.linalg.eigh(A._data, UPLO=UPLO)

    def factors(a: Any) -> tuple:
        return eigh(a, UPLO) if isinstance(a, Tensor) else (w, v)

    def values_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        _, V = factors(a)
        return ((V * g[..., None, :]) @ mT(V),)

    def vectors_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        L, V = factors(a)
        vg = mT(V) @ g
        gaps = L[..., None, :] - L[..., :, None] + eye(L.shape[-1], L)  # (1 where skew is 0)
        with np.errstate(**_IEEE):
            return (V @ ((vg - mT(vg)) * 0.5 / gaps) @ mT(V),)
    return linalg_eigh(_node(w, "eigh", values_rule, A), _node(v, "eigh", vectors_rule, A))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of each symmetric matrix, ascending, as torch.linalg.eigvalsh: eigh's
    first output (and its gradient, V diag(g) V^T)."""
    A = matrices("eigvalsh", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigvalsh: UPLO must be 'L' or 'U', got {UPLO!r}")
    if _graphed(A):
        return eigh(A, UPLO).eigenvalues
    return _leaf(np.linalg.eigvalsh(A._data, UPLO=UPLO))


def svd(A: Tensor, full_matrices: bool = True) -> linalg_svd:
    """(U, S, Vh) with U diag(S) Vh = A, S descending, as torch.linalg.svd; dA is PyTorch's,
    from the first k = min(m, n) columns of U and rows of Vh: U (skew(U^T gU) S / E + S
    skew(Vh gVh^T) / E + diag(gS)) Vh, skew(X) = X - X^T, E_ij = S_j^2 - S_i^2, plus
    (I - U U^T) gU S^-1 Vh when m > n and U S^-1 gVh (I - Vh^T Vh) when m < n."""
    A = matrices("svd", A, square=False)
    u, s, vh = np.linalg.svd(A._data, full_matrices=full_matrices)
    m, n = A._data.shape[-2:]
    k = min(m, n)

    def factors(a: Any) -> tuple:
        return svd_of(a) if isinstance(a, Tensor) else (u[..., :k], s, vh[..., :k, :])

    def s_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        U, _, Vh = factors(a)
        return ((U * g[..., None, :]) @ Vh,)

    def u_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        U, S, Vh = factors(a)
        g = g[..., :k]
        ug = mT(U) @ g
        with np.errstate(**_IEEE):
            inner = (ug - mT(ug)) / _gaps(S) * S[..., None, :]
            if m <= n:
                return (U @ inner @ Vh,)
            scaled = g / S[..., None, :]
            return ((U @ inner + scaled - U @ (mT(U) @ scaled)) @ Vh,)

    def vh_rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        U, S, Vh = factors(a)
        g = g[..., :k, :]
        vg = Vh @ mT(g)
        with np.errstate(**_IEEE):
            inner = S[..., :, None] * ((vg - mT(vg)) / _gaps(S))
            if m >= n:
                return (U @ inner @ Vh,)
            scaled = g / S[..., :, None]
            return (U @ (inner @ Vh + scaled - (scaled @ mT(Vh)) @ Vh),)
    return linalg_svd(_node(u, "svd", u_rule, A), _node(s, "svd", s_rule, A),
                      _node(vh, "svd", vh_rule, A))


def _gaps(S: Any) -> Any:
    """E_ij = S_j^2 - S_i^2, with 1 on the diagonal (where the skew parts are 0)."""
    squares = S * S
    return squares[..., None, :] - squares[..., :, None] + eye(S.shape[-1], S)


def svd_of(a: Any) -> tuple:
    """The reduced SVD (U, S, Vh) of an array, or of a Tensor as a graph."""
    return svd(a, full_matrices=False) if isinstance(a, Tensor) else np.linalg.svd(
        a, full_matrices=False)


def svdvals(A: Tensor) -> Tensor:
    """The singular values of each matrix, descending, as torch.linalg.svdvals: svd's S (and
    its gradient, U diag(g) Vh)."""
    A = matrices("svdvals", A, square=False)
    if _graphed(A):
        return svd(A, full_matrices=False).S
    return _leaf(np.linalg.svd(A._data, compute_uv=False))


def tolerance(A: Tensor, values: np.ndarray, atol: Any, rtol: Any) -> np.ndarray:
    """The threshold below which singular values count as 0, as PyTorch's: max(atol, rtol *
    the largest), rtol eps * max(m, n) unless atol > 0 is given."""
    atol = 0.0 if atol is None else np.asarray(_raw(atol), np.float64)
    if rtol is None:
        rtol = 0.0 if np.all(atol > 0) else np.finfo(values.dtype).eps * max(A._data.shape[-2:])
    largest = values.max(-1, initial=0.0)
    return np.maximum(atol, np.asarray(_raw(rtol), np.float64) * largest)[..., None]


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The pseudo-inverse of each matrix, as torch.linalg.pinv: A's singular values (its
    eigenvalues if `hermitian`) above max(atol, rtol * the largest) inverted, the others
    dropped; dA is PyTorch's, in P = pinv(A): for m <= n, with K = g^T P, -(P K)^T + K P^T
    - A P K P^T + P^T P (g^T - K A); for m > n, with K = P g^T, -(K P)^T + (g^T - A K) P
    P^T + P^T K - P^T K P A (right while A keeps its rank)."""
    A = matrices("pinv", A, square=hermitian)
    if hermitian:
        w, v = np.linalg.eigh(A._data)
        size = np.abs(w)
        left, right = v, mT(v)
    else:
        u, size, vh = np.linalg.svd(A._data, full_matrices=False)
        w, left, right = size, mT(vh), mT(u)
    with np.errstate(divide="ignore"):
        inverted = np.where(size > tolerance(A, size, atol, rtol), 1 / w, 0)
    data = (left * inverted[..., None, :]) @ right
    m, n = A._data.shape[-2:]

    def rule(g: Any, out: Any, need: list, a: Any) -> tuple:
        p, gt = out, mT(g)
        if m <= n:
            K = gt @ p
            KP = K @ mT(p)
            return (-mT(p @ K) + KP - (a @ p) @ KP + (mT(p) @ p) @ (gt - K @ a),)
        K = p @ gt
        PK = mT(p) @ K
        return (-mT(K @ p) + (gt - a @ K) @ p @ mT(p) + PK - PK @ p @ a,)
    return _node(data, "pinv", rule, A)


def matrix_rank(A: Tensor, tol: Any = None, hermitian: bool = False, *, atol: Any = None,
                rtol: Any = None) -> Tensor:
    """How many singular values (|eigenvalues| if `hermitian`) of each matrix are above
    max(atol, rtol * the largest), as torch.linalg.matrix_rank (int64; `tol` is an atol
    with rtol 0, PyTorch's older form); no gradient."""
    A = matrices("matrix_rank", A, square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    data = A._data
    size = (np.abs(np.linalg.eigvalsh(data)) if hermitian
            else np.linalg.svd(data, compute_uv=False))
    return _leaf((size > tolerance(A, size, atol, rtol)).sum(-1, dtype=np.int64))


__all__ = ["qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_rank"]
